"""Encoding simulated photographs as files (what an upload would contain)."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

SUBSAMPLINGS: tuple[str, ...] = ("4:4:4", "4:2:2", "4:2:0")


def _check_srgb(srgb: np.ndarray) -> np.ndarray:
    srgb = np.asarray(srgb)
    if srgb.ndim != 3 or srgb.shape[2] != 3:
        raise ValueError(f"srgb must have shape (H, W, 3), got {srgb.shape}")
    if not np.issubdtype(srgb.dtype, np.floating):
        raise TypeError(f"srgb must be float in [0, 1], got {srgb.dtype}")
    return np.clip(srgb, 0.0, 1.0)


def encode_jpeg(srgb: np.ndarray, *, quality: int = 92, subsampling: str = "4:2:0") -> bytes:
    """Encode an sRGB float image (H, W, 3) in [0, 1] as baseline JPEG bytes (Pillow).

    >>> encode_jpeg(np.zeros((8, 8, 3), np.float32))[:2] == b"\\xff\\xd8"
    True
    """
    srgb = _check_srgb(srgb)
    if not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ValueError(f"quality must be an int in [1, 100], got {quality!r}")
    if subsampling not in SUBSAMPLINGS:
        raise ValueError(f"subsampling must be one of {SUBSAMPLINGS}, got {subsampling!r}")
    buf = io.BytesIO()
    Image.fromarray(np.round(srgb * 255.0).astype(np.uint8)).save(
        buf, format="JPEG", quality=quality, subsampling=subsampling
    )
    return buf.getvalue()


def encode_png(srgb: np.ndarray, *, bits: int = 8) -> bytes:
    """Encode an sRGB float image (H, W, 3) in [0, 1] as an 8- or 16-bit PNG.

    >>> encode_png(np.zeros((4, 4, 3), np.float32), bits=16)[:4] == b"\\x89PNG"
    True
    """
    srgb = _check_srgb(srgb)
    if bits not in (8, 16):
        raise ValueError(f"bits must be 8 or 16, got {bits!r}")
    top = 255.0 if bits == 8 else 65535.0
    data = np.round(srgb * top).astype(np.uint8 if bits == 8 else np.uint16)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(data, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError("OpenCV could not encode the PNG")
    return buf.tobytes()
