"""A corpus of awkward and hostile files, made by the tests, in two declared groups.

MUST_ACCEPT: real-world awkwardness a clinic's cameras and phones produce; each must be
stored and then decoded by ``tracker.analysis.decode.decode_image`` the right way up with
sane colours. MUST_REFUSE: broken or hostile files; each must be refused with a clear
4xx message, leaving no file and no row behind.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import pillow_heif
from PIL import Image

from tests.services.factories import bomb_png, exif_block, heic_bytes, jpeg_bytes, skin_image

pillow_heif.register_heif_opener()

W, H = 400, 300


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    filename: str
    #: accepted files: what the decoded image must look like ("colour", "grey")
    look: str = "colour"
    #: refused files: words the message must contain (case-insensitive), any of them
    says: tuple[str, ...] = ()


def _save(im: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def upright(seed: int) -> Image.Image:
    """Skin-coloured image whose top-left quarter is dark: tells which way is up."""
    return skin_image(W, H, seed=seed)


# Stored pixels for each EXIF orientation so that applying the tag gives the upright image.
_STORE = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
          4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90,
          7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}


def oriented_jpeg(orientation: int, seed: int) -> bytes:
    im = upright(seed)
    method = _STORE[orientation]
    stored = im.transpose(method) if method is not None else im
    return _save(stored, "JPEG", quality=92, exif=exif_block(orientation=orientation))


def png16_rgb(seed: int) -> bytes:
    rgb = np.asarray(upright(seed), dtype=np.uint16) * 257
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    assert ok
    return buf.tobytes()


def png16_grey(seed: int) -> bytes:
    grey = np.asarray(upright(seed).convert("L"), dtype=np.uint16) * 257
    ok, buf = cv2.imencode(".png", grey)
    assert ok
    return buf.tobytes()


def _jpeg_with_segment(base: bytes, marker: int, payload: bytes) -> bytes:
    segment = bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
    return base[:2] + segment + base[2:]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_insert_before_iend(data: bytes, chunk: bytes) -> bytes:
    i = data.rindex(b"IEND") - 4
    return data[:i] + chunk + data[i:]


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header claims ``width`` x ``height``."""
    data = bytearray(jpeg_bytes(64, 64, seed=91))
    i = data.index(b"\xff\xc0")
    data[i + 5:i + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def heic_claiming(width: int, height: int) -> bytes:
    """A small real HEIC whose image-spatial-extent box claims ``width`` x ``height``."""
    data = bytearray(heic_bytes(64, 64, seed=92))
    i = data.index(b"ispe")
    data[i + 8:i + 16] = struct.pack(">II", width, height)
    return bytes(data)


def animated(fmt: str, seed: int) -> bytes:
    frames = [skin_image(120, 90, seed=seed + k) for k in range(3)]
    kwargs: dict[str, object] = {"save_all": True, "append_images": frames[1:], "duration": 100, "loop": 0}
    return _save(frames[0], fmt, **kwargs)


def accept_cases() -> list[Case]:
    cases = [Case("plain JPEG", jpeg_bytes(W, H, seed=101), "plain.jpg")]
    cases += [Case(f"EXIF orientation {o}", oriented_jpeg(o, 110 + o), f"orient{o}.jpg") for o in range(1, 9)]
    exif0 = Image.Exif()
    exif0[0x0112] = 0
    cases += [
        Case("orientation tag 0 (unset by some cameras)", _save(upright(121), "JPEG", exif=exif0), "o0.jpg"),
        Case("16-bit RGB PNG", png16_rgb(122), "sixteen.png"),
        Case("16-bit greyscale PNG", png16_grey(123), "sixteen-grey.png", look="grey"),
        Case("CMYK JPEG", _save(upright(124).convert("CMYK"), "JPEG", quality=92), "cmyk.jpg"),
        Case("greyscale JPEG", _save(upright(125).convert("L"), "JPEG", quality=90), "grey.jpg", look="grey"),
        Case("greyscale PNG", _save(upright(126).convert("L"), "PNG"), "grey.png", look="grey"),
        Case("palette PNG", _save(upright(127).convert("P", palette=Image.Palette.ADAPTIVE, colors=64), "PNG"),
             "palette.png"),
        Case("RGBA PNG", _save(upright(128).convert("RGBA"), "PNG"), "alpha.png"),
        Case("progressive JPEG", _save(upright(129), "JPEG", quality=85, progressive=True), "prog.jpg"),
        Case("JPEG 4:4:4 quality 100", _save(upright(130), "JPEG", quality=100, subsampling=0), "q100.jpg"),
        Case("JPEG with ICC profile", _save(upright(131), "JPEG", quality=90,
                                            icc_profile=_srgb_icc()), "icc.jpg"),
        Case("JPEG with GPS and camera EXIF", jpeg_bytes(W, H, seed=132, exif=exif_block(
            gps=True, make="PhoneCo", taken="2024:03:01 10:11:12")), "gps.jpg"),
        Case("JPEG with a harmless trailer after the image", jpeg_bytes(W, H, seed=133) + b"\x00" * 64 +
             b"MotionPhoto_Data" + bytes(range(256)), "trailer.jpg"),
        Case("HEIC", heic_bytes(W, H, seed=134), "phone.heic"),
        Case("HEIC with EXIF", heic_bytes(W, H, seed=135, exif=exif_block(taken="2024:04:05 09:00:00")),
             "exif.heic"),
        Case("JPEG named .png (wrong, harmless extension)", jpeg_bytes(W, H, seed=136), "wrong.png"),
        Case("PNG named .jpg", _save(upright(137), "PNG"), "wrong.jpg"),
        Case("HEIC named .jpeg", heic_bytes(W, H, seed=138), "wrong.jpeg"),
        Case("file name without extension", jpeg_bytes(W, H, seed=139), "IMG_0001"),
        Case("unicode and path in the file name", jpeg_bytes(W, H, seed=140), "..\\..\\évé<script>.jpg"),
    ]
    return cases


def _srgb_icc() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def refuse_cases() -> list[Case]:
    good_jpeg = jpeg_bytes(W, H, seed=201)
    good_png = _save(upright(202), "PNG")
    good_heic = heic_bytes(W, H, seed=203)
    html = b"<!DOCTYPE html><html><body><script>fetch('/patients')</script></body></html>"
    svg = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
           b'<script>alert(document.cookie)</script></svg>')
    absurd = Image.Exif()
    absurd[0x0112] = 999
    huge_exif = Image.Exif()
    huge_exif[0x010E] = "A" * 400_000  # ImageDescription of 400 KB
    damaged = "damaged", "incomplete", "cut off"
    web = "web page", "html", "not a photo"
    too_big = "limit", "larger", "bomb"
    return [
        Case("zero bytes", b"", "empty.jpg", says=("empty",)),
        Case("truncated JPEG", good_jpeg[: len(good_jpeg) // 2], "cut.jpg", says=damaged),
        Case("JPEG cut inside the header", good_jpeg[:300], "cut-header.jpg", says=damaged),
        Case("truncated PNG", good_png[: len(good_png) // 2], "cut.png", says=damaged),
        Case("truncated HEIC", good_heic[: len(good_heic) // 2], "cut.heic", says=damaged),
        Case("HTML with script", html, "photo.jpg", says=web),
        Case("SVG with script", svg, "face.svg", says=web),
        Case("SVG with script named .png", svg, "face.png", says=web),
        Case("JPEG/HTML polyglot (HTML in a comment segment)",
             _jpeg_with_segment(jpeg_bytes(W, H, seed=204), 0xFE, html), "poly.jpg", says=("web page",)),
        Case("JPEG with HTML after the end of the image", jpeg_bytes(W, H, seed=205) + html, "tail.jpg",
             says=("web page",)),
        Case("JPEG with script in EXIF", jpeg_bytes(W, H, seed=206, exif=exif_block(
            make="<script>alert(1)</script>")), "exif-xss.jpg", says=("web page",)),
        Case("PNG with script in a text chunk", _png_insert_before_iend(
            _save(upright(207), "PNG"), _png_chunk(b"tEXt", b"Comment\x00<svg onload=alert(1)>")),
            "text.png", says=("web page",)),
        Case("HTML page starting with a JPEG signature-free preamble then JPEG", html + good_jpeg, "gifar.jpg",
             says=web),
        Case("PNG decompression bomb (144 MP)", bomb_png(12000, 12000), "bomb.png", says=too_big),
        Case("JPEG decompression bomb (claims 60000 x 60000)", jpeg_claiming(60000, 60000), "bomb.jpg",
             says=too_big + damaged),
        Case("HEIC decompression bomb (claims 40000 x 40000)", heic_claiming(40000, 40000), "bomb.heic",
             says=too_big + damaged),
        Case("animated GIF", animated("GIF", 208), "anim.gif", says=("gif", "animation")),
        Case("animated PNG (APNG)", animated("PNG", 209), "anim.png", says=("animation",)),
        Case("animated WebP", animated("WEBP", 210), "anim.webp", says=("webp", "animation")),
        Case("EXIF orientation 999", _save(upright(211), "JPEG", exif=absurd), "absurd.jpg",
             says=("orientation",)),
        Case("400 KB of EXIF in a PNG", _save(upright(212), "PNG", exif=huge_exif), "fat-exif.png",
             says=("metadata", "exif")),
        Case("PDF", b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "scan.pdf", says=("not a photo",)),
        Case("plain text named .jpg", b"hello, this is not a photo\n" * 20, "notes.jpg", says=("not a photo",)),
        Case("tiny 8 x 8 JPEG", jpeg_bytes(8, 8, seed=213), "tiny.jpg", says=("too small",)),
        Case("JPEG signature then garbage", b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40, "garbage.jpg",
             says=damaged),
        Case("PNG signature then garbage", b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + bytes(300), "g.png",
             says=damaged),
    ]


def hundred_mb() -> bytes:
    """A 100 MB upload (a valid JPEG start, then padding)."""
    return jpeg_bytes(64, 64, seed=214) + bytes(100 * 1024 * 1024)


CaseFactory = Callable[[], list[Case]]
