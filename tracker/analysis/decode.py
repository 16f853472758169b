"""Decode an uploaded photograph into the analysis image convention.

One entry point, :func:`decode_image`, turns the bytes of a JPEG, PNG, HEIC,
WebP or TIFF file into RGB float32 in [0, 1] (sRGB-encoded), with the EXIF
orientation applied exactly once, any embedded ICC profile converted to sRGB
and the alpha channel discarded, plus the metadata the quality gate needs
(JPEG quality and chroma subsampling, capture time).

JPEG and PNG pixels are decoded by OpenCV (fast, DCT-domain downscaling for
JPEG, 16-bit PNG kept at 16 bits); everything else by Pillow. Metadata is read
by Pillow from the headers without decoding pixels, which is also where a
decompression bomb is refused, by its pixel count.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pillow_heif
from PIL import Image, ImageCms, JpegImagePlugin, UnidentifiedImageError

pillow_heif.register_heif_opener()

__all__ = ["DecodedImage", "ImageDecodeError", "decode_image", "estimate_jpeg_quality"]

_REDUCE_FLAGS = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}
_SUBSAMPLING = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}

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


class ImageDecodeError(ValueError):
    """The bytes are not a usable image: unreadable, empty, truncated, corrupt or too large."""


@dataclass(frozen=True)
class DecodedImage:
    """A decoded photograph in the analysis convention, with the metadata the gate needs.

    Attributes
    ----------
    srgb : np.ndarray
        (h, w, 3) float32 in [0, 1], sRGB-encoded, EXIF orientation applied, an
        embedded RGB ICC profile converted to sRGB (relative colorimetric), at
        the working scale. Alpha is discarded: colour channels are kept as
        stored, *not* composited on any background (see ``transparent_mask``).
    full_width, full_height : int
        Size in pixels of the full-resolution image after EXIF orientation.
    scale : float
        Working pixels per full-resolution pixel: 1.0, 0.5, 0.25 or 0.125.
    format : str
        Pillow's format name: "JPEG", "PNG", "HEIF", "WEBP", "TIFF", ...
    bit_depth : int
        Bits per channel of the decoded samples: 8 or 16.
    had_alpha : bool
        The file carried an alpha channel or a transparent palette entry.
    jpeg_quality : int or None
        Quality estimated from the quantisation tables on the libjpeg 1-100
        scale (exact for libjpeg-made files, nearest for others); None if not JPEG.
    chroma_subsampling : str or None
        "4:4:4", "4:2:2" or "4:2:0" for colour JPEG; None otherwise.
    exif_datetime : datetime or None
        DateTimeOriginal (else DateTime) from EXIF; timezone-aware when the
        file records OffsetTimeOriginal, naive (camera local time) otherwise.
    icc_profile : str or None
        Description of the embedded ICC profile, None when there is none.
    transparent_mask : np.ndarray or None
        (h, w) bool, True where alpha < 0.5, or None when no pixel is transparent.
    """

    srgb: np.ndarray
    full_width: int
    full_height: int
    scale: float
    format: str
    bit_depth: int
    had_alpha: bool
    jpeg_quality: int | None
    chroma_subsampling: str | None
    exif_datetime: datetime | None
    icc_profile: str | None = None
    transparent_mask: np.ndarray | None = None


def decode_image(
    source: str | os.PathLike[str] | bytes,
    *,
    reduce: int = 1,
    max_pixels: int = 120_000_000,
) -> DecodedImage:
    """Decode an image file into RGB float32 sRGB in [0, 1] plus its metadata.

    Parameters
    ----------
    source : str, os.PathLike or bytes
        A file path or the file's bytes.
    reduce : {1, 2, 4, 8}, keyword-only
        Decode at 1/reduce of the full size (each side rounded up). JPEG uses
        libjpeg's DCT-domain scaling, which costs less than a full decode.
    max_pixels : int, keyword-only
        Refuse images whose full-resolution pixel count exceeds this, before
        any pixel is decoded (decompression-bomb guard).

    Returns
    -------
    DecodedImage

    Raises
    ------
    ImageDecodeError
        Unreadable or empty file, not an image, truncated or corrupt data,
        too many pixels.
    TypeError, ValueError
        Bad arguments (named in the message).

    Examples
    --------
    >>> buf = io.BytesIO()
    >>> Image.new("RGB", (4, 2), (255, 0, 0)).save(buf, "PNG")
    >>> img = decode_image(buf.getvalue())
    >>> img.srgb.shape, float(img.srgb[0, 0, 0]), img.format
    ((2, 4, 3), 1.0, 'PNG')
    """
    data = _read_source(source)
    if isinstance(reduce, bool) or not isinstance(reduce, int) or reduce not in _REDUCE_FLAGS:
        raise ValueError(f"reduce must be one of 1, 2, 4, 8; got {reduce!r}")
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels <= 0:
        raise ValueError(f"max_pixels must be a positive int; got {max_pixels!r}")
    if not data:
        raise ImageDecodeError("the file is empty (zero bytes)")

    pil = _open_header(data)
    stored_w, stored_h = pil.size
    if stored_w * stored_h > max_pixels:
        raise ImageDecodeError(
            f"image has {stored_w}x{stored_h} = {stored_w * stored_h:,} pixels, more than the "
            f"limit of {max_pixels:,}: refused as a possible decompression bomb"
        )
    fmt = pil.format or "UNKNOWN"
    exif = _read_exif(pil, data)
    orientation = _orientation_tag(exif)
    icc_bytes = pil.info.get("icc_profile")
    jpeg_quality = estimate_jpeg_quality(pil.quantization) if fmt == "JPEG" else None
    subsampling = _SUBSAMPLING.get(JpegImagePlugin.get_sampling(pil)) if fmt == "JPEG" else None

    if fmt == "JPEG":
        rgb, alpha, bit_depth = _decode_jpeg(data, reduce)
    elif fmt == "PNG":
        rgb, alpha, bit_depth = _decode_png(data, reduce)
    else:
        rgb, alpha, bit_depth = _decode_pillow(pil, reduce)
        # Some Pillow plugins (TIFF) apply the orientation while loading and drop the tag.
        orientation = _orientation_tag(pil.getexif())
        stored_w, stored_h = pil.size
    had_alpha = alpha is not None or _declares_alpha(pil)

    icc_name = None
    if icc_bytes:
        rgb, icc_name = _convert_icc_to_srgb(rgb, icc_bytes, bit_depth)

    srgb = _apply_orientation(rgb, orientation)
    transparent = None
    if alpha is not None:
        transparent = _apply_orientation(alpha < 0.5, orientation)
        if not transparent.any():
            transparent = None

    full_w, full_h = (stored_h, stored_w) if orientation >= 5 else (stored_w, stored_h)
    return DecodedImage(
        srgb=np.ascontiguousarray(srgb, dtype=np.float32),
        full_width=full_w,
        full_height=full_h,
        scale=1.0 / reduce,
        format=fmt,
        bit_depth=bit_depth,
        had_alpha=had_alpha,
        jpeg_quality=jpeg_quality,
        chroma_subsampling=subsampling,
        exif_datetime=_exif_datetime(exif),
        icc_profile=icc_name,
        transparent_mask=None if transparent is None else np.ascontiguousarray(transparent),
    )


def estimate_jpeg_quality(quantization: dict[int, object] | None) -> int | None:
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


def _read_source(source: str | os.PathLike[str] | bytes) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as fh:
                return fh.read()
        except OSError as exc:
            raise ImageDecodeError(f"cannot read the file {os.fspath(source)!r}: {exc}") from exc
    raise TypeError(f"source must be a path or bytes; got {type(source).__name__}")


def _open_header(data: bytes) -> Image.Image:
    """Open with Pillow lazily (header only); Pillow's own bomb check is left to our limit."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageDecodeError(f"refused as a possible decompression bomb: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageDecodeError(f"not a readable image file: {exc}") from exc


