"""Reading photo files safely and making the derived images people look at.

The original bytes are never changed. Every check here works on the bytes
themselves: the file name and the browser's content type are not trusted.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, ImageFile, UnidentifiedImageError

from tracker.analysis import heif as _heif  # noqa: F401 - HEIC support for Pillow

from .errors import UnsupportedFile, UploadRefused

if TYPE_CHECKING:  # numpy and OpenCV load only where pixels are made: not in the upload's decoder child
    import numpy as np

ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is refused, never half-decoded

THUMB_SIZE = 320
DISPLAY_SIZE = 1600

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_PIL_FORMAT = {"image/jpeg": "JPEG", "image/png": "PNG", "image/heic": "HEIF"}
#: What Pillow and pillow-heif raise on damaged input.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error, RuntimeError)

ACCEPTED_DESCRIPTION = "JPEG, PNG or HEIC"


def sniff_content_type(data: bytes) -> str | None:
    """The image type the bytes really are: ``image/jpeg``, ``image/png``, ``image/heic`` or None.

    >>> sniff_content_type(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(8))
    'image/png'
    >>> sniff_content_type(b"%PDF-1.7") is None
    True
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        major = data[8:12]
        box_size = int.from_bytes(data[0:4], "big")
        compatible = {data[i:i + 4] for i in range(16, min(box_size, 64), 4)}
        if major in _HEIF_BRANDS and (major != b"mif1" or b"avif" not in compatible or compatible & _HEIF_BRANDS):
            return "image/heic"
    return None


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    #: Pixel size after the EXIF orientation is applied.
    width: int
    height: int
    orientation: int
    captured_at: dt.datetime | None


def _open(data: bytes, content_type: str) -> Image.Image:
    return Image.open(io.BytesIO(data), formats=[_PIL_FORMAT[content_type]])


def inspect_image(data: bytes, *, max_pixels: int, filename: str = "") -> ImageInfo:
    """Check that ``data`` is a complete, decodable JPEG/PNG/HEIC of acceptable size.

    The decoding happens in a separate, resource-limited process
    (:mod:`tracker.services.safe_decode`): a decoder crash, a runaway allocation or
    an endless loop refuses the file instead of taking the server down.
    Raises :class:`UploadRefused` (or a subclass) with a sentence saying why not.
    """
    if not data:
        raise UploadRefused("The file is empty (0 bytes). Choose the photo again.")
    from .safe_decode import inspect_isolated

    return inspect_isolated(data, max_pixels=max_pixels)


