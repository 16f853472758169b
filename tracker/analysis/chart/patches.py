"""The chart's patches: reference colours in linear light and CIELAB, a detection's sampled
patches (:class:`ChartDetection`), and patch positions as normalised image coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.analysis.chart_reference import CHART_COLS, CHART_ROWS, REFERENCE_SRGB
from tracker.analysis.colour import linear_to_lab_unclipped, srgb_to_linear

N_PATCHES = CHART_ROWS * CHART_COLS

#: Reference patch colours in linear light, shape (24, 3).
REFERENCE_LINEAR: np.ndarray = srgb_to_linear(REFERENCE_SRGB).astype(np.float64)

#: Reference patch colours in CIELAB (D65), shape (24, 3).
REFERENCE_LAB: np.ndarray = linear_to_lab_unclipped(REFERENCE_LINEAR)

# Patch side / patch pitch when nothing better is known (Classic ~0.9, Mini ~0.83);
# refined from the image for every chart.
DEFAULT_PATCH_FRACTION = (0.86, 0.86)


@dataclass(frozen=True, eq=False)
class ChartDetection:
    """A ColorChecker found in (or marked on) a photo.

    Attributes
    ----------
    corners : ndarray, shape (4, 2), float64
        Image pixel coordinates (x, y) of the patch grid's outer edge in the order
        TL, TR, BR, BL of the upright chart: TL is the "dark skin" patch's outer
        corner, the greys run along BL-BR.
    patch_linear : ndarray, shape (24, 3), float64
        Robust (trimmed) mean linear RGB of each patch's inner area, in
        reference order (``chart_reference.PATCH_NAMES``); 0 for patches out of frame.
    patch_clipped : ndarray, shape (24,), bool
        Patch has clipped or crushed pixels or lies (partly) out of frame: exclude from fits.
    patch_centres : ndarray, shape (24, 2), float64
        Patch centres, image px.
    chart_mask : ndarray, shape (H, W), bool
        The whole chart including its frame, dilated a little.
    source : str
        "detected" (found by ``cv2.mcc``) or "corners" (caller-supplied corners).
    patch_fraction : tuple of float
        Patch width and height as fractions of the patch pitch, measured on the image (0.5-1).
    pitch_px : float
        Mean patch pitch in image px.
    orientation_margin : float
        Mean CIEDE2000 of the second-best orientation minus the best (large = unambiguous).
    """

    corners: np.ndarray
    patch_linear: np.ndarray
    patch_clipped: np.ndarray
    patch_centres: np.ndarray
    chart_mask: np.ndarray
    source: str
    patch_fraction: tuple[float, float] = DEFAULT_PATCH_FRACTION
    pitch_px: float = 0.0
    orientation_margin: float = 0.0
# ----------------------------------------------------------------------------- inputs


def check_image(image: np.ndarray, name: str) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{name}: expected shape (H, W, 3), got {image.shape}")
    if not np.issubdtype(image.dtype, np.floating):
        raise TypeError(f"{name}: expected float RGB in [0, 1], got dtype {image.dtype}")
    if image.shape[0] < 16 or image.shape[1] < 16:
        raise ValueError(f"{name}: image too small ({image.shape[1]}x{image.shape[0]} px)")
    return image.astype(np.float32, copy=False)


def normalised_coordinates(image_shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Normalised coordinates of the pixel centres of an image.

    Returns ``u`` (W,) and ``v`` (H,), each running from -1 at the first pixel
    centre to +1 at the last: the coordinates of the illumination term.

    >>> u, v = normalised_coordinates((3, 5))
    >>> u.tolist(), v.tolist()
    ([-1.0, -0.5, 0.0, 0.5, 1.0], [-1.0, 0.0, 1.0])
    """
    h, w = int(image_shape[0]), int(image_shape[1])
    u = np.linspace(-1.0, 1.0, w) if w > 1 else np.zeros(1)
    v = np.linspace(-1.0, 1.0, h) if h > 1 else np.zeros(1)
    return u, v


def patch_uv(centres: np.ndarray, image_shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    h, w = image_shape
    u = 2.0 * centres[:, 0] / max(w - 1, 1) - 1.0
    v = 2.0 * centres[:, 1] / max(h - 1, 1) - 1.0
    return u, v
