"""Input checks shared by the measures: each names the bad argument in its error."""

from __future__ import annotations

import numpy as np


def check_linear_rgb(linear: object, name: str = "linear") -> np.ndarray:
    """A float (H, W, 3) linear-RGB image, as float32.

    >>> check_linear_rgb(np.zeros((2, 2, 3))).dtype
    dtype('float32')
    """
    if not isinstance(linear, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(linear).__name__}")
    if linear.ndim != 3 or linear.shape[2] != 3:
        raise ValueError(f"{name} must have shape (H, W, 3), got {linear.shape}")
    if not np.issubdtype(linear.dtype, np.floating):
        raise TypeError(f"{name} must be a float array in [0, 1], got dtype {linear.dtype}")
    return linear.astype(np.float32, copy=False)


def check_region(region: object, shape: tuple[int, ...], name: str = "region") -> np.ndarray:
    """A non-empty boolean mask of the given shape.

    >>> check_region(np.ones((2, 2), bool), (2, 2)).shape
    (2, 2)
    """
    if not isinstance(region, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(region).__name__}")
    if region.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {region.shape}")
    if region.dtype != bool:
        raise TypeError(f"{name} must be a boolean mask, got dtype {region.dtype}")
    if not region.any():
        raise ValueError(f"{name} is empty: no pixel to measure")
    return region


def check_px_per_mm(px_per_mm: float | None) -> float | None:
    """A positive finite scale, or None when unknown."""
    if px_per_mm is not None and not (np.isfinite(px_per_mm) and px_per_mm > 0):
        raise ValueError(f"px_per_mm must be positive or None, got {px_per_mm}")
    return px_per_mm
