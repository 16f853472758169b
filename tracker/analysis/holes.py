"""Hole filling by one flood fill: ``scipy.ndimage.binary_fill_holes``'s result, in a fraction of its time.

SciPy fills holes by dilating the background in from the border until nothing
changes, one pass per pixel of the widest hole or background; on a 3 MP mask that
took tens of milliseconds. Flooding the background from outside the border in one
sweep reaches the same pixels: those joined to the border through background, by
their four neighbours (SciPy's default structure). Everything else is inside.
"""

from __future__ import annotations

import cv2
import numpy as np

_OUTSIDE = 2


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """``mask`` with every background area that does not reach the border (4-connected) filled.

    Examples
    --------
    >>> ring = np.zeros((5, 5), bool); ring[1:4, 1:4] = True; ring[2, 2] = False
    >>> bool(fill_holes(ring)[2, 2]), bool(fill_holes(ring)[0, 0])
    (True, False)
    """
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    h, w = mask.shape
    # A ring of background around the image joins every border pixel to the start of the flood.
    image = np.zeros((h + 2, w + 2), np.uint8)
    image[1:-1, 1:-1] = mask
    flood_mask = np.zeros((h + 4, w + 4), np.uint8)
    cv2.floodFill(image, flood_mask, (0, 0), _OUTSIDE, 0, 0, 4)
    filled: np.ndarray = image[1:-1, 1:-1] != _OUTSIDE
    return filled
