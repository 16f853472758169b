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

Memory is bounded: a reduced decode never holds a full-size float image (the
stored samples are box-reduced in strips of rows), and the samples of
full-size decodes in flight in one process are limited to
:data:`DECODE_BUDGET_BYTES` together (a second huge photo waits for the first).
The same decoder serves the analysis and the derived images people look at
(:func:`decode_for_display`), so both convert colour the same way.
"""

from __future__ import annotations

import ctypes
import io
import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import cv2
import numpy as np
from PIL import Image, JpegImagePlugin, UnidentifiedImageError

from tracker.analysis import heif as _heif  # noqa: F401 - HEIC support for Pillow
from tracker.analysis import image_metadata as _meta
from tracker.analysis.icc import convert_icc_to_srgb
from tracker.analysis.image_metadata import ImageDecodeError, estimate_jpeg_quality

__all__ = [
    "DECODE_BUDGET_BYTES",
    "DecodedImage",
    "ImageDecodeError",
    "return_freed_memory_to_the_system",
    "decode_for_display",
    "decode_image",
    "display_reduce",
    "estimate_jpeg_quality",
]

#: Stored samples (bytes) that full-size decodes may hold at once in one process: one
#: 100 MP 16-bit RGBA PNG. Decodes beyond it wait, so two huge uploads handled at
#: the same time cannot add up (a 9000 x 9000 PNG once took a worker to 2.8 GB).
DECODE_BUDGET_BYTES = 800 * 1024**2
#: Rows are converted to float and box-reduced this many samples at a time.
_STRIP_SAMPLES = 4_000_000
#: PNGs with more sample bytes than this are decoded by Pillow, which holds 4 bytes
#: per pixel (400 MB at 100 MP), not by OpenCV, which holds two copies of the samples
#: (1.2 GB for a 100 MP 16-bit PNG). Pillow reads 16-bit colour at 8 bits.
OPENCV_PNG_MAX_BYTES = 200 * 1024**2

#: Largest decode reduction.
MAX_REDUCE = 16
_REDUCE_FLAGS = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}
_SUBSAMPLING = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}

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
    codes : np.ndarray or None
        (h, w, 3) uint8 or uint16: the same pixels as ``srgb`` as integer code
        values, when the decoder delivered them unchanged (a reduced PNG or a
        Pillow-decoded file has averaged, non-integer values: None). Lets
        :func:`tracker.analysis.colour.srgb_to_linear` use its lookup table.
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
    codes: np.ndarray | None = None

    def linear(self) -> np.ndarray:
        """Linear-light RGB of ``srgb`` (float32), through a lookup table when codes are known."""
        from tracker.analysis.colour import srgb_to_linear

        return srgb_to_linear(self.codes if self.codes is not None else self.srgb)


class _Budget:
    """A weighted semaphore over bytes: decodes take their share and give it back."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._free = total
        self._cond = threading.Condition()

    @contextmanager
    def hold(self, nbytes: int) -> Iterator[None]:
        need = max(0, min(int(nbytes), self.total))  # a decode larger than the budget runs alone
        with self._cond:
            self._cond.wait_for(lambda: self._free >= need)
            self._free -= need
        try:
            yield
        finally:
            with self._cond:
                self._free += need
                self._cond.notify_all()


_BUDGET = _Budget(DECODE_BUDGET_BYTES)
#: Largest buffer a long-lived analysing process takes from its heap (see
#: :func:`return_freed_memory_to_the_system`): a 3.5 MP float32 RGB image is 42 MB.
HEAP_BUFFER_LIMIT_BYTES = 128 * 1024 * 1024


