"""Real portraits and known changes made from them (pseudo-longitudinal pairs; ground truth made here)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ..conftest import REAL_DATA_DIR
from ._align_helpers import change_light

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


def turn_homography(shape: tuple[int, int], *, yaw_deg: float, scale: float = 1.0,
                    shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """3x3 baseline -> photo: the camera turned about the vertical axis (yaw-like foreshortening
    of the face's plane, focal length 1.2x the width), then zoomed about the centre and shifted (px)."""
    h, w = shape
    f = 1.2 * w
    k = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1.0]])
    t = np.radians(yaw_deg)
    r = np.array([[np.cos(t), 0, np.sin(t)], [0, 1, 0], [-np.sin(t), 0, np.cos(t)]])
    zoom = np.array([[scale, 0, (1 - scale) * w / 2 + shift[0]], [0, scale, (1 - scale) * h / 2 + shift[1]], [0, 0, 1.0]])
    m = zoom @ k @ r @ np.linalg.inv(k)
    return m / m[2, 2]


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
