"""Display-size versions of stored overlay images, for pages that show them at screen size.

Overlays made before 2026-12 are stored as PNGs of 2-3 MB each; the compare page shows
them at most a screen wide, so it gets a JPEG no longer than :data:`DISPLAY_LONG_SIDE`
(about 0.2-0.3 MB), and the full PNG only when the viewer zooms in. Nothing new is
stored: versions are made on request and kept in a small in-process cache. Overlays
made since are JPEGs of the display size already, and are served as stored (a second
JPEG encoding would only lose detail).
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict

from PIL import Image

from tracker.storage import Storage

#: Long side of a display version, px (a 1024 px tablet at 1.5x pixel ratio).
DISPLAY_LONG_SIDE = 1600
JPEG_QUALITY = 85
_CACHE_SIZE = 48

_cache: OrderedDict[str, bytes] = OrderedDict()
_lock = threading.Lock()


def display_jpeg(storage: Storage, key: str) -> bytes:
    """The stored image ``key`` as a JPEG no longer than :data:`DISPLAY_LONG_SIDE` on its long side."""
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    stored = storage.read(key)
    with Image.open(io.BytesIO(stored)) as im:
        if im.format == "JPEG" and max(im.size) <= DISPLAY_LONG_SIDE:
            return stored
        rgb = im.convert("RGB")
        rgb.thumbnail((DISPLAY_LONG_SIDE, DISPLAY_LONG_SIDE), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        rgb.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
    data = buf.getvalue()
    with _lock:
        _cache[key] = data
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return data
