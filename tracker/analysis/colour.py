"""Colour maths for the whole analysis: the sRGB curve, XYZ, CIELAB and CIEDE2000, in one place.

All functions take and return float arrays; images are RGB, shape (..., 3).
"sRGB" means the display-encoded values in [0, 1]; "linear" means linear-light
sRGB primaries (D65) in [0, 1], where ratios and logarithms are meaningful.
There is one linear-sRGB-to-XYZ matrix (scikit-image's) and one CIEDE2000
(scikit-image's, checked against Sharma, Wu & Dalal's published test pairs).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
from skimage import color as _skcolor
from skimage.color.colorconv import xyz_from_rgb as _xyz_from_rgb

#: Linear sRGB (D65) to CIE XYZ (Y of white = 1), IEC 61966-2-1: scikit-image's ``rgb2xyz`` matrix.
XYZ_FROM_LINEAR: np.ndarray = np.array(_xyz_from_rgb, dtype=np.float64)
XYZ_FROM_LINEAR.setflags(write=False)
#: XYZ of the D65 white (linear RGB 1, 1, 1).
WHITE_D65_XYZ: np.ndarray = XYZ_FROM_LINEAR.sum(axis=1)
WHITE_D65_XYZ.setflags(write=False)

# sRGB transfer curve (IEC 61966-2-1): linear below the knee, a 2.4 power above it.
_DECODE_KNEE = 0.04045
_ENCODE_KNEE = 0.0031308


def _decode_curve(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.where(x <= _DECODE_KNEE, x / 12.92, ((np.maximum(x, _DECODE_KNEE) + 0.055) / 1.055) ** 2.4)


#: Linear light of every 8-bit code: one table look-up per pixel instead of a power.
_LINEAR_OF_U8 = _decode_curve(np.arange(256) / 255.0).astype(np.float32)


@functools.cache
def _linear_of_u16() -> np.ndarray:
    return _decode_curve(np.arange(65536) / 65535.0).astype(np.float32)


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """Decode sRGB-encoded values to linear light (IEC 61966-2-1), float32.

    Float input is read as [0, 1]; uint8 and uint16 input as code values
    (0-255, 0-65535), decoded through a lookup table (exact, and several times
    faster than the power on a 12 MP image).

    >>> round(float(srgb_to_linear(np.array([0.5]))[0]), 4)
    0.214
    >>> float(srgb_to_linear(np.array([255], np.uint8))[0]), round(float(srgb_to_linear(np.array([128], np.uint8))[0]), 4)
    (1.0, 0.2159)
    """
    arr = np.asarray(srgb)
    if arr.dtype == np.uint8:
        flat = np.ascontiguousarray(arr).reshape(-1)
        return cv2.LUT(flat, _LINEAR_OF_U8).reshape(arr.shape)
    if arr.dtype == np.uint16:
        return _linear_of_u16()[arr]
    x = np.ascontiguousarray(arr, dtype=np.float32).reshape(-1)
    # OpenCV's vectorised power is ~7x numpy's; the knee's linear part is copied in after.
    base = np.maximum(x, np.float32(_DECODE_KNEE)) * np.float32(1 / 1.055) + np.float32(0.055 / 1.055)
    out = cv2.pow(base, 2.4).reshape(-1)
    np.copyto(out, x * np.float32(1 / 12.92), where=x <= _DECODE_KNEE)
    return out.reshape(arr.shape)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Encode linear-light values in [0, 1] to sRGB (clipped to [0, 1]), float32.

    >>> round(float(linear_to_srgb(np.array([0.214]))[0]), 3)
    0.5
    """
    arr = np.asarray(linear)
    # One buffer, worked in place; the few values below the knee are set aside first, rewritten last.
    out = np.clip(np.ascontiguousarray(arr, dtype=np.float32).reshape(-1), 0.0, 1.0)
    dark = np.flatnonzero(out <= _ENCODE_KNEE)
    dark_encoded = out[dark] * np.float32(12.92)
    np.maximum(out, np.float32(_ENCODE_KNEE), out=out)
    cv2.pow(out, 1 / 2.4, dst=out)
    out *= np.float32(1.055)
    out -= np.float32(0.055)
    out[dark] = dark_encoded
    return out.reshape(arr.shape)


def linear_to_lab(linear: np.ndarray) -> np.ndarray:
    """Linear sRGB (D65) to CIELAB (D65 white), L in [0, 100]."""
    xyz = _skcolor.rgb2xyz(linear_to_srgb(linear))
    return _skcolor.xyz2lab(xyz).astype(np.float32)


def linear_to_lab_unclipped(linear: np.ndarray) -> np.ndarray:
    """Linear sRGB (D65) to CIELAB in float64 without clipping to [0, 1]: smooth, for fits that optimise
    colour differences (a corrected patch may leave the gamut on the way).

    >>> np.round(linear_to_lab_unclipped(np.array([1.0, 1.0, 1.0])), 6).tolist()
    [100.0, 0.0, 0.0]
    """
    xyz = np.maximum(np.asarray(linear, dtype=np.float64) @ XYZ_FROM_LINEAR.T, 0.0) / WHITE_D65_XYZ
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def delta_e_2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference between two arrays of CIELAB colours.

    >>> lab = np.array([[50.0, 10.0, 10.0]])
    >>> float(delta_e_2000(lab, lab)[0])
    0.0
    """
    return _skcolor.deltaE_ciede2000(np.asarray(lab1, dtype=np.float64), np.asarray(lab2, dtype=np.float64))
