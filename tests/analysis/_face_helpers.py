"""Real portraits and known changes made from them (pseudo-longitudinal pairs; ground truth made here)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from tracker.simulate.recapture import turn_homography

from ..conftest import REAL_DATA_DIR
from ._align_helpers import change_light

__all__ = ["FACES_DIR", "PORTRAITS", "jpeg_again", "load_portrait", "pseudo_photo", "smile", "turn_homography"]

FACES_DIR = REAL_DATA_DIR / "interfaces_cc0_faces"
PORTRAITS = sorted(p.name for p in FACES_DIR.glob("*.jpg")) if FACES_DIR.is_dir() else []


@lru_cache(maxsize=8)
def load_portrait(name: str) -> np.ndarray:
    """A shared portrait as float32 sRGB in [0, 1] (read-only)."""
    bgr = cv2.imread(str(Path(FACES_DIR) / name), cv2.IMREAD_COLOR)
    assert bgr is not None, name
    srgb = np.ascontiguousarray(bgr[:, :, ::-1], dtype=np.float32) / 255.0
    srgb.flags.writeable = False
    return srgb


def jpeg_again(srgb: np.ndarray, quality: int = 80) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", (srgb[:, :, ::-1] * 255).round().astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return np.ascontiguousarray(cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1], dtype=np.float32) / 255.0


def pseudo_photo(base: np.ndarray, truth: np.ndarray, *, light: bool, quality: int = 80) -> np.ndarray:
    """The baseline seen through the known warp ``truth`` (baseline -> photo), maybe under other light, re-encoded."""
    h, w = base.shape[:2]
    photo = cv2.warpPerspective(np.ascontiguousarray(base), truth, (w, h), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REFLECT)
    if light:
        photo = change_light(photo, exposure=0.7, cast=(1.0, 0.9, 0.75))
    return jpeg_again(np.clip(photo, 0, 1), quality)


def smile(srgb: np.ndarray, points_xy: np.ndarray, *, amount: float = 0.08) -> np.ndarray:
    """The mouth corners pulled out and up by ``amount`` of the eye span (a smile-like change)."""
    span = float(np.linalg.norm(points_xy[263] - points_xy[33]))
    h, w = srgb.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x, map_y = xx.copy(), yy.copy()
    for index, side in ((61, -1.0), (291, 1.0)):
        cx, cy = points_xy[index]
        bump = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (0.12 * span) ** 2))
        map_x -= side * amount * span * bump
        map_y += 0.6 * amount * span * bump
    return cv2.remap(np.ascontiguousarray(srgb), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
