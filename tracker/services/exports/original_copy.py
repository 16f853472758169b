"""The copy of an original photo that leaves in an export: its pixels, without camera or location metadata.

JPEG and PNG files are copied structure by structure: the compressed image data is copied
byte for byte (the pixels are not re-encoded) and the blocks that carry metadata are left
out: EXIF (camera, GPS, capture time), XMP, IPTC, comments, extra images and anything after
the image's end. The colour profile stays, and so does a JPEG's EXIF orientation (as a
minimal EXIF block holding only that), or the photo would show rotated. A HEIC photo, or a
file whose structure cannot be walked, is decoded and written as a lossless PNG instead.

The same original always gives the same bytes, so ``tracker verify-export`` can make the
copy again from the stored original and compare hashes.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from tracker.analysis import heif as _heif  # noqa: F401 - HEIC support for Pillow

#: The standard PNG chunks that describe pixels and colour; every other chunk is left out
#: (eXIf, tEXt, zTXt, iTXt, tIME and any private chunk: they can carry anything).
_PNG_KEPT = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"iCCP", b"gAMA", b"cHRM", b"sRGB", b"sBIT",
                       b"cICP", b"mDCv", b"cLLi", b"pHYs", b"bKGD", b"hIST", b"sPLT"})
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: The JPEG markers that code the image: frames (SOFn, DHT, DAC), tables, restart interval,
#: number of lines, hierarchical progression.
_JPEG_CODING = frozenset({*range(0xC0, 0xD0), 0xDB, 0xDC, 0xDD, 0xDE, 0xDF})
#: Where a scan's entropy-coded data ends: 0xFF (and fill bytes) then neither a stuffed
#: zero nor a restart marker.
_SCAN_END = re.compile(rb"\xff+[^\x00\xd0-\xd7\xff]")
_APP_NAMES = ((b"Exif\x00", "EXIF (camera, GPS, capture time)"), (b"http://ns.adobe.com/xap/1.0/", "XMP"),
              (b"http://ns.adobe.com/xmp/extension/", "XMP"), (b"Photoshop 3.0", "IPTC/Photoshop"),
              (b"MPF\x00", "extra images (MPF)"))


#: zlib level of converted copies (another zlib version, or level, gives other bytes: see same_png_pixels).
ZLIB_LEVEL = 6


class UnreadableStructure(ValueError):
    """The file's blocks cannot be walked (the decoder may still read it)."""


@dataclass(frozen=True)
class OriginalCopy:
    """An original's export copy and what was done to make it."""

    data: bytes
    #: File extension of ``data``: "jpg" or "png".
    extension: str
    #: True when the pixels were decoded and written as a lossless PNG (HEIC, unwalkable files).
    converted: bool
    #: What was left out, in plain words (sorted, no repeats).
    removed: tuple[str, ...]
    #: How the copy was made, in plain words.
    how: str


_COPIED = "compressed image data copied byte for byte (pixels not re-encoded); metadata removed; colour profile kept"
_CONVERTED = "decoded and written as a lossless PNG (the same pixels, upright); colour profile kept, no other metadata"