def return_freed_memory_to_the_system() -> bool:
    """Bound the heap of a long-lived analysing process (Linux glibc); call at process start.

    By default glibc keeps one heap arena per thread and raises its mmap threshold
    after each large free, so the buffers of big decodes made on different threads
    stay resident: a worker doing two 100 MP PNG jobs at once peaked at 1.76 GB. One
    arena bounds that. Buffers of up to :data:`HEAP_BUFFER_LIMIT_BYTES` (every
    working-scale image) come from the heap and are reused from one analysis step to
    the next; larger ones (a huge decode) are mapped and returned at once, and a free
    top of the heap beyond twice that is trimmed. A 4 MB threshold bounded memory as
    well but mapped, zero-filled and unmapped every working image afresh: about 0.7 s
    of kernel time per analysed 12 MP pair, more than half the user time of the pair.
    One arena, not two: a second (thread) arena grows in 64 MB heaps that glibc maps and
    shrinks on its own, so its 12-36 MB working images were faulted in afresh again: 2,000
    to 30,000 page faults and 40-190 ms of kernel time per 12 MP pair, against 200-1,100
    faults and 33-65 ms with one (30-100 and 17-31 ms with a prepared baseline), and a lower
    peak. The threads' large allocations do not contend on its lock measurably. Returns False
    where this is not glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold, m_arena_max = -1, -3, -8  # from malloc.h
    return (bool(libc.mallopt(m_mmap_threshold, HEAP_BUFFER_LIMIT_BYTES))
            and bool(libc.mallopt(m_trim_threshold, 2 * HEAP_BUFFER_LIMIT_BYTES))
            and bool(libc.mallopt(m_arena_max, 1)))


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
    reduce : int, keyword-only
        Decode at 1/reduce of the full size (each side rounded up), 1 to
        :data:`MAX_REDUCE`: block means of reduce x reduce stored pixels. JPEG
        uses libjpeg's DCT-domain scaling for the power of two in it (1/2, 1/4,
        1/8), which costs less than a full decode.
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
    if isinstance(reduce, bool) or not isinstance(reduce, int) or not 1 <= reduce <= MAX_REDUCE:
        raise ValueError(f"reduce must be an int from 1 to {MAX_REDUCE}; got {reduce!r}")
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
    exif = _meta.read_exif(pil, data)
    orientation = _meta.orientation_tag(exif)
    icc_bytes = pil.info.get("icc_profile")
    jpeg_quality = estimate_jpeg_quality(getattr(pil, "quantization", None)) if fmt == "JPEG" else None
    subsampling = _SUBSAMPLING.get(JpegImagePlugin.get_sampling(pil)) if fmt == "JPEG" else None

    by_opencv = fmt == "JPEG" or (fmt == "PNG" and _png_sample_bytes(data, stored_w * stored_h) <= OPENCV_PNG_MAX_BYTES)
    codes: np.ndarray | None
    with _BUDGET.hold(_decode_bytes(data, fmt, stored_w * stored_h, reduce, by_opencv=by_opencv)):
        if fmt == "JPEG":
            rgb, alpha, bit_depth, codes = _decode_jpeg(data, reduce)
        elif by_opencv:
            rgb, alpha, bit_depth, codes = _decode_png(data, reduce)
        else:
            if fmt == "PNG" and data.rfind(b"IEND") < 0:
                raise ImageDecodeError("the PNG file is truncated (no IEND chunk)")
            rgb, alpha, bit_depth = _decode_pillow(pil, reduce, high_byte=fmt == "PNG" and data[24:25] == b"\x10")
            codes = None
            # Some Pillow plugins (TIFF) apply the orientation while loading and drop the tag.
            orientation = _meta.orientation_tag(pil.getexif())
            stored_w, stored_h = pil.size
    had_alpha = alpha is not None or _declares_alpha(pil)

    icc_name = None
    if icc_bytes:
        rgb, icc_name, converted = convert_icc_to_srgb(rgb, icc_bytes, bit_depth)
        if converted:
            codes = _codes_of(rgb) if bit_depth == 8 else None

    srgb = _meta.apply_orientation(rgb, orientation)
    if codes is not None:
        codes = np.ascontiguousarray(_meta.apply_orientation(codes, orientation))
    transparent = None
    if alpha is not None:
        transparent = _meta.apply_orientation(alpha < 0.5, orientation)
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
        exif_datetime=_meta.exif_datetime(exif),
        icc_profile=icc_name,
        transparent_mask=None if transparent is None else np.ascontiguousarray(transparent),
        codes=codes,
    )


def display_reduce(width: int, height: int, long_side_px: int) -> int:
    """The largest decode reduction (1, 2, 4 or 8) that keeps at least ``long_side_px`` on the long side.

    >>> display_reduce(4000, 3000, 1600), display_reduce(1000, 800, 1600), display_reduce(12000, 9000, 1600)
    (2, 1, 4)
    """
    reduce = 1
    for candidate in (2, 4, 8):
        if -(-max(width, height) // candidate) < long_side_px:
            break
        reduce = candidate
    return reduce  # powers of two: JPEG's cheap DCT scales


def decode_for_display(data: bytes, *, long_side_px: int, max_pixels: int = 120_000_000) -> np.ndarray:
    """Upright sRGB uint8 pixels for people to look at, at least ``long_side_px`` on the long side.

    The analysis decoder (same orientation and ICC handling), reduced in the
    decoder where the file allows it; transparent pixels are shown on white.

    Returns
    -------
    np.ndarray
        (h, w, 3) uint8 sRGB.

    Raises
    ------
    ImageDecodeError
        As :func:`decode_image`.
    """
    pil = _open_header(data)
    width, height = pil.size
    reduce = display_reduce(width, height, long_side_px)
    if pil.format == "JPEG" and not pil.info.get("icc_profile") and width * height <= max_pixels:
        # Codes only: the float image the analysis needs costs as much again as the reduced decode.
        with _BUDGET.hold(_decode_bytes(data, "JPEG", width * height, reduce, by_opencv=True)):
            codes = _jpeg_codes(data, reduce)
        return np.ascontiguousarray(_meta.apply_orientation(codes, _meta.orientation_tag(_meta.read_exif(pil, data))))
    decoded = decode_image(data, reduce=reduce, max_pixels=max_pixels)
    rgb = decoded.codes if decoded.codes is not None and decoded.codes.dtype == np.uint8 else _codes_of(decoded.srgb)
    if decoded.transparent_mask is not None:
        rgb = rgb.copy()
        rgb[decoded.transparent_mask] = 255
    return rgb


def _codes_of(srgb: np.ndarray) -> np.ndarray:
    """Float sRGB in [0, 1] to 8-bit codes (rounded)."""
    return np.ascontiguousarray(np.clip(srgb * np.float32(255.0) + np.float32(0.5), 0, 255).astype(np.uint8))


def _png_sample_bytes(data: bytes, stored_px: int) -> int:
    """Bytes of a PNG's samples as OpenCV holds them (from the IHDR: bit depth, colour type)."""
    if len(data) < 26:
        return 0
    depth, colour_type = data[24], data[25]
    channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(colour_type, 4)
    return stored_px * channels * (2 if depth == 16 else 1)


