"""The pipeline recovers known changes under changed light, invents none, and says when it cannot.

The trap: a normalisation that matches skin statistics erases the very
change the clinic wants to see. Here the truth changes AND the capture changes
(exposure, light colour, illumination gradient, pose), with a chart in frame.

Physics sets a limit the tests encode rather than hide: skin and the chart differ
spectrally (haemoglobin's 540-580 nm bands), so no chart correction carries skin
colour exactly across a large change of light (illuminant metamerism). Measured
on the simulator, an ideal chart fit recovers 118 % of a true redness change at
2700 K and 108 % at 4000 K when both photos share the light, and a 6500 K baseline
against a 4000 K photo reads a light-only change of about +1.2 EI. So:

- same light (the clinic's standard lamp): the change is recovered within ±10 %
  at 4000 and 6500 K in every exposure x gradient cell;
- light within ``LIGHT_MISMATCH_MIRED`` of the baseline's: within ±10 % too;
- warm light (< 3500 K) or a light far from the baseline's: the colour measures
  are marked "not comparable" with the reason, never given a verdict.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

import pytest

from tracker.analysis import analyze_photo, prepare_baseline
from tracker.analysis.pipeline import MIN_COLOUR_CCT_K

from ._pipeline_cases import (
    LIGHT_GRID,
    Cell,
    max_unclipped_exposure,
    scene,
    scene_mask_from_baseline,
    shoot,
    true_delta_ei,
)

BEFORE = dict(haemoglobin_od=0.3, redness=0.45)
AFTER = dict(haemoglobin_od=0.18, redness=0.27)  # 40 % less blood: the true EI falls by about 6 units
POSE = dict(rotation_deg=3.0, shift_px=(35.0, -20.0), scale=1.03)
#: The target for the EI's MDC95 with a chart is 0.5. The estimate from 30
#: simulated repeat pairs is 0.506 (data/mdc.json), and with 30 pairs its own sampling
#: error is about ±13 %: the bound admits that error, not more.
MDC_EI_BOUND = 0.55
NEAR_LIGHTS = (6000.0, 7000.0)  # within 20 mired of 6500 K
FAR_LIGHTS = (4000.0, 2700.0)


def _seed(*parts: object) -> int:
    return zlib.crc32(repr(parts).encode()) % 100_000


@lru_cache(maxsize=4)
def _baseline(cct_k: float):
    before = scene(7, **BEFORE)
    cap, jpeg = shoot(before, seed=_seed("baseline", cct_k), chart=True, cct_k=cct_k)
    return cap, prepare_baseline(jpeg)


def _photo(sc, cell: Cell, seed: int) -> bytes:
    light = dict(cct_k=cell.cct_k, gradient=cell.gradient, gradient_angle_deg=30.0)
    exposure = max_unclipped_exposure(sc, **light, **POSE) if cell.exposure == "max" else cell.exposure
    return shoot(sc, seed=seed, chart=True, exposure=exposure, **light, **POSE)[1]


def _redness_change(baseline_cct: float, cell: Cell, *, true_change: bool):
    base_cap, prepared = _baseline(baseline_cct)
    before = scene(7, **BEFORE)
    later = scene(7, **AFTER) if true_change else before
    analysis = analyze_photo(_photo(later, cell, _seed(cell.label(), baseline_cct, true_change)), baseline=prepared)
    result = analysis.result
    assert result.alignment is not None and result.alignment.ok, result.alignment
    assert result.comparison is not None and result.comparison.calibrated
    truth = true_delta_ei(before, later, scene_mask_from_baseline(analysis.artifacts.region, base_cap))
    return result.comparison.to_dict(), truth


def _expect_recovered(comparison: dict, truth: float, label: str) -> None:
    measured = comparison["delta"]["erythema_index_mean"]
    assert truth < -4.0, "the simulated treatment must lower redness clearly"
    assert measured["value"] == pytest.approx(truth, rel=0.10), (label, measured, truth)
    assert measured["verdict"] == "improved"


def _expect_no_change(comparison: dict, label: str) -> None:
    delta = comparison["delta"]["erythema_index_mean"]
    assert abs(delta["value"]) < delta["mdc"], (label, delta)
    assert delta["verdict"] == "no measurable change"
    assert delta["mdc"] <= MDC_EI_BOUND


def _expect_refused_with_reason(comparison: dict, label: str, reason: str) -> None:
    for measure in ("erythema_index_mean", "red_area_pct", "melanin_index_mean", "background_melanin_index_mean"):
        change = comparison["delta"][measure]
        assert change["verdict"] == "not comparable", (label, measure, change)
        assert reason in change["note"], (label, change["note"])
    assert any(reason in note for note in comparison["notes"])


@pytest.mark.slow
@pytest.mark.parametrize("cell", LIGHT_GRID, ids=Cell.label)
def test_same_light_series_recovers_the_true_redness_change(cell):
    comparison, truth = _redness_change(cell.cct_k, cell, true_change=True)
    if cell.cct_k < MIN_COLOUR_CCT_K:
        _expect_refused_with_reason(comparison, cell.label(), "warm light")
    else:
        _expect_recovered(comparison, truth, cell.label())


@pytest.mark.slow
@pytest.mark.parametrize("cell", LIGHT_GRID, ids=Cell.label)
def test_same_light_series_without_true_change_stays_inside_the_mdc(cell):
    comparison, _ = _redness_change(cell.cct_k, cell, true_change=False)
    if cell.cct_k < MIN_COLOUR_CCT_K:
        _expect_refused_with_reason(comparison, cell.label(), "warm light")
    else:
        _expect_no_change(comparison, cell.label())


CHANGED_LIGHT = tuple(Cell(e, cct, 0.2) for cct in NEAR_LIGHTS + FAR_LIGHTS for e in (0.5, "max"))


@pytest.mark.slow
@pytest.mark.parametrize("cell", CHANGED_LIGHT, ids=Cell.label)
def test_changed_light_is_recovered_when_near_and_refused_when_far(cell):
    comparison, truth = _redness_change(6500.0, cell, true_change=True)
    if cell.cct_k in NEAR_LIGHTS:
        _expect_recovered(comparison, truth, cell.label())
    else:
        _expect_refused_with_reason(comparison, cell.label(), "warm light" if cell.cct_k < MIN_COLOUR_CCT_K else "light differs")


@pytest.mark.slow
@pytest.mark.parametrize("cell", CHANGED_LIGHT, ids=Cell.label)
def test_changed_light_alone_is_no_change_when_near_and_refused_when_far(cell):
    comparison, _ = _redness_change(6500.0, cell, true_change=False)
    if cell.cct_k in NEAR_LIGHTS:
        _expect_no_change(comparison, cell.label())
    else:
        _expect_refused_with_reason(comparison, cell.label(), "warm light" if cell.cct_k < MIN_COLOUR_CCT_K else "light differs")


def test_without_a_chart_a_light_change_is_marked_uncalibrated():
    _, prepared = _baseline(6500.0)
    before = scene(7, **BEFORE)
    _, jpeg = shoot(before, seed=3, chart=False, cct_k=3000.0, exposure=0.8, **POSE)

    result = analyze_photo(jpeg, baseline=prepared).to_dict()

    assert result["calibration"]["calibrated"] is False
    assert result["calibration"]["method"] == "none"
    assert result["comparison"]["calibrated"] is False
    assert any("uncalibrated" in n for n in result["comparison"]["notes"])
    # Exposure-dependent indices give no verdict without a reference.
    assert result["comparison"]["delta"]["melanin_index_mean"]["verdict"] == "not comparable"
    assert result["mdc"]["erythema_index_mean"] > 0.5


@pytest.mark.parametrize("true_change", [False, True])
def test_a_photo_without_a_chart_is_compared_with_its_baseline_measured_the_same_way(true_change):
    # Baseline with a chart, later photo without one (same lamp): both are measured
    # without the chart, or the camera's own colours would read as a change.
    _, prepared = _baseline(6500.0)
    before = scene(7, **BEFORE)
    later = scene(7, **AFTER) if true_change else before
    _, jpeg = shoot(later, seed=_seed("no chart", true_change), chart=False, cct_k=6400.0, exposure=0.85, **POSE)

    comparison = analyze_photo(jpeg, baseline=prepared).to_dict()["comparison"]

    assert comparison["calibrated"] is False
    assert any("only one of the two photos has a colour chart" in n for n in comparison["notes"])
    delta = comparison["delta"]["erythema_index_mean"]
    if true_change:
        assert delta["verdict"] == "improved", delta
    else:
        assert delta["verdict"] == "no measurable change", delta
        assert abs(delta["value"]) < delta["mdc"]
