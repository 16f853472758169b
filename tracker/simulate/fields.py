"""Random fields and drawing primitives shared by the scene generators."""

from __future__ import annotations

import cv2
import numpy as np


def gaussian_blur(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian blur (reflecting border) of a float32 image; sigma in pixels, 0 = copy."""
    if sigma_px <= 0:
        return image.astype(np.float32, copy=True)
    return cv2.GaussianBlur(image.astype(np.float32), (0, 0), sigmaX=sigma_px, sigmaY=sigma_px, borderType=cv2.BORDER_REFLECT)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma_px: float) -> np.ndarray:
    """Gaussian-correlated noise with zero mean and unit standard deviation, float32 (H, W).

    Large correlation lengths are generated on a coarse grid and upsampled, which is
    much cheaper than a large blur at full resolution and looks the same.
    """
    h, w = shape
    factor = max(1.0, sigma_px / 4.0)
    ch, cw = max(4, int(np.ceil(h / factor)) + 4), max(4, int(np.ceil(w / factor)) + 4)
    coarse = gaussian_blur(rng.standard_normal((ch, cw)).astype(np.float32), sigma_px / factor)
    # Upsample the coarse grid so that its pixel k lands at fine position k*factor.
    matrix = np.array([[1.0 / factor, 0.0, 0.5 / factor - 0.5 + 2.0], [0.0, 1.0 / factor, 0.5 / factor - 0.5 + 2.0]])
    field = cv2.warpAffine(coarse, matrix, (w, h), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
    field -= field.mean()
    std = float(field.std())
    return (field / std if std > 0 else field).astype(np.float32)


def splat(canvas: np.ndarray, xy: np.ndarray, weights: np.ndarray) -> None:
    """Add point weights to a float canvas with bilinear splatting (in place); points are (x, y) pixels."""
    h, w = canvas.shape
    x = xy[:, 0]
    y = xy[:, 1]
    x0 = np.floor(x).astype(np.int64)
    y0 = np.floor(y).astype(np.int64)
    fx = x - x0
    fy = y - y0
    for dx, dy, wt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        xi = x0 + dx
        yi = y0 + dy
        ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        np.add.at(canvas, (yi[ok], xi[ok]), (weights * wt)[ok])


def curve_points(
    start: np.ndarray, end: np.ndarray, bend: float, *, spacing_px: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    """Points along a quadratic curve from start to end, bent sideways by ``bend`` x length.

    Returns the points (n, 2) and their curve parameter t in [0, 1].
    """
    chord = end - start
    length = float(np.hypot(*chord))
    normal = np.array([-chord[1], chord[0]]) / max(length, 1e-9)
    control = (start + end) / 2 + 2.0 * bend * length * normal
    n = max(2, int(np.ceil(length * 1.2 / spacing_px)))
    t = np.linspace(0.0, 1.0, n)[:, None]
    pts = (1 - t) ** 2 * start + 2 * (1 - t) * t * control + t**2 * end
    return pts, t[:, 0]


def line_profile(
    shape: tuple[int, int], pts: np.ndarray, weight: np.ndarray, sigma_px: float
) -> np.ndarray:
    """A Gaussian-section ridge along a sampled curve: peak ~= weight, width sigma (px).

    The curve is splatted with its arc-length density and blurred; the blur of a
    unit-density line has peak 1/(sqrt(2 pi) sigma), which is divided out.
    """
    canvas = np.zeros(shape, np.float32)
    step = np.r_[0.0, np.hypot(*np.diff(pts, axis=0).T)]
    splat(canvas, pts, (weight * step).astype(np.float32))
    sigma = max(sigma_px, 0.7)
    return gaussian_blur(canvas, sigma) * np.float32(np.sqrt(2 * np.pi) * sigma)
