"""An original's export copy: no camera or location metadata, the same pixels, upright, same colours.

Files made here carry what phones and cameras write (EXIF with GPS, make and model, XMP, a
comment, data after the image); a real photo with EXIF comes from the shared data.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import pillow_heif
import pytest
from PIL import Image, ImageCms, ImageOps, PngImagePlugin

from tracker.services.exports import export_copy

from .factories import exif_block, skin_image

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description CreatorTool="PhoneCam 12"/></rdf:RDF></x:xmpmeta>'
COMMENT = b"Jane Roe, room 4"
#: Text that must not leave: camera make and model, the XMP packet, the comment, trailing data.
SECRETS = (b"Canon", b"EOS R5", b"xmpmeta", b"PhoneCam", b"Jane Roe", b"DEPTHMAP")


def camera_exif(orientation: int = 6) -> Image.Exif:
    exif = exif_block(orientation=orientation, gps=True, make="Canon", taken="2025:03:01 10:12:00")
    exif[0x0110] = "EOS R5"
    return exif


def phone_jpeg(image: Image.Image, *, orientation: int = 6, progressive: bool = False) -> bytes:
    """A JPEG as a phone writes it: EXIF (GPS, make, model, orientation), XMP, ICC, a comment,
    and a depth map after the end of the image."""
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=92, exif=camera_exif(orientation), icc_profile=SRGB, comment=COMMENT, xmp=XMP,
               progressive=progressive)
    return buf.getvalue() + b"DEPTHMAP" + bytes(64)


def phone_heic(image: Image.Image) -> bytes:
    """A HEIC as a phone writes it: EXIF (GPS, make, model, orientation 6: stored as a rotation
    the decoder applies), XMP and ICC."""
    buf = io.BytesIO()
    image.save(buf, "HEIF", quality=-1, exif=camera_exif(6).tobytes(), icc_profile=SRGB, xmp=XMP)
    return buf.getvalue()


def tagged_png(image: Image.Image) -> bytes:
    """A PNG with eXIf (GPS, make, model), tEXt and iTXt chunks and an ICC profile."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", COMMENT.decode())
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    buf = io.BytesIO()
    image.save(buf, "PNG", pnginfo=info, exif=camera_exif(1), icc_profile=SRGB)
    return buf.getvalue()


def pixels(data: bytes, *, upright: bool = False) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(ImageOps.exif_transpose(im) if upright else im.convert(im.mode))


def assert_no_metadata(data: bytes) -> None:
    for secret in SECRETS:
        assert secret not in data, secret
    with Image.open(io.BytesIO(data)) as im:
        exif = im.getexif()
        assert set(exif) <= {0x0112}, dict(exif)  # at most the orientation
        assert not exif.get_ifd(0x8825) and not exif.get_ifd(0x8769)  # no GPS, no camera sub-IFD
        assert not {"xmp", "comment", "XML:com.adobe.xmp", "Comment"} & set(im.info), set(im.info)


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_copy_keeps_compressed_pixels_orientation_and_profile_only(progressive):
    original = phone_jpeg(skin_image(240, 160), progressive=progressive)
    copy = export_copy(original, "image/jpeg")
    assert (copy.extension, copy.converted) == ("jpg", False)
    assert_no_metadata(copy.data)
    assert np.array_equal(pixels(copy.data), pixels(original))  # not re-encoded
    assert np.array_equal(pixels(copy.data, upright=True), pixels(original, upright=True))
    with Image.open(io.BytesIO(copy.data)) as im:
        assert dict(im.getexif()) == {0x0112: 6} and im.info["icc_profile"] == SRGB
    assert set(copy.removed) == {"EXIF (camera, GPS, capture time)", "XMP", "comment",
                                 "data after the end of the image"}
    assert export_copy(original, "image/jpeg") == copy  # the same bytes every time
    assert export_copy(copy.data, "image/jpeg").data == copy.data  # nothing more to remove


def test_jpeg_upright_already_gets_no_exif_at_all():
    copy = export_copy(phone_jpeg(skin_image(64, 48), orientation=1), "image/jpeg")
    assert b"Exif\x00" not in copy.data and b"\xff\xe1" not in copy.data[:200]


def test_png_copy_drops_exif_and_text_chunks_and_keeps_pixels_and_profile():
    original = tagged_png(skin_image(120, 90))
    copy = export_copy(original, "image/png")
    assert (copy.extension, copy.converted) == ("png", False)
    assert_no_metadata(copy.data)
    for chunk in (b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"tIME"):
        assert chunk not in copy.data
    assert np.array_equal(pixels(copy.data), pixels(original))
    with Image.open(io.BytesIO(copy.data)) as im:
        im.load()  # every kept chunk's CRC is checked while reading
        assert im.info["icc_profile"] == SRGB
    assert set(copy.removed) == {"eXIf chunk", "tEXt chunk", "iTXt chunk"}


def test_heic_becomes_a_lossless_upright_png_with_its_profile():
    original = phone_heic(skin_image(96, 64))
    copy = export_copy(original, "image/heic")
    assert (copy.extension, copy.converted) == ("png", True)
    assert_no_metadata(copy.data)
    with Image.open(io.BytesIO(copy.data)) as im:
        assert im.info["icc_profile"] == SRGB and not im.getexif()
        assert im.size == (64, 96)  # turned upright: no orientation tag is left to do it
    assert np.array_equal(pixels(copy.data), pixels(original, upright=True))  # as the decoder shows it
    assert export_copy(original, "image/heic").data == copy.data


def test_ten_bit_heic_becomes_a_sixteen_bit_png():
    rng = np.random.default_rng(3)
    values = (rng.integers(0, 1024, (32, 48, 3)) << 6).astype(np.uint16)
    buf = io.BytesIO()
    pillow_heif.from_bytes(mode="RGB;16", size=(48, 32), data=values.tobytes()).save(buf, quality=-1)
    copy = export_copy(buf.getvalue(), "image/heic")
    decoded = np.asarray(pillow_heif.open_heif(buf, convert_hdr_to_8bit=False))
    assert copy.data[24:26] == b"\x10\x02"  # IHDR: 16 bits, RGB
    written = cv2.imdecode(np.frombuffer(copy.data, np.uint8), cv2.IMREAD_UNCHANGED)[:, :, ::-1]
    assert written.dtype == np.uint16 and np.array_equal(written, decoded)


def test_a_jpeg_whose_blocks_cannot_be_walked_is_converted_not_leaked():
    original = phone_jpeg(skin_image(64, 48), orientation=1)
    app0_end = 4 + int.from_bytes(original[4:6], "big")
    junk = original[:app0_end] + b"\x00\x00" + original[app0_end:]  # decoders skip it; the walk cannot
    copy = export_copy(junk, "image/jpeg")
    assert copy.converted and copy.extension == "png" and "no marker at byte" in copy.how
    assert_no_metadata(copy.data)
    assert np.array_equal(pixels(copy.data), pixels(junk))


def test_real_photo_with_exif(real_data_dir):
    path = real_data_dir / "plantcv" / "colorchecker-classic-mini.jpg"
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    original = path.read_bytes()
    with Image.open(path) as im:
        if not im.getexif():
            pytest.skip(f"{path.name} carries no EXIF here")
    copy = export_copy(original, "image/jpeg")
    assert "EXIF (camera, GPS, capture time)" in copy.removed
    with Image.open(io.BytesIO(copy.data)) as im:
        assert not im.getexif()
    assert np.array_equal(pixels(copy.data), pixels(original))
    assert len(copy.data) < len(original)
