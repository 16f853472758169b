"""HEIC/HEIF photos (iPhones) for Pillow: switched on here, once, for every decoder.

Imported for its effect by :mod:`tracker.analysis.decode` and by the intake's
checks (:mod:`tracker.services.imaging`), which must stay light (no OpenCV) in
their resource-limited child process.
"""

from __future__ import annotations

import pillow_heif

pillow_heif.register_heif_opener()