def export_copy(data: bytes, content_type: str) -> OriginalCopy:
    """The export copy of a stored original of type ``content_type`` (as the intake sniffed it).

    >>> copy = export_copy(_png_file(np.zeros((2, 2), np.uint8), None), "image/png")
    >>> (copy.extension, copy.converted, copy.removed)
    ('png', False, ())
    """
    try:
        if content_type == "image/jpeg":
            out, removed, orientation = _jpeg_copy(data)
            kept = f"; EXIF orientation {orientation} kept (only that)" if orientation > 1 else ""
            return OriginalCopy(out, "jpg", False, removed, _COPIED + kept)
        if content_type == "image/png":
            out, removed = _png_copy(data)
            return OriginalCopy(out, "png", False, removed, _COPIED)
    except UnreadableStructure as e:
        return OriginalCopy(_lossless_png(data), "png", True, ("all metadata",), f"{_CONVERTED} ({e})")
    return OriginalCopy(_lossless_png(data), "png", True, ("all metadata",), _CONVERTED)


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _orientation(exif_payload: bytes) -> int:
    exif = Image.Exif()
    try:
        exif.load(exif_payload)
        value = exif.get(0x0112, 1)
    except (ValueError, TypeError, KeyError, struct.error, SyntaxError):
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _jpeg_app(marker: int, payload: bytes) -> tuple[bytes | None, str]:
    """(the segment to keep or None, what it is in words)."""
    n = marker - 0xE0
    if n == 0 and payload.startswith(b"JFIF\x00") and len(payload) >= 14:
        return _segment(marker, payload[:12] + b"\x00\x00"), ""  # without its thumbnail
    if (n == 2 and payload.startswith(b"ICC_PROFILE\x00")) or (n == 14 and payload.startswith(b"Adobe")):
        return _segment(marker, payload), ""
    name = next((words for prefix, words in _APP_NAMES if payload.startswith(prefix)), f"APP{n} block")
    return None, name


def _jpeg_copy(data: bytes) -> tuple[bytes, tuple[str, ...], int]:
    """The JPEG without metadata segments, what was removed, and the orientation kept."""
    if not data.startswith(b"\xff\xd8"):
        raise UnreadableStructure("no JPEG start marker")
    parts: list[bytes] = [b"\xff\xd8"]
    removed: set[str] = set()
    orientation = 0  # 0: no EXIF seen yet (the first EXIF block is the one decoders read)
    i = 2
    while True:
        if i + 1 >= len(data) or data[i] != 0xFF:
            raise UnreadableStructure(f"no marker at byte {i}")
        while i + 1 < len(data) and data[i + 1] == 0xFF:  # fill bytes
            i += 1
        marker = data[i + 1]
        i += 2
        if marker == 0xD9:
            parts.append(b"\xff\xd9")
            if data[i:]:
                removed.add("data after the end of the image")
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            parts.append(bytes((0xFF, marker)))
            continue
        length = int.from_bytes(data[i:i + 2], "big")
        if length < 2 or i + length > len(data):
            raise UnreadableStructure(f"segment 0x{marker:02X} at byte {i - 2} runs past the file")
        payload = data[i + 2:i + length]
        i += length
        if marker == 0xDA:
            end = _SCAN_END.search(data, i)
            if end is None:
                raise UnreadableStructure("the image data has no end")
            parts += [_segment(marker, payload), data[i:end.start()]]
            i = end.start()
        elif marker in _JPEG_CODING:
            parts.append(_segment(marker, payload))
        elif 0xE0 <= marker <= 0xEF:
            kept, name = _jpeg_app(marker, payload)
            if kept is not None:
                parts.append(kept)
            else:
                removed.add(name)
                if orientation == 0 and marker == 0xE1 and payload.startswith(b"Exif\x00"):
                    orientation = _orientation(payload)
        else:
            removed.add("comment" if marker == 0xFE else f"block 0x{marker:02X}")
    if orientation > 1:  # upright as before: a minimal EXIF block with the orientation only
        exif = Image.Exif()
        exif[0x0112] = orientation
        after_jfif = 2 if parts[1].startswith(b"\xff\xe0") else 1
        parts.insert(after_jfif, _segment(0xE1, exif.tobytes()))
    return b"".join(parts), tuple(sorted(removed)), max(orientation, 1)


