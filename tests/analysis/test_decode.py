"""decode_image: every format and orientation the clinics upload, and every way a file can be broken."""

from __future__ import annotations

import io
import struct
import time
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps

from tracker.analysis.colour import linear_to_srgb
from tracker.analysis.decode import DecodedImage, ImageDecodeError, decode_image


def _pattern(h: int = 96, w: int = 144) -> np.ndarray:
    """An asymmetric display-orientation pattern (uint8 RGB): red top-left, blue bottom-right, green bar."""
    p = np.full((h, w, 3), 128, np.uint8)
    p[: h // 3, : w // 3] = (230, 30, 30)
    p[-h // 4 :, -w // 4 :] = (30, 30, 230)
    p[h // 3 : h // 2, :] = (30, 200, 30)
    return p


def _stored_for(display: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels a camera stores so that EXIF `orientation` displays as `display`.

    Straight from the EXIF table of what the stored 0th row / 0th column are visually:
    1 top/left, 2 top/right, 3 bottom/right, 4 bottom/left,
    5 left/top, 6 right/top, 7 right/bottom, 8 left/bottom.
    """
    t = np.swapaxes(display, 0, 1)
    return {
        1: display,
        2: display[:, ::-1],
        3: display[::-1, ::-1],
        4: display[::-1, :],
        5: t,
        6: t[::-1, :],
        7: t[::-1, ::-1],
        8: t[:, ::-1],
    }[orientation].copy()


def _encode(rgb: np.ndarray, fmt: str, *, exif: Image.Exif | None = None, **kw: object) -> bytes:
    buf = io.BytesIO()
    extra = dict(kw)
    if exif is not None:
        extra["exif"] = exif.tobytes()
    Image.fromarray(rgb).save(buf, fmt, **extra)
    return buf.getvalue()


def _exif_orientation(o: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = o
    return exif


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_displays_upright(fmt: str, orientation: int) -> None:
    display = _pattern()
    data = _encode(_stored_for(display, orientation), fmt, exif=_exif_orientation(orientation),
                   **({"quality": 95} if fmt != "PNG" else {}))
    img = decode_image(data)
    assert img.srgb.shape == display.shape
    assert (img.full_width, img.full_height) == (display.shape[1], display.shape[0])
    assert np.abs(img.srgb - display / 255.0).mean() < 0.01
    # and it agrees with Pillow's own implementation of the same table
    pil_upright = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")) / 255.0
    assert np.abs(img.srgb - pil_upright).max() < 0.02


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
@pytest.mark.parametrize("reduce", [2, 4, 8])
def test_reduced_jpeg_decode_is_upright_and_downscaled(orientation: int, reduce: int) -> None:
    display = np.kron(_pattern(48, 72), np.ones((8, 8, 1), np.uint8))  # 384 x 576
    data = _encode(_stored_for(display, orientation), "JPEG", exif=_exif_orientation(orientation), quality=95)
    img = decode_image(data, reduce=reduce)
    h, w = display.shape[:2]
    assert img.srgb.shape == (h // reduce, w // reduce, 3)
    assert img.scale == 1.0 / reduce
    assert (img.full_width, img.full_height) == (w, h)
    expected = cv2.resize(display, (w // reduce, h // reduce), interpolation=cv2.INTER_AREA) / 255.0
    assert np.abs(img.srgb - expected).mean() < 0.02


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_a_jpeg_preview_shows_the_analysed_pixels_upright(orientation: int) -> None:
    """The display decode skips the float image but must show the very codes the analysis reads."""
    from tracker.analysis.decode import decode_for_display, display_reduce

    display = np.kron(_pattern(48, 72), np.ones((8, 8, 1), np.uint8))  # 384 x 576 upright
    data = _encode(_stored_for(display, orientation), "JPEG", exif=_exif_orientation(orientation), quality=95)
    shown = decode_for_display(data, long_side_px=200)
    analysed = decode_image(data, reduce=display_reduce(*Image.open(io.BytesIO(data)).size, 200))
    assert shown.shape == (192, 288, 3) and shown.dtype == np.uint8
    assert analysed.codes is not None and np.array_equal(shown, analysed.codes)
    expected = cv2.resize(display, (288, 192), interpolation=cv2.INTER_AREA)
    assert np.abs(shown.astype(int) - expected).mean() < 5  # upright: red top-left, as taken


def test_decoded_image_follows_the_analysis_convention() -> None:
    img = decode_image(_encode(_pattern(), "PNG"))
    assert isinstance(img, DecodedImage)
    assert img.srgb.dtype == np.float32 and img.srgb.flags.c_contiguous
    assert 0.0 <= img.srgb.min() and img.srgb.max() <= 1.0
    assert (img.format, img.bit_depth, img.had_alpha, img.jpeg_quality, img.chroma_subsampling) == ("PNG", 8, False, None, None)


def test_path_and_bytes_give_the_same_image(tmp_path: Path) -> None:
    data = _encode(_pattern(), "JPEG", quality=90)
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    assert np.array_equal(decode_image(path).srgb, decode_image(data).srgb)
    assert np.array_equal(decode_image(str(path)).srgb, decode_image(data).srgb)


def test_png_16_bit_keeps_its_precision() -> None:
    ramp = np.linspace(0, 65535, 200 * 3).astype(np.uint16).reshape(1, 200, 3).repeat(4, axis=0)
    ok, enc = cv2.imencode(".png", ramp[:, :, ::-1])
    assert ok
    img = decode_image(enc.tobytes())
    assert img.bit_depth == 16
    assert np.abs(img.srgb - ramp / 65535.0).max() < 1e-6
    # more distinct levels than 8 bits could carry
    assert np.unique(img.srgb).size > 256


def test_png_palette_greyscale_and_alpha_variants() -> None:
    rgb = _pattern()
    palette = decode_image(_encode(np.asarray(Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=8).convert("RGB")), "PNG"))
    assert np.abs(palette.srgb - rgb / 255.0).max() < 0.05

    buf = io.BytesIO()
    Image.fromarray(rgb).quantize(8).save(buf, "PNG")
    assert np.abs(decode_image(buf.getvalue()).srgb - rgb / 255.0).max() < 0.05

    grey = rgb[:, :, 1]
    g = decode_image(_encode(grey, "PNG"))
    assert g.srgb.shape == rgb.shape and np.allclose(g.srgb, (grey / 255.0)[:, :, None], atol=1e-6)

    la = np.dstack([grey, np.full_like(grey, 255)])
    buf = io.BytesIO()
    Image.fromarray(la, "LA").save(buf, "PNG")
    la_img = decode_image(buf.getvalue())
    assert la_img.had_alpha and la_img.transparent_mask is None
    assert np.allclose(la_img.srgb[:, :, 0], grey / 255.0, atol=1e-6)


def test_alpha_is_dropped_not_composited_and_transparency_is_reported() -> None:
    rgb = _pattern()
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:, :10] = 0
    img = decode_image(_encode(np.dstack([rgb, alpha]), "PNG"))
    assert img.had_alpha
    # colour kept as stored even where transparent (documented: no compositing)
    assert np.allclose(img.srgb, rgb / 255.0, atol=1e-6)
    assert img.transparent_mask is not None
    assert img.transparent_mask[:, :10].all() and not img.transparent_mask[:, 10:].any()


def test_heic_is_decoded() -> None:
    rgb = _pattern()
    img = decode_image(_encode(rgb, "HEIF", quality=95))
    assert img.format == "HEIF"
    assert img.srgb.shape == rgb.shape
    assert np.abs(img.srgb - rgb / 255.0).mean() < 0.03


def test_tiff_is_decoded() -> None:
    rgb = _pattern()
    img = decode_image(_encode(rgb, "TIFF"))
    assert img.format == "TIFF" and np.allclose(img.srgb, rgb / 255.0, atol=1e-6)


@pytest.mark.parametrize("quality", [50, 75, 90, 95])
@pytest.mark.parametrize(("subsampling", "label"), [(0, "4:4:4"), (1, "4:2:2"), (2, "4:2:0")])
def test_jpeg_quality_and_subsampling_are_read_from_the_file(quality: int, subsampling: int, label: str) -> None:
    img = decode_image(_encode(_pattern(), "JPEG", quality=quality, subsampling=subsampling))
    assert img.jpeg_quality == quality
    assert img.chroma_subsampling == label
    assert img.format == "JPEG" and img.bit_depth == 8


def test_jpeg_quality_from_opencv_encoder_too() -> None:
    ok, enc = cv2.imencode(".jpg", _pattern(), [cv2.IMWRITE_JPEG_QUALITY, 83])
    assert ok and decode_image(enc.tobytes()).jpeg_quality == 83


def test_exif_capture_time_is_read() -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2024:05:01 10:20:30"
    img = decode_image(_encode(_pattern(), "JPEG", exif=exif))
    assert img.exif_datetime == datetime(2024, 5, 1, 10, 20, 30)

    exif.get_ifd(0x8769)[0x9011] = "+02:00"
    img = decode_image(_encode(_pattern(), "JPEG", exif=exif))
    assert img.exif_datetime == datetime(2024, 5, 1, 10, 20, 30, tzinfo=timezone(timedelta(hours=2)))

    assert decode_image(_encode(_pattern(), "JPEG")).exif_datetime is None


def _icc_matrix_trc(description: str, gamma: float) -> bytes:
    """A minimal ICC v2 RGB display profile: sRGB colorants (D50-adapted) with a pure-gamma TRC."""

    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + b"\0" * 4 + s15(x) + s15(y) + s15(z)

    text = description.encode("ascii") + b"\0"
    desc = b"desc" + b"\0" * 4 + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0" * 3 + b"\0" * 67
    curv = b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curv), (b"gTRC", curv), (b"bTRC", curv),
        (b"cprt", b"text" + b"\0" * 4 + b"none\0\0\0\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, payload in tags:
        payload += b"\0" * (-len(payload) % 4)
        table += sig + struct.pack(">II", offset + len(body), len(payload))
        body += payload
    size = offset + len(body)
    header = (struct.pack(">I", size) + b"lcms" + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + b"\0" * 12 + b"acsp" + b"\0" * 24 + struct.pack(">I", 0) + s15(0.9642) + s15(1.0) + s15(0.8249)
              + b"\0" * 48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def test_icc_profile_is_converted_to_srgb() -> None:
    # Stored values are linear light (gamma 1.0 profile), so sRGB = linear_to_srgb(stored).
    levels = np.linspace(0, 255, 256).astype(np.uint8)
    stored = np.stack([levels, levels[::-1], np.roll(levels, 60)], axis=-1)[None].repeat(8, axis=0)
    icc = _icc_matrix_trc("Linear test RGB", 1.0)
    img = decode_image(_encode(stored, "PNG", icc_profile=icc))
    expected = linear_to_srgb(stored / 255.0)
    assert img.icc_profile == "Linear test RGB"
    assert np.abs(img.srgb - expected).max() < 3 / 255
    # the same pixels in JPEG (the phone path)
    jpg = decode_image(_encode(np.kron(stored, np.ones((1, 1, 1), np.uint8)), "JPEG", quality=100, subsampling=0, icc_profile=icc))
    assert np.abs(jpg.srgb - expected).mean() < 3 / 255


def test_icc_profile_on_16_bit_png_is_converted() -> None:
    ramp = np.linspace(0, 65535, 300 * 3).astype(np.uint16).reshape(1, 300, 3).repeat(4, axis=0)
    buf = io.BytesIO()
    # Pillow cannot write 16-bit RGB with a profile; add the iCCP chunk by hand to OpenCV's PNG.
    ok, enc = cv2.imencode(".png", ramp[:, :, ::-1])
    assert ok
    icc = _icc_matrix_trc("Gamma 2.2 test RGB", 2.2)
    chunk_data = b"icc\0\0" + zlib.compress(icc)
    chunk = struct.pack(">I", len(chunk_data)) + b"iCCP" + chunk_data + struct.pack(">I", zlib.crc32(b"iCCP" + chunk_data))
    raw = enc.tobytes()
    ihdr_end = 8 + 8 + 13 + 4
    buf.write(raw[:ihdr_end] + chunk + raw[ihdr_end:])
    img = decode_image(buf.getvalue())
    assert img.bit_depth == 16 and img.icc_profile == "Gamma 2.2 test RGB"
    expected = linear_to_srgb((ramp / 65535.0) ** 2.2)
    assert np.abs(img.srgb - expected).max() < 0.01


def test_srgb_profile_passes_through_unchanged() -> None:
    from PIL import ImageCms

    srgb_icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rgb = _pattern()
    img = decode_image(_encode(rgb, "PNG", icc_profile=srgb_icc))
    assert img.icc_profile is not None and np.allclose(img.srgb, rgb / 255.0, atol=1e-6)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "HEIF", "WEBP"])
def test_truncated_files_are_refused(fmt: str) -> None:
    rng = np.random.default_rng(1)
    noisy = np.clip(_pattern(240, 320).astype(int) + rng.integers(-20, 20, (240, 320, 3)), 0, 255).astype(np.uint8)
    data = _encode(noisy, fmt)
    for keep in (0.5, 0.9, 0.99):
        with pytest.raises(ImageDecodeError):
            decode_image(data[: int(len(data) * keep)])


def test_jpeg_missing_only_its_end_marker_is_refused() -> None:
    data = _encode(_pattern(), "JPEG", quality=90)
    assert data.endswith(b"\xff\xd9")
    with pytest.raises(ImageDecodeError, match="truncated"):
        decode_image(data[:-2])


def test_jpeg_with_exif_thumbnail_is_not_mistaken_for_complete_when_truncated() -> None:
    # The EXIF thumbnail carries its own end marker before the main image's data.
    thumb = io.BytesIO()
    Image.fromarray(_pattern(24, 36)).save(thumb, "JPEG")
    exif = Image.Exif()
    exif[0x0112] = 1
    data = _encode(_pattern(480, 720), "JPEG", exif=exif, quality=90)
    with pytest.raises(ImageDecodeError):
        decode_image(data[: len(data) // 2])


@pytest.mark.parametrize("payload", [b"", b"hello, not an image", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff" + b"\0" * 50])
def test_empty_and_non_image_bytes_are_refused(payload: bytes) -> None:
    with pytest.raises(ImageDecodeError):
        decode_image(payload)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageDecodeError, match="cannot read"):
        decode_image(tmp_path / "nope.jpg")


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a huge size but carries almost no data (a decompression bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize(("w", "h"), [(12_000, 11_000), (40_000, 40_000)])
def test_decompression_bombs_are_refused_before_decoding(w: int, h: int) -> None:
    start = time.perf_counter()
    with pytest.raises(ImageDecodeError, match="pixels|bomb"):
        decode_image(_png_header_only(w, h))
    assert time.perf_counter() - start < 0.5  # refused from the header, nothing decoded


def test_pixel_limit_is_the_callers() -> None:
    data = _encode(_pattern(), "JPEG")
    with pytest.raises(ImageDecodeError, match="pixels"):
        decode_image(data, max_pixels=100)
    assert decode_image(data, max_pixels=96 * 144).srgb.shape == (96, 144, 3)


@pytest.mark.parametrize(("kwargs", "name"), [({"reduce": 17}, "reduce"), ({"reduce": 0}, "reduce"), ({"max_pixels": 0}, "max_pixels")])
def test_bad_arguments_are_named(kwargs: dict[str, int], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        decode_image(_encode(_pattern(), "PNG"), **kwargs)


def test_bad_source_type_is_named() -> None:
    with pytest.raises(TypeError, match="source"):
        decode_image(12345)  # type: ignore[arg-type]


def test_pillow_truncated_image_loading_stays_off() -> None:
    import tracker.analysis.decode  # noqa: F401

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.slow
def test_reduced_decode_of_a_12_megapixel_jpeg_costs_about_one_plain_decode() -> None:
    rng = np.random.default_rng(7)
    small = cv2.GaussianBlur(rng.normal(0.55, 0.2, (750, 1000, 3)).astype(np.float32), (0, 0), 2)
    big = cv2.resize(small, (4000, 3000), interpolation=cv2.INTER_CUBIC) + rng.normal(0, 0.02, (3000, 4000, 3)).astype(np.float32)
    ok, enc = cv2.imencode(".jpg", np.clip(big * 255, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    data = enc.tobytes()
    decode_image(data, reduce=2)  # warm-up (plugin registration)

    def best(fn: object, n: int = 5) -> float:
        times = []
        for _ in range(n):
            t = time.perf_counter()
            fn()  # type: ignore[operator]
            times.append(time.perf_counter() - t)
        return min(times)

    plain = best(lambda: cv2.imdecode(enc, cv2.IMREAD_COLOR))
    ours = best(lambda: decode_image(data, reduce=2))
    assert decode_image(data, reduce=2).srgb.shape == (1500, 2000, 3)
    assert ours <= 1.25 * plain, f"decode_image(reduce=2) {ours * 1000:.0f} ms vs cv2.imdecode {plain * 1000:.0f} ms"


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
@pytest.mark.parametrize("reduce", [2, 3, 4])
def test_reduced_png_and_pillow_decodes_are_block_means_like_jpeg(fmt: str, reduce: int) -> None:
    # 101 x 147: the last blocks are incomplete and are completed by repeating the edge.
    rng = np.random.default_rng(3)
    stored = rng.integers(0, 256, (101, 147, 3), dtype=np.uint8)
    img = decode_image(_encode(stored, fmt), reduce=reduce)
    h, w = -(-101 // reduce), -(-147 // reduce)
    padded = np.pad(stored.astype(np.float64), ((0, h * reduce - 101), (0, w * reduce - 147), (0, 0)), mode="edge")
    expected = padded.reshape(h, reduce, w, reduce, 3).mean(axis=(1, 3)) / 255.0
    assert img.srgb.shape == (h, w, 3) and img.scale == 1.0 / reduce
    assert np.abs(img.srgb - expected).max() < 1e-5


def test_jpeg_reduced_by_a_factor_that_is_not_a_power_of_two_is_dct_scaled_then_block_averaged() -> None:
    data = _encode(np.random.default_rng(5).integers(0, 256, (120, 200, 3), dtype=np.uint8), "JPEG", quality=95)
    half = decode_image(data, reduce=2).srgb
    six = decode_image(data, reduce=6)
    padded = np.pad(half.astype(np.float64), ((0, 0), (0, 2), (0, 0)), mode="edge")  # 100 -> 102 wide
    expected = padded.reshape(20, 3, 34, 3, 3).mean(axis=(1, 3))
    assert six.srgb.shape == (20, 34, 3) and six.scale == 1 / 6 and six.codes is None
    assert np.abs(six.srgb - expected).max() < 1e-5


def test_codes_are_kept_when_exact_so_linear_light_uses_the_lookup_table() -> None:
    from tracker.analysis.colour import srgb_to_linear

    stored = _pattern()
    for fmt, reduce in (("JPEG", 2), ("PNG", 1)):
        img = decode_image(_encode(stored, fmt, **({"quality": 95} if fmt == "JPEG" else {})), reduce=reduce)
        assert img.codes is not None and img.codes.dtype == np.uint8
        assert np.array_equal(img.codes, np.rint(img.srgb * 255).astype(np.uint8))
        assert np.abs(img.linear() - srgb_to_linear(img.srgb)).max() < 1e-6
    assert decode_image(_encode(stored, "PNG"), reduce=2).codes is None  # averaged: not codes


def test_huge_16_bit_png_is_read_by_pillow_at_8_bits_without_bias(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stands in for a 100 MP 16-bit PNG: above the OpenCV limit, Pillow reads the high
    # byte; half a code added back keeps the mean where the 16-bit samples put it.
    from tracker.analysis import decode

    rng = np.random.default_rng(4)
    stored = rng.integers(20000, 50000, (64, 96, 3)).astype(np.uint16)
    ok, enc = cv2.imencode(".png", stored[:, :, ::-1])
    assert ok
    monkeypatch.setattr(decode, "OPENCV_PNG_MAX_BYTES", 1000)
    img = decode_image(enc.tobytes(), reduce=2)
    exact = stored.astype(np.float64).reshape(32, 2, 48, 2, 3).mean(axis=(1, 3)) / 65535.0
    assert img.bit_depth == 8
    assert abs(float(img.srgb.mean() - exact.mean())) < 0.1 / 255
    assert np.abs(img.srgb - exact).max() < 1.5 / 255


def test_two_decodes_larger_than_the_budget_run_one_after_the_other() -> None:
    import threading

    from tracker.analysis.decode import _Budget

    budget = _Budget(100)
    inside, most = [0], [0]
    lock = threading.Lock()

    def job() -> None:
        with budget.hold(80):  # each needs most of the budget
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.05)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=job) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
    with budget.hold(10**12):  # larger than the whole budget: runs alone, does not deadlock
        pass


def test_display_pixels_match_the_analysis_colour_conversion() -> None:
    from tracker.analysis.decode import decode_for_display

    levels = np.linspace(0, 255, 256).astype(np.uint8)
    stored = np.stack([levels, levels[::-1], np.roll(levels, 60)], axis=-1)[None].repeat(8, axis=0)
    data = _encode(stored, "PNG", icc_profile=_icc_matrix_trc("Linear test RGB", 1.0))
    shown = decode_for_display(data, long_side_px=256)
    measured = decode_image(data).srgb
    assert shown.dtype == np.uint8 and shown.shape == measured.shape
    assert np.abs(shown / 255.0 - measured).max() <= 0.5 / 255 + 1e-6
    # a 12 MP JPEG is reduced while decoding, to at least the display size
    big = np.zeros((3000, 4000, 3), np.uint8)
    assert decode_for_display(_encode(big, "JPEG", quality=80), long_side_px=1600).shape == (1500, 2000, 3)
