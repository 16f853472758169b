"""assess_quality: a technician is told to retake blurred, badly exposed or over-compressed photos, and only those."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tracker.analysis.colour import linear_to_srgb, srgb_to_linear
from tracker.analysis.decode import DecodedImage, decode_image
from tracker.analysis.quality import MIN_SHARPNESS, QualityReport, assess_quality

FULL_RES_CLOSE_UPS = [
    "PAT_117_179_983.png", "PAT_1276_957_406.png", "PAT_1710_3160_488.png", "PAT_1984_4038_265.png",
    "PAT_288_441_312.png", "PAT_430_848_476.png", "PAT_46_881_939.png", "PAT_544_3299_671.png",
]


def _as_decoded(srgb: np.ndarray, *, fmt: str = "PNG") -> DecodedImage:
    h, w = srgb.shape[:2]
    return DecodedImage(np.ascontiguousarray(srgb, dtype=np.float32), w, h, 1.0, fmt, 8, False, None, None, None)


def _jpeg(srgb: np.ndarray, quality: int, subsampling: int) -> DecodedImage:
    buf = io.BytesIO()
    Image.fromarray(np.clip(np.rint(srgb * 255), 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=quality, subsampling=subsampling)
    return decode_image(buf.getvalue())


def _close_up(real_data_dir: Path, name: str) -> np.ndarray:
    path = real_data_dir / "pad_ufes_20" / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return decode_image(path).srgb


def _smooth_skin(h: int = 600, w: int = 800, seed: int = 0) -> np.ndarray:
    """Even, smooth skin: a gentle shading gradient, faint fine texture and sensor noise, sharp."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = 0.85 + 0.15 * np.cos((xx - w / 2) / w * 2.0) * np.cos((yy - h / 2) / h * 1.5)
    fine = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 1.2) * 0.01
    base = np.array([0.75, 0.55, 0.45], np.float32)
    srgb = base * (shade + fine)[:, :, None] + rng.normal(0, 0.004, (h, w, 3)).astype(np.float32)
    return np.clip(srgb, 0, 1).astype(np.float32)


@pytest.mark.real_data
@pytest.mark.parametrize("name", FULL_RES_CLOSE_UPS)
def test_real_full_resolution_close_ups_pass(real_data_dir: Path, name: str) -> None:
    report = assess_quality(_as_decoded(_close_up(real_data_dir, name)))
    assert isinstance(report, QualityReport)
    assert report.ok, report.reasons
    assert report.sharpness >= MIN_SHARPNESS


@pytest.mark.real_data
@pytest.mark.parametrize("name", FULL_RES_CLOSE_UPS)
def test_blurred_real_close_ups_fail_with_a_blur_reason(real_data_dir: Path, name: str) -> None:
    srgb = _close_up(real_data_dir, name)
    sigma = 0.0025 * max(srgb.shape[:2])  # 3 px on a 1200 px photo: visibly out of focus
    report = assess_quality(_as_decoded(cv2.GaussianBlur(srgb, (0, 0), sigma)))
    assert not report.ok
    assert any("blur" in r for r in report.reasons), report.reasons
    assert report.sharpness < assess_quality(_as_decoded(srgb)).sharpness / 2


def test_sharp_smooth_skin_is_not_called_blurred() -> None:
    srgb = _smooth_skin()
    report = assess_quality(_as_decoded(srgb))
    assert report.ok, report.reasons
    blurred = assess_quality(_as_decoded(cv2.GaussianBlur(srgb, (0, 0), 3.0)))
    assert any("blur" in r for r in blurred.reasons)


def test_sharpness_does_not_depend_on_contrast_or_brightness() -> None:
    srgb = _smooth_skin()
    a = assess_quality(_as_decoded(srgb)).sharpness
    b = assess_quality(_as_decoded(np.clip(0.5 * srgb + 0.2, 0, 1))).sharpness
    assert abs(a - b) / a < 0.05