def _declares_alpha(pil: Image.Image) -> bool:
    return pil.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in pil.info


def _jpeg_is_complete(data: bytes) -> bool:
    """True when the primary JPEG image has its EOI marker after the first scan.

    Walks the marker segments to the first SOS (so EXIF thumbnails, which end in
    their own EOI, are skipped), then looks for EOI: inside entropy-coded data
    0xFF is always stuffed, so 0xFFD9 can only be the real marker.
    """
    pos = 2
    n = len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            return False
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == 0xDA:
            return data.find(b"\xff\xd9", pos + 2 + length) >= 0
        pos += 2 + length
    return False


def _decode_jpeg(data: bytes, reduce: int) -> tuple[np.ndarray, np.ndarray | None, int]:
    if not _jpeg_is_complete(data):
        raise ImageDecodeError("the JPEG file is truncated or corrupt (no end-of-image marker)")
    # Orientation is applied by us from the EXIF tag, so OpenCV must not apply it too.
    flags = _REDUCE_FLAGS[reduce] | cv2.IMREAD_IGNORE_ORIENTATION
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    if bgr is None:
        raise ImageDecodeError("the JPEG data could not be decoded (corrupt or unsupported)")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32)
    rgb *= np.float32(1.0 / 255.0)
    return rgb, None, 8


