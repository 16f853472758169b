"""Every real photograph runs through the whole pipeline and gives a sensible, honest result.

The photographs live in ../shared/data/real (see each folder's SOURCES.md); the
test skips with a reason when that folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracker.analysis import analyze_photo

from ..conftest import REAL_DATA_DIR

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
REAL_PHOTOS = sorted(p for p in REAL_DATA_DIR.glob("*/*") if p.suffix.lower() in IMAGE_SUFFIXES) if REAL_DATA_DIR.is_dir() else []


@pytest.mark.real_data
@pytest.mark.parametrize("name", [f"{p.parent.name}/{p.name}" for p in REAL_PHOTOS] or ["(none)"])
def test_every_real_photo_is_analysed_without_error(real_data_dir: Path, name: str):
    result = analyze_photo(real_data_dir / name).to_dict()

    json.dumps(result, allow_nan=False)
    assert result["measured_in"] == "photo"
    assert result["image"]["width"] > 0 and result["image"]["height"] > 0
    assert isinstance(result["quality"]["ok"], bool)
    if not result["quality"]["ok"]:
        assert result["quality"]["reasons"], "a refusal always says why"
    if result["roi"]["area_px"] > 0 and result["redness"]["erythema_index_mean"] is not None:
        assert -20 < result["redness"]["erythema_index_mean"] < 100


@pytest.mark.real_data
@pytest.mark.parametrize(
    "folder, expect_chart",
    [("colour_checker_detection", True), ("plantcv", True), ("interfaces_cc0_faces", False)],
)
def test_chart_photos_are_calibrated_and_faces_without_chart_are_not(real_data_dir: Path, folder: str, expect_chart: bool):
    for path in sorted((real_data_dir / folder).iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES or path.name.endswith("_corrected.png"):
            continue
        calibration = analyze_photo(path).to_dict()["calibration"]
        assert calibration["calibrated"] is expect_chart, path.name
        if expect_chart:
            assert calibration["method"] == "colour_chart"
            assert calibration["chart_delta_e_mean"] <= 3.0, (path.name, calibration)
        else:
            assert calibration["method"] == "none"


@pytest.mark.real_data
@pytest.mark.parametrize(
    "photo, baseline",
    [
        ("pad_ufes_20/PAT_117_179_983.png", "pad_ufes_20/PAT_288_441_312.png"),  # two patients' faces
        ("pad_ufes_20/PAT_1710_3160_488.png", "pad_ufes_20/PAT_46_881_939.png"),  # nose vs neck
        ("interfaces_cc0_faces/interfaces_001.jpg", "interfaces_cc0_faces/interfaces_006.jpg"),  # two people
    ],
)
def test_photos_of_different_patients_or_areas_are_never_compared(real_data_dir: Path, photo: str, baseline: str):
    result = analyze_photo(real_data_dir / photo, baseline=real_data_dir / baseline).to_dict()

    assert result["alignment"]["ok"] is False
    assert result["alignment"]["reason"]
    assert result["comparison"] is None
    assert result["measured_in"] == "photo"


@pytest.mark.real_data
def test_same_lesion_photographed_twice_is_aligned_and_compared(real_data_dir: Path):
    # PAT_1286_999: the same pigmented keratosis photographed twice minutes apart
    # (checked by eye: the naevus centres land 1.6 px apart after alignment).
    result = analyze_photo(
        real_data_dir / "pad_ufes_20/PAT_1286_999_846.png", baseline=real_data_dir / "pad_ufes_20/PAT_1286_999_824.png"
    ).to_dict()

    assert result["alignment"]["ok"] is True, result["alignment"]
    assert result["measured_in"] == "baseline"
    comparison = result["comparison"]
    assert comparison["common_area_px"] > 0
    # No colour reference in either photo: no verdict on exposure-dependent indices.
    assert comparison["calibrated"] is False
    assert comparison["delta"]["melanin_index_mean"]["verdict"] == "not comparable"


@pytest.mark.real_data
def test_a_declared_close_up_of_a_naevus_under_a_grey_cast_is_measured_not_refused(real_data_dir: Path):
    # PAT_100_393_595: the whole frame is skin, greyed by the phone's white balance. Read as the
    # naevus alone, the photo was refused ("skin region too small") and its partner photo of the
    # same naevus read 26 EI redder; measured as the skin it is, the naevus is one spot in it.
    result = analyze_photo(real_data_dir / "pad_ufes_20/PAT_100_393_595.png", view="closeup").to_dict()

    assert result["quality"]["ok"] is True, result["quality"]["reasons"]
    assert result["roi"]["area_px"] >= 0.95 * 300 * 300
    assert result["pigment"]["spot_count"] == 1
    assert 5.0 < result["pigment"]["spot_area_pct"] < 12.0  # the naevus, about 8 % of the frame