@pytest.mark.real_data
def test_overexposed_photo_fails_with_an_exposure_reason(real_data_dir: Path) -> None:
    srgb = _close_up(real_data_dir, "PAT_46_881_939.png")
    over = linear_to_srgb(np.clip(srgb_to_linear(srgb) * 2.5, 0, 1))
    report = assess_quality(_as_decoded(over))
    assert not report.ok
    assert report.overexposed_pct > 20
    assert any(r.startswith("overexposed") and "% of the skin is clipped" in r for r in report.reasons), report.reasons


def test_a_red_channel_clipped_alone_is_named_and_a_white_blow_out_is_not() -> None:
    # Warm skin under a strong light: R at the top, G and B well below. The face looks well
    # exposed to a person, so the refusal says which channel is saturated, and why it matters.
    warm = np.clip(_smooth_skin() * 0.2 + np.float32([0.99, 0.62, 0.52]), 0, 1).astype(np.float32)
    reasons = assess_quality(_as_decoded(warm)).reasons
    assert any(r.startswith("overexposed") and "its red channel is saturated" in r for r in reasons), reasons
    white = np.full_like(warm, 0.995)
    reasons = assess_quality(_as_decoded(white)).reasons
    assert any(r.startswith("overexposed") for r in reasons) and not any("channel" in r for r in reasons), reasons


@pytest.mark.real_data
def test_a_real_portrait_with_its_red_channel_saturated_is_refused_saying_so(real_data_dir: Path) -> None:
    from tracker.analysis import analyze_photo

    result = analyze_photo(real_data_dir / "interfaces_cc0_faces" / "interfaces_016.jpg", view="front").to_dict()
    assert result["quality"]["ok"] is False
    assert any("its red channel is saturated" in r for r in result["quality"]["reasons"]), result["quality"]["reasons"]


@pytest.mark.real_data
def test_underexposed_photo_fails_with_an_exposure_reason(real_data_dir: Path) -> None:
    srgb = _close_up(real_data_dir, "PAT_430_848_476.png")
    under = linear_to_srgb(srgb_to_linear(srgb) * 0.004)
    report = assess_quality(_as_decoded(under))
    assert any(r.startswith("underexposed") for r in report.reasons), report.reasons


def test_clipped_pixels_left_out_of_the_region_still_count() -> None:
    srgb = _smooth_skin()
    srgb[200:400, 300:550] = 1.0  # a blown-out patch in the middle of the skin
    region = ~(srgb >= 0.98).any(axis=2)  # a skin mask that (rightly) left the clipped pixels out
    report = assess_quality(_as_decoded(srgb), region=region)
    expected = 100 * 200 * 250 / (600 * 800)
    assert report.overexposed_pct == pytest.approx(expected, rel=0.02)
    assert not report.ok


@pytest.mark.real_data
@pytest.mark.parametrize("name", ["PAT_46_881_939.png", "PAT_1984_4038_265.png"])
def test_heavy_jpeg_compression_fails_and_phone_quality_passes(real_data_dir: Path, name: str) -> None:
    srgb = _close_up(real_data_dir, name)
    heavy = assess_quality(_jpeg(srgb, 50, 2))
    assert (heavy.jpeg_quality, heavy.chroma_subsampling) == (50, "4:2:0")
    assert not heavy.ok
    assert any(r.startswith("heavy JPEG compression (quality ~50, 4:2:0)") for r in heavy.reasons), heavy.reasons
    phone = assess_quality(_jpeg(srgb, 90, 2))
    assert phone.ok, phone.reasons
    assert (phone.jpeg_quality, phone.chroma_subsampling) == (90, "4:2:0")


def test_small_skin_region_fails() -> None:
    srgb = _smooth_skin()
    region = np.zeros(srgb.shape[:2], bool)
    region[:40, :40] = True
    report = assess_quality(_as_decoded(srgb), region=region)
    assert report.region_px == 1600
    assert any("skin region too small" in r for r in report.reasons)


def test_region_is_checked() -> None:
    d = _as_decoded(_smooth_skin())
    with pytest.raises(ValueError, match="region"):
        assess_quality(d, region=np.ones((10, 10), bool))
    with pytest.raises(TypeError, match="region"):
        assess_quality(d, region=np.ones(d.srgb.shape[:2], np.uint8))
    with pytest.raises(TypeError, match="image"):
        assess_quality(d.srgb)  # type: ignore[arg-type]