def _decode_png(data: bytes, reduce: int) -> tuple[np.ndarray, np.ndarray | None, int]:
    if data.rfind(b"IEND") < 0:
        raise ImageDecodeError("the PNG file is truncated (no IEND chunk)")
    raw = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    if raw is None:
        raise ImageDecodeError("the PNG data could not be decoded (truncated or corrupt)")
    if raw.dtype == np.uint16:
        bit_depth, peak = 16, 65535.0
    elif raw.dtype == np.uint8:
        bit_depth, peak = 8, 255.0
    else:
        raise ImageDecodeError(f"unsupported PNG sample type {raw.dtype}")
    if raw.ndim == 2:
        raw = raw[:, :, None]
    channels = raw.shape[2]
    alpha = None
    if channels in (2, 4):
        alpha = raw[:, :, -1].astype(np.float32) / np.float32(peak)
        raw = raw[:, :, :-1]
    if raw.shape[2] == 1:
        rgb = np.repeat(raw, 3, axis=2)
    else:
        rgb = raw[:, :, ::-1]
    rgb = rgb.astype(np.float32) * np.float32(1.0 / peak)
    rgb, alpha = _downscale(rgb, alpha, reduce)
    return rgb, alpha, bit_depth


def _decode_pillow(pil: Image.Image, reduce: int) -> tuple[np.ndarray, np.ndarray | None, int]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            pil.load()
    except Image.DecompressionBombError as exc:
        raise ImageDecodeError(f"refused as a possible decompression bomb: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageDecodeError(f"the {pil.format} data could not be decoded (truncated or corrupt): {exc}") from exc
    alpha = None
    bit_depth = 8
    mode = pil.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        grey = np.asarray(pil, dtype=np.float32) / np.float32(65535.0)
        rgb, bit_depth = np.repeat(grey[:, :, None], 3, axis=2), 16
    elif mode in ("I", "F"):
        grey = np.asarray(pil, dtype=np.float32)
        peak = np.float32(65535.0 if grey.max(initial=0.0) > 255.0 else 255.0) if mode == "I" else np.float32(1.0)
        rgb = np.repeat(np.clip(grey / peak, 0.0, 1.0)[:, :, None], 3, axis=2)
        bit_depth = 16 if mode == "I" else 8
    else:
        has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in pil.info)
        converted = pil.convert("RGBA" if has_alpha else "RGB")
        arr = np.asarray(converted, dtype=np.float32) * np.float32(1.0 / 255.0)
        if has_alpha:
            alpha, rgb = arr[:, :, 3], arr[:, :, :3]
        else:
            rgb = arr
    rgb, alpha = _downscale(np.ascontiguousarray(rgb), alpha, reduce)
    return rgb, alpha, bit_depth


def _downscale(rgb: np.ndarray, alpha: np.ndarray | None, reduce: int) -> tuple[np.ndarray, np.ndarray | None]:
    if reduce == 1:
        return rgb, alpha
    h, w = rgb.shape[:2]
    size = (-(-w // reduce), -(-h // reduce))  # ceil, like libjpeg's scaled decode
    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    if alpha is not None:
        alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
    return rgb, alpha


def _is_srgb_description(description: str) -> bool:
    return "srgb" in description.lower().replace(" ", "")


def _convert_icc_to_srgb(rgb: np.ndarray, icc_bytes: bytes, bit_depth: int) -> tuple[np.ndarray, str | None]:
    """Convert from an embedded RGB ICC profile to sRGB; sRGB and non-RGB profiles pass through."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_bytes))
    except (OSError, TypeError, ValueError) as exc:
        raise ImageDecodeError(f"the embedded ICC colour profile is corrupt: {exc}") from exc
    description = (ImageCms.getProfileDescription(profile) or "").strip()
    if profile.profile.xcolor_space.strip() != "RGB" or _is_srgb_description(description):
        return rgb, description or None
    transform = ImageCms.buildTransform(
        profile, ImageCms.createProfile("sRGB"), "RGB", "RGB",
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
    )
    if bit_depth == 8:
        as_u8 = Image.fromarray(np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8), "RGB")
        out = ImageCms.applyTransform(as_u8, transform)
        return np.asarray(out, dtype=np.float32) * np.float32(1.0 / 255.0), description
    # littleCMS through Pillow has no 16-bit RGB mode: sample the transform on a
    # 33^3 lattice and interpolate trilinearly, which keeps the 16-bit input smooth.
    return _apply_lattice(rgb, transform), description


def _apply_lattice(rgb: np.ndarray, transform: ImageCms.ImageCmsTransform) -> np.ndarray:
    from scipy.ndimage import map_coordinates

    n = 33
    axis = np.linspace(0.0, 255.0, n)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(1, -1, 3)
    lattice_in = Image.fromarray(np.rint(grid).astype(np.uint8), "RGB")
    lattice = np.asarray(ImageCms.applyTransform(lattice_in, transform), dtype=np.float32).reshape(n, n, n, 3) / 255.0
    coords = (rgb.reshape(-1, 3).T * (n - 1)).astype(np.float32)
    out = np.stack([map_coordinates(lattice[..., c], coords, order=1, mode="nearest") for c in range(3)], axis=-1)
    return out.reshape(rgb.shape).astype(np.float32)


def _apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
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


def _read_exif(pil: Image.Image, data: bytes) -> Image.Exif:
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


def _orientation_tag(exif: Image.Exif) -> int:
    value = exif.get(_EXIF_ORIENTATION, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _exif_datetime(exif: Image.Exif) -> datetime | None:
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
