"""Repeat captures of real photos, compared: the pairs the real-photo MDC tables are estimated from.

Each pair is two simulated captures (:mod:`tracker.simulate.recapture`) of one original with
no change of the skin, so whatever the comparison reports is measurement error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np


def repeat_comparisons(
    originals: Sequence[np.ndarray], *, seed: int, light: bool, per_original: int, view: str,
    progress: Callable[[int, int], None] = lambda i, n: None,
) -> Iterator[dict[str, Any] | None]:
    """The comparison (``to_dict`` form) of each repeat pair, or None where the pair was refused.

    ``light`` varies exposure and white balance as well as pose, framing and JPEG quality.
    """
    from tracker.analysis import analyze_photo
    from tracker.simulate.recapture import random_recapture, recapture

    rng = np.random.default_rng(seed)
    total, done = len(originals) * per_original, 0
    for srgb in originals:
        for _ in range(per_original):
            base = recapture(srgb, random_recapture(rng, light=light))
            photo = recapture(srgb, random_recapture(rng, light=light))
            result = analyze_photo(photo, baseline=base, view=view).to_dict()
            done += 1
            progress(done, total)
            yield result["comparison"]