def inspect_image_in_process(data: bytes, *, max_pixels: int) -> ImageInfo:
    """The checks of :func:`inspect_image`, run in this process (the isolated child calls it).

    The whole image is decoded (JPEG at 1/8 scale, which still reads every byte),
    so a truncated file is caught here rather than in a later job.
    """
    if not data:
        raise UploadRefused("The file is empty (0 bytes). Choose the photo again.")
    content_type = sniff_content_type(data)
    if content_type is None:
        raise _unsupported(data)
    markup = embedded_markup(data, content_type)
    if markup:
        raise UploadRefused(f"The file hides web page content ({markup}) inside the image, so it was refused. "
                            "Upload the photo as it came from the camera.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we apply our own limit
        try:
            im = _open(data, content_type)
        except Image.DecompressionBombError as e:
            raise _bomb(None, max_pixels) from e
        except (UnidentifiedImageError, *_DECODE_ERRORS) as e:
            raise UploadRefused("The file is damaged or incomplete and cannot be read as an image.") from e
        with im:
            width, height = im.size
            if width * height > max_pixels:
                raise _bomb((width, height), max_pixels)
            if width < 16 or height < 16:
                raise UploadRefused(f"The image is only {width} x {height} pixels: too small to be a photo.")
            try:
                if content_type == "image/jpeg":
                    im.draft(im.mode, (max(1, width // 8), max(1, height // 8)))
                im.load()
            except Image.DecompressionBombError as e:
                raise _bomb((width, height), max_pixels) from e
            except _DECODE_ERRORS as e:
                raise UploadRefused(
                    "The file is incomplete or damaged (it may have been cut off during copying). "
                    "Upload the original photo again."
                ) from e
            if getattr(im, "is_animated", False) or getattr(im, "n_frames", 1) > 1:
                raise UploadRefused(f"The file holds {getattr(im, 'n_frames', 2)} images (an animation or a burst); "
                                    "upload one still photo.")
            exif = im.getexif()
            raw_exif = im.info.get("exif") or b""
    if len(raw_exif) > MAX_EXIF_BYTES:
        raise UploadRefused(f"The photo's metadata (EXIF) is {len(raw_exif) // 1024} KB, far more than a camera "
                            "writes; the file was refused.")
    orientation = exif_orientation(exif)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return ImageInfo(content_type, width, height, orientation, exif_capture_time(exif))


#: Cameras write well under 64 KB of EXIF; more is a sign of a crafted file.
MAX_EXIF_BYTES = 256 * 1024
#: Web content that has no business inside a photo (a polyglot file).
_MARKUP = (b"<script", b"<html", b"<svg", b"<iframe", b"<body", b"<!doctype", b"<object", b"<embed",
           b"javascript:")


def _unsupported(data: bytes) -> UploadRefused:
    head = data[:512].lstrip().lower()
    if head.startswith(b"gif8") or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        kind = "GIF" if head.startswith(b"gif8") else "WebP"
        return UnsupportedFile(f"{kind} files are not accepted (they are often animations): "
                               f"upload the photo as {ACCEPTED_DESCRIPTION}.")
    if any(m in head for m in (b"<html", b"<!doctype", b"<svg", b"<?xml", b"<script")):
        return UnsupportedFile("This is a web page or drawing (HTML/SVG), not a photo: "
                               f"upload {ACCEPTED_DESCRIPTION} files.")
    return UnsupportedFile(f"This is not a photo this system can read: upload {ACCEPTED_DESCRIPTION} files.")


def _jpeg_metadata_and_tail(data: bytes) -> list[bytes]:
    """The JPEG's metadata segments (APPn, COM) and anything after its last EOI marker."""
    parts: list[bytes] = []
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            parts.append(data[i + 4:i + 2 + length])
        i += 2 + length
    end = data.rfind(b"\xff\xd9")
    if end != -1:
        parts.append(data[end + 2:])
    return parts


def _png_metadata_and_tail(data: bytes) -> list[bytes]:
    parts: list[bytes] = []
    i = 8
    while i + 8 <= len(data):
        length = int.from_bytes(data[i:i + 4], "big")
        kind = data[i + 4:i + 8]
        if kind != b"IDAT":
            parts.append(data[i + 8:i + 8 + length])
        i += 12 + length
        if kind == b"IEND":
            parts.append(data[i:])
            break
    return parts


def _heif_metadata_and_tail(data: bytes) -> list[bytes]:
    parts: list[bytes] = []
    i = 0
    while i + 8 <= len(data):
        size = int.from_bytes(data[i:i + 4], "big")
        kind = data[i + 4:i + 8]
        if size == 1 and i + 16 <= len(data):
            size = int.from_bytes(data[i + 8:i + 16], "big")
        elif size == 0:
            size = len(data) - i
        if size < 8:
            parts.append(data[i:])
            break
        if kind != b"mdat":
            parts.append(data[i:i + size])
        i += size
    return parts


def embedded_markup(data: bytes, content_type: str) -> str | None:
    """The HTML/SVG/script marker hidden in the file's metadata or trailing bytes, if any.

    Pixel data is not searched (compressed bytes can spell anything by chance).

    >>> embedded_markup(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(4) + b"IEND" + bytes(4) + b"<html>", "image/png")
    '<html'
    """
    split = {"image/jpeg": _jpeg_metadata_and_tail, "image/png": _png_metadata_and_tail,
             "image/heic": _heif_metadata_and_tail}[content_type]
    for part in split(data):
        lowered = part.lower()
        for marker in _MARKUP:
            if marker in lowered:
                return marker.decode()
    return None


def exif_orientation(exif: Image.Exif) -> int:
    """The EXIF orientation 1-8 (missing or 0: 1); an impossible value refuses the file."""
    raw = exif.get(0x0112, 1)
    if raw in (None, 0):
        return 1
    if not isinstance(raw, int) or not 1 <= raw <= 8:
        raise UploadRefused(f"The photo's orientation tag has an impossible value ({str(raw)[:20]}); "
                            "the file was refused. Export the photo again from the camera or phone.")
    return raw


def _bomb(size: tuple[int, int] | None, max_pixels: int) -> UploadRefused:
    limit = f"{max_pixels / 1e6:.0f} megapixels"
    if size is None:
        return UploadRefused(f"The image is far larger than the {limit} limit and was refused "
                             "(it may be a decompression bomb).")
    w, h = size
    return UploadRefused(f"The image is {w} x {h} pixels ({w * h / 1e6:.0f} megapixels); the limit is {limit}. "
                         "Export it at a smaller size.")


def exif_capture_time(exif: Image.Exif) -> dt.datetime | None:
    """DateTimeOriginal (or DateTimeDigitized, or DateTime) as a naive local datetime."""
    candidates = []
    try:
        sub = exif.get_ifd(0x8769)
    except (KeyError, ValueError, TypeError):  # malformed EXIF: no capture time
        sub = {}
    candidates += [sub.get(0x9003), sub.get(0x9004), exif.get(0x0132)]
    for raw in candidates:
        if isinstance(raw, bytes):
            raw = raw.decode("ascii", "ignore")
        if not isinstance(raw, str):
            continue
        text = raw.strip().strip("\x00").strip()
        try:
            value = dt.datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
        except ValueError:
            continue
        if 1990 <= value.year <= 2100:
            return value
    return None


def _jpeg(pixels: np.ndarray, quality: int) -> bytes:
    # Baseline with optimised Huffman tables: progressive coding made the display image 2 %
    # smaller but cost three times as long (56 instead of 18 ms a 12 MP upload, on the worker).
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def _fit(pixels: np.ndarray, long_side_px: int) -> np.ndarray:
    """``pixels`` reduced to ``long_side_px`` on the long side (never enlarged), aspect kept."""
    import cv2

    h, w = pixels.shape[:2]
    scale = long_side_px / max(h, w)
    if scale >= 1.0:
        return pixels
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    # Less than halving (the decoder has already reduced by powers of two): bilinear weights
    # reach every source pixel, so it does not alias, at a sixth of area averaging's cost.
    interpolation = cv2.INTER_LINEAR if scale > 0.5 else cv2.INTER_AREA
    return cv2.resize(pixels, size, interpolation=interpolation)


@dataclass(frozen=True)
class Derivatives:
    thumb_jpeg: bytes
    display_jpeg: bytes


def make_derivatives(data: bytes, content_type: str) -> Derivatives:
    """Thumbnail (~320 px) and display (~1600 px) JPEGs: upright, sRGB, no metadata.

    Decoded by the analysis's decoder (:func:`tracker.analysis.decode.decode_for_display`):
    the same orientation and colour conversion as the figures, reduced while
    decoding and within the process's decode memory budget. A fresh image is
    built from the pixels, so nothing of the original's metadata (EXIF, GPS,
    XMP, ICC) comes along.
    """
    from tracker.analysis.decode import decode_for_display

    if content_type not in _PIL_FORMAT:
        raise ValueError(f"content type {content_type!r} is not an accepted photo type")
    display = _fit(decode_for_display(data, long_side_px=DISPLAY_SIZE), DISPLAY_SIZE)
    thumb = _fit(display, THUMB_SIZE)
    return Derivatives(thumb_jpeg=_jpeg(thumb, 82), display_jpeg=_jpeg(display, 88))
