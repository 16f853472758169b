"""Bounding boxes of masks: the crops the measures and the face work are computed in."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["region_box"]


def region_box(region: np.ndarray, *, margin_px: float = 0.0) -> tuple[slice, slice]:
    """Rows and columns holding every pixel of ``region``, grown by ``margin_px`` inside the frame.

    The margin is rounded up to whole pixels; an empty region gives the whole frame.

    >>> region = np.zeros((6, 8), bool); region[2:4, 3:5] = True
    >>> region_box(region)
    (slice(2, 4, None), slice(3, 5, None))
    >>> region_box(region, margin_px=2.5)
    (slice(0, 6, None), slice(0, 8, None))
    """
    rows, cols = region.shape
    mask = region.view(np.uint8) if region.dtype == bool else region.astype(np.uint8)
    x, y, w, h = cv2.boundingRect(np.ascontiguousarray(mask))  # of the nonzero pixels
    if w == 0:
        return slice(0, rows), slice(0, cols)
    m = int(np.ceil(margin_px))
    return slice(max(0, y - m), min(rows, y + h + m)), slice(max(0, x - m), min(cols, x + w + m))