def _png_copy(data: bytes) -> tuple[bytes, tuple[str, ...]]:
    if not data.startswith(_PNG_SIGNATURE):
        raise UnreadableStructure("no PNG signature")
    parts = [_PNG_SIGNATURE]
    removed: set[str] = set()
    i = len(_PNG_SIGNATURE)
    while True:
        if i + 12 > len(data):
            raise UnreadableStructure("the PNG has no IEND chunk")
        length = int.from_bytes(data[i:i + 4], "big")
        kind = data[i + 4:i + 8]
        end = i + 12 + length
        if end > len(data):
            raise UnreadableStructure(f"chunk {kind!r} at byte {i} runs past the file")
        if kind in _PNG_KEPT:
            parts.append(data[i:end])  # length, type, data and CRC as they were
        else:
            removed.add(f"{kind.decode('latin-1')} chunk")
        i = end
        if kind == b"IEND":
            if data[i:]:
                removed.add("data after the end of the image")
            break
    return b"".join(parts), tuple(sorted(removed))


def _lossless_png(data: bytes) -> bytes:
    """The pixels, upright, as a PNG (16-bit when the HEIC is 10- or 12-bit) with the ICC profile."""
    import pillow_heif

    if pillow_heif.is_supported(data):
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False)  # transforms applied
        return _png_file(np.asarray(heif), heif.info.get("icc_profile") or None, level=ZLIB_LEVEL)
    with Image.open(io.BytesIO(data)) as im:
        icc = im.info.get("icc_profile") or None
        upright = ImageOps.exif_transpose(im)
        if upright.mode == "I;16":
            pixels = np.asarray(upright, dtype=np.uint16)
        else:
            pixels = np.asarray(upright.convert("RGBA" if "A" in upright.getbands() else "RGB"))
    return _png_file(pixels, icc, level=ZLIB_LEVEL)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_file(pixels: np.ndarray, icc: bytes | None, *, level: int = 6) -> bytes:
    """A PNG of uint8 or uint16 pixels (H, W) or (H, W, 1-4): written here, so its bytes
    depend on zlib only, not on an image library's encoder."""
    h, w = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    depth = 16 if pixels.dtype == np.uint16 else 8
    rows = np.ascontiguousarray(pixels, dtype=">u2" if depth == 16 else np.uint8).view(np.uint8).reshape(h, -1)
    step = channels * depth // 8
    sub = rows.copy()
    sub[:, step:] -= rows[:, :-step]  # filter "Sub": each byte minus the same byte of the pixel before
    raw = np.hstack([np.ones((h, 1), np.uint8), sub]).tobytes()
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    chunks = [_png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0))]
    if icc:
        chunks.append(_png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc, 9)))
    chunks += [_png_chunk(b"IDAT", zlib.compress(raw, level)), _png_chunk(b"IEND", b"")]
    return _PNG_SIGNATURE + b"".join(chunks)


def _png_header_and_data(data: bytes) -> tuple[bytes, bytes]:
    """The IHDR chunk and the joined compressed IDAT data of a PNG."""
    header, idat, i = b"", [], len(_PNG_SIGNATURE)
    while i + 12 <= len(data):
        length = int.from_bytes(data[i:i + 4], "big")
        kind = data[i + 4:i + 8]
        if kind == b"IHDR":
            header = data[i:i + 12 + length]
        elif kind == b"IDAT":
            idat.append(data[i + 8:i + 8 + length])
        i += 12 + length
    return header, b"".join(idat)


def same_png_pixels(untrusted: bytes, trusted: bytes) -> bool:
    """Whether two lossless PNG copies hold the same pixels however zlib compressed them (another
    zlib version compresses differently). ``trusted``'s size bounds the decompression of ``untrusted``.

    >>> pixels = np.arange(12, dtype=np.uint8).reshape(3, 4)
    >>> a, b = _png_file(pixels, None, level=1), _png_file(pixels, None, level=9)
    >>> a == b, same_png_pixels(a, b), same_png_pixels(_png_file(pixels + 1, None), b)
    (False, True, False)
    """
    header_u, data_u = _png_header_and_data(untrusted)
    header_t, data_t = _png_header_and_data(trusted)
    expected = zlib.decompress(data_t)
    try:
        got = zlib.decompressobj().decompress(data_u, len(expected) + 1)
    except zlib.error:
        return False
    return header_u == header_t and got == expected
