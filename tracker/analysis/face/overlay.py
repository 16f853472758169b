"""A picture of the regions over the photo, for people to check them by eye."""

from __future__ import annotations

import cv2
import numpy as np

from tracker.analysis.face.regions import REGION_KEYS, FaceRegions

__all__ = ["REGION_COLOURS", "draw_regions"]

#: sRGB colours of the regions in overlays and legends.
REGION_COLOURS = {
    "forehead": (1.0, 0.78, 0.0),
    "cheek_left": (0.0, 0.78, 1.0),
    "cheek_right": (0.0, 0.47, 1.0),
    "nose": (1.0, 0.0, 1.0),
    "chin": (0.0, 1.0, 0.0),
    "perioral": (1.0, 1.0, 0.0),
    "periorbital_left": (1.0, 0.0, 0.0),
    "periorbital_right": (0.47, 0.0, 1.0),
}


def draw_regions(srgb: np.ndarray, regions: FaceRegions, *, alpha: float = 0.45) -> np.ndarray:
    """The photo with each region tinted and outlined, and the excluded features darkened.

    Returns float32 sRGB in [0, 1], the size of ``srgb``.
    """
    out = np.array(srgb, dtype=np.float32, copy=True)
    out[regions.features] *= 0.45
    thickness = max(1, round(max(out.shape[:2]) / 500))
    for key in REGION_KEYS:
        mask = regions.masks[key]
        colour = np.array(REGION_COLOURS[key], dtype=np.float32)
        out[mask] = (1 - alpha) * out[mask] + alpha * colour
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, tuple(float(c) for c in colour), thickness)
    return np.clip(out, 0.0, 1.0)
