"""analyze_photo's contract: frames, keys, refusals, spots and lines through the whole chain."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tracker.analysis import ANALYSIS_VERSION, AnalysisInputError, analyze_photo, prepare_baseline
from tracker.analysis.decode import ImageDecodeError
from tracker.simulate import true_measures

from ._pipeline_cases import scene, scene_mask_from_baseline, shoot

POSE = dict(rotation_deg=-4.0, shift_px=(-40.0, 25.0), scale=0.95)


@pytest.fixture(scope="module")
def pair():
    before = scene(21)
    base_cap, base_jpeg = shoot(before, seed=1, chart=True)
    photo_cap, photo_jpeg = shoot(before, seed=2, chart=True, cct_k=4000.0, exposure=0.8, **POSE)
    analysis = analyze_photo(photo_jpeg, baseline=base_jpeg)
    return before, base_cap, photo_cap, analysis


def test_importing_the_analysis_leaves_web_and_database_layers_out():
    code = (
        "import sys, tracker.analysis; tracker.analysis.analyze_photo; import tracker.analysis.outputs; "
        "print(sorted(m for m in ('flask', 'sqlalchemy', 'flask_login', 'huey') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_result_json_has_every_documented_key(pair):
    result = pair[3].to_dict()
    json.dumps(result, allow_nan=False)  # valid JSON, no NaN
    assert result["analysis_version"] == ANALYSIS_VERSION
    assert result["measured_in"] == "baseline"
    assert (result["image"]["width"], result["image"]["height"]) == (1400, 1050)
    for key in ("ok", "reasons"):
        assert key in result["quality"]
    for key in ("method", "calibrated", "chart_delta_e_mean", "chart_delta_e_max", "mm_per_px"):
        assert key in result["calibration"]
    for key in ("ok", "reason", "matrix", "residual_px"):
        assert key in result["alignment"]
    assert result["roi"]["area_px"] > 0
    assert set(result["redness"]) >= {"erythema_index_mean", "red_area_pct"}
    assert set(result["pigment"]) >= {
        "melanin_index_mean", "background_melanin_index_mean", "spot_count", "spot_area_pct", "spot_area_mm2",
    }
    assert set(result["texture"]) >= {"roughness", "line_density"}
    assert set(result["skin_tone"]) >= {"ita_deg", "class"}
    assert set(result["mdc"]) >= {"erythema_index_mean", "spot_area_pct", "line_density"}
    comparison = result["comparison"]
    assert comparison["common_area_px"] > 0
    assert set(comparison["baseline"]["redness"]) >= {"erythema_index_mean", "red_area_pct"}
    for change in comparison["delta"].values():
        assert change["verdict"] in {"improved", "no measurable change", "worse", "not comparable"}
    assert "parameters" in result and result["working_scale"] > 0


def test_matrix_maps_photo_pixels_onto_the_same_skin_in_the_baseline(pair):
    _, base_cap, photo_cap, analysis = pair
    matrix = np.array(analysis.result.alignment.matrix)
    # Truth: photo px -> scene px (photo capture), then scene px -> baseline px (inverse of the baseline's).
    to_scene = np.vstack([photo_cap.matrix_to_scene, [0, 0, 1]])
    from_scene = np.linalg.inv(np.vstack([base_cap.matrix_to_scene, [0, 0, 1]]))
    truth = (from_scene @ to_scene)[:2]
    h, w = photo_cap.srgb.shape[:2]
    points = np.array([[w * 0.3, h * 0.3, 1], [w * 0.7, h * 0.4, 1], [w * 0.5, h * 0.8, 1], [w * 0.8, h * 0.7, 1]])
    error = np.linalg.norm(points @ matrix.T - points @ truth.T, axis=1)
    assert error.max() <= 1.0, error


def test_chart_gives_the_scale_and_spots_are_measured_in_mm2(pair):
    before, base_cap, _, analysis = pair
    result = analysis.result
    assert result.baseline_calibration.mm_per_px == pytest.approx(0.05, rel=0.02)
    # The photo was taken 5 % farther away (scale 0.95): each of its pixels spans more skin.
    assert result.calibration.mm_per_px == pytest.approx(0.05 / 0.95, rel=0.02)
    # Spots fully inside the common region, measured in the photo warped to the baseline.
    truth = true_measures(before, mask=scene_mask_from_baseline(analysis.artifacts.region, base_cap))
    assert result.measures.spot_area_mm2 == pytest.approx(truth.spot_area_mm2, rel=0.15)


def test_photo_of_another_area_is_refused_and_measured_alone():
    other = scene(99)
    base = scene(21)
    _, base_jpeg = shoot(base, seed=1, chart=True)
    _, other_jpeg = shoot(other, seed=3, chart=True)

    result = analyze_photo(other_jpeg, baseline=base_jpeg).to_dict()

    assert result["alignment"]["ok"] is False
    assert result["alignment"]["reason"]
    assert result["measured_in"] == "photo"
    assert result["comparison"] is None
    assert result["redness"]["erythema_index_mean"] is not None


def test_prepared_baseline_gives_the_same_figures_as_a_path(pair, tmp_path):
    before, _, _, analysis = pair
    _, base_jpeg = shoot(before, seed=1, chart=True)
    _, photo_jpeg = shoot(before, seed=2, chart=True, cct_k=4000.0, exposure=0.8, **POSE)
    again = analyze_photo(photo_jpeg, baseline=prepare_baseline(base_jpeg)).to_dict()
    first = analysis.to_dict()
    assert again["redness"] == pytest.approx(first["redness"], rel=1e-3)
    for measure, change in first["comparison"]["delta"].items():
        assert again["comparison"]["delta"][measure]["verdict"] == change["verdict"]
        assert again["comparison"]["delta"][measure]["value"] == pytest.approx(change["value"], rel=1e-2, abs=1e-3)


def test_roi_mask_restricts_the_measured_region(pair, tmp_path):
    before, base_cap, _, analysis = pair
    _, base_jpeg = shoot(before, seed=1, chart=True)
    _, photo_jpeg = shoot(before, seed=2, chart=True, cct_k=4000.0, exposure=0.8, **POSE)
    mask = np.zeros(base_cap.srgb.shape[:2], dtype=np.uint8)
    mask[600:1000, 700:1300] = 255  # lower right, away from the chart

    narrowed = analyze_photo(photo_jpeg, baseline=base_jpeg, roi=mask).result

    assert 0 < narrowed.roi_area_px <= 400 * 600
    assert narrowed.roi_area_px < analysis.result.roi_area_px / 2


def test_roi_of_the_wrong_size_is_an_input_error(pair):
    before = scene(21)
    _, jpeg = shoot(before, seed=1)
    with pytest.raises(AnalysisInputError, match="roi"):
        analyze_photo(jpeg, roi=np.zeros((10, 10), dtype=np.uint8))


def test_truncated_photo_is_a_decode_error():
    _, jpeg = shoot(scene(21), seed=1)
    with pytest.raises(ImageDecodeError):
        analyze_photo(jpeg[: len(jpeg) // 2])


def test_twelve_megapixel_photo_is_analysed_at_a_reduced_working_scale():
    from tracker.simulate import capture, encode_jpeg, make_skin_scene

    big = make_skin_scene(seed=5, shape_px=(3100, 4100), mm_per_px=0.025, n_spots=4)
    cap = capture(big, seed=1, chart=True, chart_model="nano", out_shape=(3000, 4000))
    result = analyze_photo(encode_jpeg(cap.srgb, quality=90)).to_dict()
    assert (result["image"]["width"], result["image"]["height"]) == (4000, 3000)
    assert result["working_scale"] == 0.5
    assert result["calibration"]["mm_per_px"] == pytest.approx(0.025, rel=0.03)
    assert result["px_per_mm"] == pytest.approx(20.0, rel=0.03)
    assert result["pigment"]["spot_count"] >= 1


def test_shallower_lines_lower_line_density_through_the_whole_chain():
    deep, shallow = scene(33, line_depth_mm=0.08, n_spots=0), scene(33, line_depth_mm=0.056, n_spots=0)
    _, base_jpeg = shoot(deep, seed=1, chart=True)
    prepared = prepare_baseline(base_jpeg)
    _, same_jpeg = shoot(deep, seed=2, chart=True, exposure=0.85, **POSE)
    _, smoother_jpeg = shoot(shallow, seed=3, chart=True, exposure=0.85, **POSE)

    unchanged = analyze_photo(same_jpeg, baseline=prepared).result.comparison
    smoother = analyze_photo(smoother_jpeg, baseline=prepared).result.comparison

    def relative_change(comparison) -> float:
        change = next(c for c in comparison.changes if c.measure == "line_density")
        return change.delta / change.baseline

    assert abs(relative_change(unchanged)) < 0.10  # no true change: under 10 %
    assert -0.45 <= relative_change(smoother) <= -0.15  # lines 30 % shallower


def test_mdc_table_was_estimated_for_this_analysis_version():
    # A version bump that can move figures must come with a re-estimated MDC (tracker mdc-estimate).
    from tracker.analysis.mdc import mdc_provenance, mdc_table

    provenance = mdc_provenance()
    assert provenance["analysis_version"] == ANALYSIS_VERSION
    assert provenance["pairs"]["calibrated"]["pairs"] >= 30
    calibrated, uncalibrated = mdc_table(calibrated=True), mdc_table(calibrated=False)
    assert all(v > 0 for v in calibrated.values()), calibrated
    assert all(uncalibrated[k] >= calibrated[k] for k in calibrated)
    # Small photos: never narrower than full-size ones, measure by measure, widening as they shrink,
    # and estimated on real ones.
    for cal in (True, False):
        bands = [mdc_table(calibrated=cal, long_side_px=side) for side in (4000, 1000, 979, 548, 300, 200)]
        for wider, narrower in zip(bands[1:], bands[:-1], strict=True):
            assert all(wider[k] >= narrower[k] for k in narrower), cal
        assert bands[0] == bands[1] == mdc_table(calibrated=cal)
        assert any(bands[4][k] > 2 * bands[0][k] for k in bands[0]), cal
        assert bands[4] == bands[5]
    assert provenance["pairs"]["uncalibrated"]["real_small_photos"]["pairs"] >= 60


def test_a_pair_holding_a_small_photo_is_judged_against_the_small_photo_band_and_says_so():
    # Thumbnails (400 x 300 px, as a messaging app sends them) of two photos: the wider band, and a note naming them.
    import cv2

    from tracker.analysis.mdc import mdc_table
    from tracker.simulate import encode_jpeg

    sc = scene(12)
    (base_cap, base_jpeg), (photo_cap, _) = shoot(sc, seed=1), shoot(sc, seed=2, **POSE)
    thumbs = [encode_jpeg(cv2.resize(c.srgb, (400, 300), interpolation=cv2.INTER_AREA), quality=90)
              for c in (base_cap, photo_cap)]
    small = analyze_photo(thumbs[1], baseline=thumbs[0]).result
    assert small.comparison is not None
    assert small.mdc == mdc_table(calibrated=False, long_side_px=400)
    assert small.mdc["pigment_load"] > 1.5 * mdc_table(calibrated=False)["pigment_load"]
    note = next(n for n in small.comparison.notes if n.startswith("small photo: "))
    assert "this photo (400 x 300 px) and the baseline (400 x 300 px)" in note and "original" in note
    full = analyze_photo(base_jpeg, baseline=base_jpeg).result
    assert full.comparison is not None and full.mdc == mdc_table(calibrated=False)
    assert not any(n.startswith("small photo") for n in full.comparison.notes)
