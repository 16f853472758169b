"""The chart's patches: reference colours in linear light and CIELAB, a detection's sampled
patches (:class:`ChartDetection`), and patch positions as normalised image coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.analysis.chart_reference import CHART_COLS, CHART_ROWS, REFERENCE_SRGB
from tracker.analysis.colour import srgb_to_linear

N_PATCHES = CHART_ROWS * CHART_COLS

#: Reference patch colours in linear light, shape (24, 3).
REFERENCE_LINEAR: np.ndarray = srgb_to_linear(REFERENCE_SRGB).astype(np.float64)
# Linear sRGB (D65) to CIE XYZ, as scikit-image's rgb2xyz uses it.
_XYZ_FROM_LINEAR = np.array(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]]
)


_WHITE_D65 = _XYZ_FROM_LINEAR.sum(axis=1)


def lab_unclipped(linear: np.ndarray) -> np.ndarray:
    """Linear sRGB (D65) to CIELAB in float64, unclipped: smooth enough to optimise."""
    xyz = np.maximum(np.asarray(linear, dtype=np.float64) @ _XYZ_FROM_LINEAR.T, 0.0) / _WHITE_D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 (Sharma, Wu & Dalal 2005), vectorised; equals colour.delta_e_2000 without its overhead."""
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dlp, dcp = l2 - l1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dhp = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    lbp, cbp = (l1 + l2) / 2, (c1p + c2p) / 2
    hsum = h1p + h2p
    hbp = np.where(np.abs(h1p - h2p) > 180, np.where(hsum < 360, hsum + 360, hsum - 360), hsum) / 2
    hbp = np.where(c1p * c2p == 0, hsum, hbp)
    t = (
        1 - 0.17 * np.cos(np.radians(hbp - 30)) + 0.24 * np.cos(np.radians(2 * hbp))
        + 0.32 * np.cos(np.radians(3 * hbp + 6)) - 0.20 * np.cos(np.radians(4 * hbp - 63))
    )
    sl = 1 + 0.015 * (lbp - 50) ** 2 / np.sqrt(20 + (lbp - 50) ** 2)
    sc = 1 + 0.045 * cbp
    sh = 1 + 0.015 * cbp * t
    rt = -2 * np.sqrt(cbp**7 / (cbp**7 + 25.0**7)) * np.sin(np.radians(60 * np.exp(-(((hbp - 275) / 25) ** 2))))
    return np.sqrt(
        (dlp / sl) ** 2 + (dcp / sc) ** 2 + (dhp / sh) ** 2 + rt * (dcp / sc) * (dhp / sh)
    )


#: Reference patch colours in CIELAB (D65), shape (24, 3).
REFERENCE_LAB: np.ndarray = lab_unclipped(REFERENCE_LINEAR)

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
