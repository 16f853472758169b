"""The measure registry and typed results: one definition, stable JSON, readable figures."""

from __future__ import annotations

import json
import re

import pytest

from tracker.analysis import analyze_photo
from tracker.analysis.mdc import DIRECTIONS, mdc_table
from tracker.analysis.measures import CHARTED, COMPARED, MEASURE_BY_KEY, MEASURES
from tracker.analysis.results import AnalysisResult, Measures

from ._pipeline_cases import scene, shoot

#: Keys of the stored JSON before the registry existed: they may be added to, never renamed.
STORED_KEYS = {
    "redness": {"erythema_index_mean", "red_area_pct", "a_star_mean"},
    "pigment": {"melanin_index_mean", "background_melanin_index_mean", "spot_count", "spot_area_pct",
                "spot_area_mm2", "pigment_load"},
    "texture": {"roughness", "line_density", "pore_count", "pore_reason"},
    "skin_tone": {"ita_deg", "class"},
}


@pytest.fixture(scope="module")
def result() -> AnalysisResult:
    before = scene(21)
    _, base_jpeg = shoot(before, seed=1, chart=True)
    _, photo_jpeg = shoot(before, seed=2, chart=True, exposure=0.9, rotation_deg=-3.0)
    return analyze_photo(photo_jpeg, baseline=base_jpeg).result


def test_stored_json_reads_back_as_the_same_typed_result(result):
    stored = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    again = AnalysisResult.from_dict(stored)
    assert again.to_dict() == stored
    assert again.comparison is not None and again.aligned
    ei = again.comparison.change("erythema_index_mean")
    assert ei is not None and ei.photo == stored["comparison"]["delta"]["erythema_index_mean"]["photo"]


def test_json_keeps_every_key_it_ever_had(result):
    stored = result.to_dict()
    for section, keys in STORED_KEYS.items():
        assert set(stored[section]) >= keys, section
        assert set(stored["comparison"]["baseline"][section]) >= keys, section


def test_every_compared_measure_has_a_direction_an_mdc_and_a_verdict(result):
    assert set(DIRECTIONS) == {m.key for m in COMPARED}
    assert {c.measure for c in result.comparison.changes} == {m.key for m in COMPARED}
    for calibrated in (True, False):
        assert set(mdc_table(calibrated=calibrated)) >= set(DIRECTIONS)


@pytest.mark.parametrize("calibrated", [True, False])
def test_every_mdc_shows_as_a_nonzero_number_without_an_exponent(calibrated):
    # A band of "±0.00" or "±3.72e-05" tells a clinic nothing.
    for key, mdc in mdc_table(calibrated=calibrated).items():
        shown = MEASURE_BY_KEY[key].format(mdc)
        assert float(shown) > 0 and "e" not in shown.lower(), (key, shown)


def test_measured_values_show_without_an_exponent(result):
    for spec in MEASURES:
        for measures in (result.measures, result.comparison.baseline):
            text = spec.format(measures.value(spec.key))
            assert re.fullmatch(r"–|-?\d+(\.\d+)?", text), (spec.key, text)
            assert spec.plausible(measures.value(spec.key)), (spec.key, text)


def test_impossible_values_are_recognised():
    assert not MEASURE_BY_KEY["spot_count"].plausible(-1)
    assert not MEASURE_BY_KEY["spot_area_pct"].plausible(-0.34)
    assert not MEASURE_BY_KEY["red_area_pct"].plausible(100.5)
    assert MEASURE_BY_KEY["erythema_index_mean"].plausible(-3.0)  # an index may be negative


def test_a_region_too_small_reads_back_with_nothing_measured():
    empty = Measures.unmeasured("region too small")
    again = Measures.from_dict(json.loads(json.dumps(empty.to_dict())))
    assert all(again.value(m.key) is None for m in MEASURES if not m.integer or m.key == "pore_count")
    assert again.spot_count == 0 and again.pore_reason == "region too small"


def test_patient_sentences_are_plain():
    for spec in CHARTED:
        for verdict in ("improved", "no measurable change", "worse", "not comparable"):
            sentence = spec.patient_sentence(verdict)
            assert "_" not in sentence and "index" not in sentence.lower()
    assert MEASURE_BY_KEY["erythema_index_mean"].patient_sentence("improved") == "Redness: less than at the start."
