"""Across real spectra: chromophore figures survive a change of light, spiky light is refused.

The cross-light study (:mod:`tracker.evaluation.cross_light`) renders one skin through
NPL's Nikon D5100 and Sigma SD Merrill sensitivities under CIE and LED lights, white
balance locked or automatic, with a skin model unlike the inversion's.
"""

from __future__ import annotations

import numpy as np
import pytest

from tracker.evaluation.cross_light import cross_light_rows
from tracker.simulate import spectral_harness as harness

NIKON, SIGMA = harness.CAMERAS


@pytest.fixture(scope="module")
def rows():
    return cross_light_rows()


def _smooth(rows, camera):
    return [r for r in rows if r.camera == camera and r.light in harness.SMOOTH_LIGHTS]


def test_the_harness_skin_is_not_the_inversions_model():
    from tracker.analysis.chromophores import skin_model

    ours = harness.skin_reflectance(6.0, 2.0)
    theirs = skin_model.skin_reflectance(6.0, 2.0, saturation=0.75)
    common = np.interp(np.arange(400.0, 701.0, 5.0), harness.WAVELENGTHS_NM, ours)
    assert np.abs(common - theirs).max() > 0.02


def test_spiky_fluorescent_light_is_refused_with_its_reason(rows):
    fl11 = [r for r in rows if r.light == "FL11"]
    assert len(fl11) == 4  # two cameras x two white balances
    for r in fl11:
        assert not r.light_ok, r
        assert r.light_reason is not None and r.light_reason.startswith("light: ")


def test_daylight_led_and_incandescent_pass_the_light_check(rows):
    for r in rows:
        if r.light in harness.SMOOTH_LIGHTS:
            assert r.light_ok, r


def test_nikon_recovers_a_40pct_blood_reduction_within_15pct_of_d65_under_every_smooth_light(rows):
    for r in _smooth(rows, NIKON):
        assert abs(r.change_vs_d65_pct) <= 15.0, r
        assert r.blood_change_pct < -25.0, r  # clearly a reduction, read as one


def test_the_blood_change_does_not_depend_on_the_assumed_oxygen_saturation():
    from tracker.evaluation.cross_light import read_capture

    melanin, blood = harness.skin_maps((32, 32), melanin_pct=6.0, blood_pct=2.0, seed=3)
    changes = []
    for saturation in (0.55, 0.9):
        before, after = (
            read_capture(harness.capture(NIKON, "D65", white_balance="auto", melanin_pct=melanin, blood_pct=b,
                                         seed=4, saturation=saturation))
            for b in (blood, 0.6 * blood)
        )
        changes.append(after.haemoglobin_index / before.haemoglobin_index - 1.0)
    assert abs(changes[0] - changes[1]) < 0.03


@pytest.mark.xfail(strict=True, reason="known limit: the inversion assumes the published chart average; a chart "
                   "0.8 CIEDE2000 away from it (Ohta's measurement) moves melanin by up to ~4 and blood by ~30 % "
                   "between lights (README, 'Light across spectra')")
def test_a_chart_that_is_not_the_published_average_keeps_the_light_invariance():
    rows = cross_light_rows(cameras=(NIKON,), chart="ColorChecker N Ohta")
    for r in _smooth(rows, NIKON):
        assert abs(r.melanin_shift) < 1.0 and abs(r.haemoglobin_shift) < 0.2, r


def _mdc():
    from tracker.analysis.mdc import mdc_table

    return mdc_table(calibrated=True)


def _compared(rows, camera):
    return [r for r in _smooth(rows, camera) if r.comparable]


def test_the_camera_check_keeps_every_nikon_pair_under_daylight_led_and_incandescent(rows):
    for r in _smooth(rows, NIKON):
        assert r.camera_reason is None, r


def test_the_camera_check_refuses_the_sigma_pairs_it_cannot_measure_with_its_reason(rows):
    refused = [r for r in _smooth(rows, SIGMA) if not r.comparable]
    assert refused  # the Sigma-like camera misreads light-only pairs beyond the MDC (README, cross-light table)
    for r in refused:
        assert r.camera_reason is not None and r.camera_reason.startswith(("light: ", "camera: ")), r
        assert "retake" in r.camera_reason or "ask" in r.camera_reason, r


@pytest.mark.parametrize("camera", [NIKON, SIGMA], ids=["Nikon", "Sigma"])
def test_light_only_pairs_that_are_compared_move_the_new_measures_less_than_their_mdc(rows, camera):
    mdc = _mdc()
    for r in _compared(rows, camera):
        assert abs(r.haemoglobin_shift) < mdc["haemoglobin_index"], r
        assert abs(r.melanin_shift) < mdc["melanin_density"], r


@pytest.mark.parametrize("camera", [NIKON, SIGMA], ids=["Nikon", "Sigma"])
def test_no_crosstalk_between_blood_and_melanin_in_compared_pairs(rows, camera):
    mdc = _mdc()
    for r in _compared(rows, camera):
        assert abs(r.melanin_crosstalk) < mdc["melanin_density"], r
        assert abs(r.haemoglobin_crosstalk) < mdc["haemoglobin_index"], r


@pytest.mark.xfail(
    strict=True,
    reason="known limit: the inversion assumes an oxygen saturation of 0.75 and one photo's RGB cannot fit it (README, "
    "'Oxygen saturation'); harness skin at 0.9 moves the Nikon-like camera's melanin by up to 0.72 under LEDs and A "
    "(beyond the MDC) and at 0.55 a blood change moves its melanin by 0.64, and the camera check passes them",
)
@pytest.mark.parametrize("saturation", [0.55, 0.9])
def test_skin_of_another_oxygen_saturation_is_compared_within_the_mdc_or_refused(saturation):
    mdc = _mdc()
    for r in _compared(cross_light_rows(cameras=(NIKON,), saturation=saturation), NIKON):
        assert abs(r.haemoglobin_shift) < mdc["haemoglobin_index"], r
        assert abs(r.melanin_shift) < mdc["melanin_density"], r
        assert abs(r.melanin_crosstalk) < mdc["melanin_density"], r
