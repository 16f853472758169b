"""Colour-space conversions and colour differences used across the analysis.

All functions take and return float arrays; images are RGB, shape (..., 3).
"sRGB" means the display-encoded values in [0, 1]; "linear" means linear-light
sRGB primaries (D65) in [0, 1], where ratios and logarithms are meaningful.
"""

from __future__ import annotations

import numpy as np
from skimage import color as _skcolor


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """Decode sRGB-encoded values in [0, 1] to linear light (IEC 61966-2-1).

    >>> round(float(srgb_to_linear(np.array([0.5]))[0]), 4)
    0.214
    """
    srgb = np.asarray(srgb, dtype=np.float32)
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Encode linear-light values in [0, 1] to sRGB (clipped to [0, 1]).

    >>> round(float(linear_to_srgb(np.array([0.214]))[0]), 3)
    0.5
    """
    linear = np.clip(np.asarray(linear, dtype=np.float32), 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055).astype(np.float32)


def linear_to_lab(linear: np.ndarray) -> np.ndarray:
    """Linear sRGB (D65) to CIELAB (D65 white), L in [0, 100]."""
    xyz = _skcolor.rgb2xyz(linear_to_srgb(linear))
    return _skcolor.xyz2lab(xyz).astype(np.float32)


def delta_e_2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference between two arrays of CIELAB colours.

    >>> lab = np.array([[50.0, 10.0, 10.0]])
    >>> float(delta_e_2000(lab, lab)[0])
    0.0
    """
    return _skcolor.deltaE_ciede2000(np.asarray(lab1, dtype=np.float64), np.asarray(lab2, dtype=np.float64))
