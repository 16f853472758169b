"""Photograph a real photo again: another pose, light, exposure and JPEG, and nothing else.

Used for pseudo-longitudinal pairs: the skin cannot have changed, so every
difference a measure reports is the measurement's own (repeat captures for the
MDC), and the geometry is known exactly (alignment tests). The pose change is a
homography: the camera turned about the vertical axis (foreshortening like a
head turned a little), zoomed about the centre and shifted.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tracker.analysis.colour import linear_to_srgb, srgb_to_linear

__all__ = ["Recapture", "random_recapture", "recapture", "turn_homography"]


def turn_homography(
    shape: tuple[int, int], *, yaw_deg: float, scale: float = 1.0, shift: tuple[float, float] = (0.0, 0.0),
    roll_deg: float = 0.0,
) -> np.ndarray:
    """3x3 original -> new photo: the camera turned by ``yaw_deg`` about the vertical axis
    (focal length 1.2x the width), then rolled, zoomed about the centre and shifted (px)."""
    h, w = shape
    f = 1.2 * w
    k = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1.0]])
    t = np.radians(yaw_deg)
    r = np.array([[np.cos(t), 0, np.sin(t)], [0, 1, 0], [-np.sin(t), 0, np.cos(t)]])
    roll = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), roll_deg, scale), [0, 0, 1.0]])
    roll[:2, 2] += shift
    m = roll @ k @ r @ np.linalg.inv(k)
    return m / m[2, 2]


@dataclass(frozen=True)
class Recapture:
    """The conditions of one simulated capture of an original photo."""

    yaw_deg: float = 0.0
    roll_deg: float = 0.0
    scale: float = 1.0
    shift_px: tuple[float, float] = (0.0, 0.0)
    exposure: float = 1.0
    cast: tuple[float, float, float] = (1.0, 1.0, 1.0)
    jpeg_quality: int = 92

    def homography(self, shape: tuple[int, int]) -> np.ndarray:
        return turn_homography(shape, yaw_deg=self.yaw_deg, scale=self.scale, shift=self.shift_px,
                               roll_deg=self.roll_deg)


def recapture(srgb: np.ndarray, conditions: Recapture) -> bytes:
    """The original (float sRGB) photographed again under ``conditions``, as JPEG bytes."""
    h, w = srgb.shape[:2]
    photo = cv2.warpPerspective(np.ascontiguousarray(srgb, dtype=np.float32), conditions.homography((h, w)), (w, h),
                                flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    lin = srgb_to_linear(photo) * np.float32(conditions.exposure) * np.asarray(conditions.cast, np.float32)
    out = np.round(linear_to_srgb(np.clip(lin, 0.0, 1.0)) * 255.0).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", out[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, conditions.jpeg_quality])
    if not ok:  # pragma: no cover - OpenCV fails only on invalid arrays
        raise ValueError("could not encode the recapture")
    return data.tobytes()


def random_recapture(rng: np.random.Generator, *, light: bool) -> Recapture:
    """A repeat capture at a clinic: a few degrees of pose, small framing changes, exposure and
    (when ``light``) a slight change of white balance, JPEG quality 85-95."""
    cast = (1.0, 1.0, 1.0)
    exposure = 1.0
    if light:
        exposure = float(rng.uniform(0.75, 1.15))
        cast = (1.0, float(rng.uniform(0.95, 1.05)), float(rng.uniform(0.9, 1.1)))
    return Recapture(
        yaw_deg=float(rng.uniform(-4.0, 4.0)),
        roll_deg=float(rng.uniform(-3.0, 3.0)),
        scale=float(rng.uniform(0.95, 1.05)),
        shift_px=(float(rng.uniform(-20, 20)), float(rng.uniform(-20, 20))),
        exposure=exposure,
        cast=cast,
        jpeg_quality=int(rng.integers(85, 96)),
    )
