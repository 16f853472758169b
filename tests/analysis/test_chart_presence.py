"""The look before the chart search: it lets every chart through and turns away skin close-ups.

A photo the look turns away is not searched, so the gate must never hide a chart the search
would have found: real chart photos (as taken, rotated, re-encoded as a phone JPEG), simulated
charts under lights from 2000 K to 10000 K, and a real chart pasted into a 12 MP close-up well
well below the smallest size the search finds all pass it.
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.analysis._chart_helpers import record_chart_searches
from tracker.analysis.chart import detect_chart
from tracker.analysis.chart import detection as detection_module
from tracker.analysis.chart.presence import might_hold_chart
from tracker.simulate import capture, make_skin_scene

CHART_PHOTOS = [
    "colour_checker_detection/ccd_classic_chair_window_uncorrected.png",
    "colour_checker_detection/ccd_classic_chair_window_corrected.png",
    "colour_checker_detection/ccd_classic_quilt_uncorrected.png",
    "colour_checker_detection/ccd_classic_wall_uncorrected.png",
    "plantcv/source1_img.png",
    "plantcv/source2_img.png",  # the chart runs off the bottom of the frame
    "plantcv/target_img.png",
    "plantcv/colorchecker-classic-mini.jpg",
]
# Close-ups of skin that fill the frame (PAD-UFES-20): no chart, and nothing else colourful.
PLAIN_CLOSE_UPS = [
    "pad_ufes_20/PAT_100_393_898.png",
    "pad_ufes_20/PAT_288_441_312.png",
    "pad_ufes_20/PAT_544_3299_671.png",
]


def _codes(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, f"cannot read {path}"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _as_phone_jpeg(codes: np.ndarray) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(codes).save(buf, "JPEG", quality=70, subsampling=2)  # 4:2:0 halves the chroma
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _codes_of(srgb: np.ndarray) -> np.ndarray:
    return (np.clip(srgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _detect(codes: np.ndarray) -> object:
    return detect_chart(codes.astype(np.float32) / 255.0, codes=codes)


@pytest.fixture(scope="module")
def close_up_12mp() -> np.ndarray:
    scene = make_skin_scene(seed=202, shape_px=(800, 1066), mm_per_px=0.05)
    return _codes_of(capture(scene, seed=5, out_shape=(3000, 4000)).srgb)


@pytest.mark.real_data
@pytest.mark.parametrize("name", CHART_PHOTOS)
def test_every_real_chart_photo_passes_as_taken_turned_and_recompressed(real_data_dir: Path, name: str) -> None:
    codes = _codes(real_data_dir / name)
    for variant in (codes, np.ascontiguousarray(np.rot90(codes)), _as_phone_jpeg(codes)):
        assert might_hold_chart(variant), f"{name}: a chart photo would not be searched"


@pytest.mark.parametrize("model, scale", [("mini", 1.0), ("classic", 0.3), ("nano", 1.5)])
@pytest.mark.parametrize("light, exposure", [(2000.0, 0.35), (2000.0, 1.3), (10000.0, 0.35), (10000.0, 1.3)])
def test_simulated_charts_pass_under_any_light_and_exposure(model: str, scale: float, light: float, exposure: float) -> None:
    scene = make_skin_scene(seed=11, shape_px=(600, 800), mm_per_px=0.2)
    shot = capture(scene, seed=3, cct_k=light, exposure=exposure, gradient=0.3, chart=True, chart_model=model,
                   chart_position="top-left", chart_angle_deg=3.0, scale=scale)
    assert might_hold_chart(_codes_of(shot.srgb))


@pytest.mark.real_data
@pytest.mark.slow
def test_a_small_real_chart_in_a_12mp_close_up_passes_well_below_the_smallest_one_found(
    real_data_dir: Path, close_up_12mp: np.ndarray,
) -> None:
    chart = _codes(real_data_dir / "plantcv" / "colorchecker-classic-mini.jpg")

    def pasted(height: int) -> np.ndarray:
        width = round(chart.shape[1] * height / chart.shape[0])
        photo = close_up_12mp.copy()
        photo[200 : 200 + height, 300 : 300 + width] = cv2.resize(chart, (width, height), interpolation=cv2.INTER_AREA)
        return photo

    assert not might_hold_chart(close_up_12mp)
    assert _detect(pasted(500)) is not None  # the smallest the search finds here (not one of 400 px)
    for height in (300, 200):  # 2.5x smaller than that still lets the search run
        assert might_hold_chart(pasted(height)), f"a {height} px chart would not be searched"


def test_a_simulated_skin_close_up_is_not_searched(monkeypatch: pytest.MonkeyPatch, close_up_12mp: np.ndarray) -> None:
    searched = record_chart_searches(monkeypatch)
    for light in (2700.0, 5000.0, 6500.0):
        scene = make_skin_scene(seed=int(light), shape_px=(600, 800), mm_per_px=0.05)
        codes = _codes_of(capture(scene, seed=1, cct_k=light, exposure=0.8, gradient=0.2).srgb)
        assert _detect(codes) is None
    assert _detect(close_up_12mp) is None
    assert searched == [], f"the chart search ran at {searched} px on close-ups of skin"


@pytest.mark.real_data
@pytest.mark.parametrize("name", PLAIN_CLOSE_UPS)
def test_a_real_close_up_that_fills_the_frame_is_not_searched(real_data_dir: Path, name: str) -> None:
    assert not might_hold_chart(_codes(real_data_dir / name))


@pytest.mark.real_data
def test_the_look_changes_no_detection(monkeypatch: pytest.MonkeyPatch, real_data_dir: Path) -> None:
    """With the look or without it, the same charts at the same corners, and no chart where none is."""
    names = [*CHART_PHOTOS[::2], *PLAIN_CLOSE_UPS, "pad_ufes_20/PAT_1276_957_406.png",
             "interfaces_cc0_faces/interfaces_006.jpg"]
    photos = {name: _codes(real_data_dir / name) for name in names}
    with_look = {name: _detect(codes) for name, codes in photos.items()}
    monkeypatch.setattr(detection_module, "might_hold_chart", lambda codes: True)
    for name, codes in photos.items():
        without = _detect(codes)
        found = with_look[name]
        assert (found is None) == (without is None), name
        if found is not None and without is not None:
            np.testing.assert_array_equal(found.corners, without.corners, err_msg=name)
    assert sum(found is not None for found in with_look.values()) == len(CHART_PHOTOS[::2])
