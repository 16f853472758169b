"""Metadata of photo files read from their headers: JPEG quality, EXIF orientation and time.

Nothing here decodes pixels; :mod:`tracker.analysis.decode` uses it to fill
:class:`~tracker.analysis.decode.DecodedImage`'s metadata.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

import numpy as np
from PIL import Image

__all__ = [
    "ImageDecodeError",
    "apply_orientation",
    "estimate_jpeg_quality",
    "exif_datetime",
    "orientation_tag",
    "read_exif",
]


class ImageDecodeError(ValueError):
    """The bytes are not a usable image: unreadable, empty, truncated, corrupt or too large."""


# IJG (libjpeg) example tables, natural (row-major) order, quality 50.
_STD_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
], dtype=np.float64)
_STD_CHROMA = np.array([
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
], dtype=np.float64)

_EXIF_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_EXIF_DATETIME = 0x0132
_EXIF_DATETIME_ORIGINAL = 0x9003
_EXIF_OFFSET_TIME_ORIGINAL = 0x9011


def estimate_jpeg_quality(quantization: Mapping[int, Sequence[int]] | None) -> int | None:
    """Estimate the libjpeg quality (1-100) that best reproduces JPEG quantisation tables.

    Parameters
    ----------
    quantization : dict
        Pillow's ``Image.quantization``: table index -> 64 values in natural order.

    Returns
    -------
    int or None
        The quality whose IJG-scaled tables are nearest (mean absolute log
        ratio) to the given ones; None when there are no tables.

    Examples
    --------
    >>> q50 = {0: _STD_LUMA.astype(int).tolist(), 1: _STD_CHROMA.astype(int).tolist()}
    >>> estimate_jpeg_quality(q50)
    50
    """
    if not quantization:
        return None
    tables = [np.asarray(list(t), dtype=np.float64) for _, t in sorted(quantization.items())]
    if any(t.size != 64 for t in tables):
        return None
    qualities = np.arange(1, 101)
    scale = np.where(qualities < 50, 5000.0 / qualities, 200.0 - 2.0 * qualities)[:, None]
    cost = np.zeros(qualities.size)
    for i, table in enumerate(tables[:2]):
        std = _STD_LUMA if i == 0 else _STD_CHROMA
        candidates = np.clip(np.floor((std[None, :] * scale + 50.0) / 100.0), 1, 255)
        cost += np.abs(np.log(candidates) - np.log(np.maximum(table, 1.0))[None, :]).mean(axis=1)
    return int(qualities[np.argmin(cost)])


def apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Turn stored pixels into display orientation following EXIF tag 0x0112."""
    if orientation == 2:
        return image[:, ::-1]
    if orientation == 3:
        return image[::-1, ::-1]
    if orientation == 4:
        return image[::-1, :]
    if orientation == 5:
        return np.swapaxes(image, 0, 1)
    if orientation == 6:
        return np.swapaxes(image, 0, 1)[:, ::-1]
    if orientation == 7:
        return np.swapaxes(image, 0, 1)[::-1, ::-1]
    if orientation == 8:
        return np.swapaxes(image, 0, 1)[::-1, :]
    return image


def read_exif(pil: Image.Image, data: bytes) -> Image.Exif:
    """EXIF without decoding pixels (Pillow's PNG getexif would load the whole image)."""
    try:
        if pil.format != "PNG":
            return pil.getexif()
        exif = Image.Exif()
        pos = 8
        while pos + 8 <= len(data):
            length = int.from_bytes(data[pos : pos + 4], "big")
            kind = data[pos + 4 : pos + 8]
            if kind == b"eXIf":
                exif.load(data[pos + 8 : pos + 8 + length])
                break
            if kind == b"IEND":
                break
            pos += 12 + length
        return exif
    except (OSError, SyntaxError, ValueError, struct.error) as exc:
        raise ImageDecodeError(f"the image metadata (EXIF) is corrupt or truncated: {exc}") from exc


def orientation_tag(exif: Image.Exif) -> int:
    value = exif.get(_EXIF_ORIENTATION, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def exif_datetime(exif: Image.Exif) -> datetime | None:
    try:
        sub = exif.get_ifd(_EXIF_IFD)
    except (KeyError, ValueError, TypeError, OSError):
        sub = {}
    raw = sub.get(_EXIF_DATETIME_ORIGINAL) or exif.get(_EXIF_DATETIME)
    if not isinstance(raw, str):
        return None
    try:
        stamp = datetime.strptime(raw.strip().rstrip("\x00")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = sub.get(_EXIF_OFFSET_TIME_ORIGINAL)
    if isinstance(offset, str) and len(offset.strip()) >= 6 and offset.strip()[0] in "+-":
        text = offset.strip()
        try:
            minutes = int(text[1:3]) * 60 + int(text[4:6])
        except ValueError:
            return stamp
        sign = -1 if text[0] == "-" else 1
        stamp = stamp.replace(tzinfo=timezone(sign * timedelta(minutes=minutes)))
    return stamp