def _decode_bytes(data: bytes, fmt: str, stored_px: int, reduce: int, *, by_opencv: bool) -> int:
    """Peak bytes a decode holds (what the budget counts), measured on 81-100 MP files."""
    if fmt == "JPEG":
        return 3 * -(-stored_px // (reduce * reduce))  # libjpeg scales in the DCT
    if by_opencv:
        return 2 * _png_sample_bytes(data, stored_px)  # OpenCV's PNG decoder holds two copies
    return 8 * stored_px  # Pillow's 4 bytes per pixel, and a HEIC decoder's own buffer


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


def _decode_jpeg(data: bytes, reduce: int) -> tuple[np.ndarray, np.ndarray | None, int, np.ndarray | None]:
    # libjpeg scales by the power of two in ``reduce``; block means do the rest (ceil(ceil(w/a)/b) = ceil(w/ab)).
    in_dct = max(f for f in _REDUCE_FLAGS if reduce % f == 0)
    codes = _jpeg_codes(data, in_dct)
    if in_dct != reduce:
        return _reduce_to_float(codes, 255.0, reduce // in_dct), None, 8, None
    rgb = codes.astype(np.float32)
    rgb *= np.float32(1.0 / 255.0)
    return rgb, None, 8, codes


def _jpeg_codes(data: bytes, in_dct: int) -> np.ndarray:
    """RGB uint8 codes as stored (no orientation), reduced by libjpeg by ``in_dct`` (1, 2, 4 or 8)."""
    if not _jpeg_is_complete(data):
        raise ImageDecodeError("the JPEG file is truncated or corrupt (no end-of-image marker)")
    # Orientation is applied by us from the EXIF tag, so OpenCV must not apply it too.
    flags = _REDUCE_FLAGS[in_dct] | cv2.IMREAD_IGNORE_ORIENTATION
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    if bgr is None:
        raise ImageDecodeError("the JPEG data could not be decoded (corrupt or unsupported)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _decode_png(data: bytes, reduce: int) -> tuple[np.ndarray, np.ndarray | None, int, np.ndarray | None]:
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
    # Reduce first, in strips, then spread grey to three channels: no full-size float copy.
    small = _reduce_to_float(raw, peak, reduce)
    del raw
    alpha = None
    if small.shape[2] in (2, 4):
        alpha = np.ascontiguousarray(small[:, :, -1])
        small = small[:, :, :-1]
    if small.shape[2] == 1:
        rgb = np.repeat(small, 3, axis=2)
    else:
        rgb = cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_BGR2RGB)
    codes = None
    if reduce == 1:  # values are still exact codes
        codes = np.rint(rgb * np.float32(peak)).astype(np.uint16 if bit_depth == 16 else np.uint8)
    return rgb, alpha, bit_depth, codes


def _reduce_to_float(samples: np.ndarray, peak: float, reduce: int, *, out: np.ndarray | None = None) -> np.ndarray:
    """Integer samples (h, w, c) to float32 in [0, 1], box-averaged over reduce x reduce blocks.

    Blocks start at the top-left corner and the last ones are completed by
    repeating the edge, like libjpeg's scaled decode; the output is ceil(h /
    reduce) x ceil(w / reduce). Works through the rows in strips, so the only
    full-size array is the input.
    """
    h, w, c = samples.shape
    scale = np.float32(1.0 / peak)
    if reduce == 1:
        if out is None:
            out = np.empty(samples.shape, np.float32)
        np.multiply(samples, scale, out=out, casting="unsafe")
        return out
    out_h, out_w = -(-h // reduce), -(-w // reduce)
    if out is None:
        out = np.empty((out_h, out_w, c), np.float32)
    strip = reduce * max(1, _STRIP_SAMPLES // max(1, w * c * reduce))
    # One float buffer, reused for every strip (fresh strips fragment the heap and grow RSS).
    band = np.empty((strip, out_w * reduce, c), np.float32)
    for r0 in range(0, h, strip):
        rows = min(strip, h - r0)
        np.copyto(band[:rows, :w], samples[r0 : r0 + rows], casting="unsafe")
        band[:rows, w:] = band[:rows, w - 1 : w]  # complete the last blocks with the edge
        filled = -(-rows // reduce) * reduce
        band[rows:filled] = band[rows - 1 : rows]
        bh = filled // reduce
        # An exact integer factor makes INTER_AREA the plain block mean.
        blocks = cv2.resize(band[:filled], (out_w, bh), interpolation=cv2.INTER_AREA).reshape(bh, out_w, c)
        np.multiply(blocks, scale, out=out[r0 // reduce : r0 // reduce + bh])
    return out


def _decode_pillow(pil: Image.Image, reduce: int, *, high_byte: bool = False) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Decode with Pillow and reduce in strips of rows.

    ``high_byte``: Pillow read 16-bit colour samples at their high byte h, which
    stands for 256 h + 127.5 on average in 16 bits: mapped so, the mean stays unbiased.
    """
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
        grey = _reduce_to_float(np.asarray(pil, dtype=np.uint16)[:, :, None], 65535.0, reduce)
        rgb, bit_depth = np.repeat(grey, 3, axis=2), 16
    elif mode in ("I", "F"):
        values = np.asarray(pil, dtype=np.float32)
        peak = (65535.0 if values.max(initial=0.0) > 255.0 else 255.0) if mode == "I" else 1.0
        grey = _reduce_to_float(np.clip(values / np.float32(peak), 0.0, 1.0)[:, :, None], 1.0, reduce)
        rgb = np.repeat(grey, 3, axis=2)
        bit_depth = 16 if mode == "I" else 8
    else:
        has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in pil.info)
        converted = pil if pil.mode == ("RGBA" if has_alpha else "RGB") else pil.convert("RGBA" if has_alpha else "RGB")
        arr = _reduce_pil(converted, reduce, high_byte=high_byte)
        del converted
        if has_alpha:
            alpha, rgb = np.ascontiguousarray(arr[:, :, 3]), np.ascontiguousarray(arr[:, :, :3])
        else:
            rgb = arr
    return rgb, alpha, bit_depth


def _reduce_pil(image: Image.Image, reduce: int, *, high_byte: bool = False) -> np.ndarray:
    """An 8-bit Pillow image to float32 at 1/reduce, taking strips of rows (no full-size array)."""
    w, h = image.size
    bands = len(image.getbands())
    strip = reduce * max(1, _STRIP_SAMPLES // max(1, w * bands * reduce))
    out = np.empty((-(-h // reduce), -(-w // reduce), bands), np.float32)
    for r0 in range(0, h, strip):
        samples = np.asarray(image.crop((0, r0, w, min(h, r0 + strip)))).reshape(-1, w, bands)
        _reduce_to_float(samples, 255.0, reduce, out=out[r0 // reduce : r0 // reduce + -(-samples.shape[0] // reduce)])
    if high_byte:
        out *= np.float32(255.0 * 256.0 / 65535.0)
        out += np.float32(127.5 / 65535.0)
    return out
