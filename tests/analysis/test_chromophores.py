"""Chromophore maps: the inversion recovers known skin, excludes shine, and judges the light."""

from __future__ import annotations

import numpy as np
import pytest

from tracker.analysis.chromophores import (
    chromophore_maps,
    fit_response,
    inversion,
    light_check,
    measure_chromophores,
    response,
    skin_model,
    spectra,
)


def _own_model_image(melanin: np.ndarray, blood: np.ndarray, weights: np.ndarray) -> np.ndarray:
    refl = skin_model.skin_reflectance(melanin, blood, saturation=0.75)
    return (refl @ weights).astype(np.float32)


def test_the_inversion_recovers_its_own_model_exactly():
    # Round trip through the table: any error here is the table's, not the physics'.
    rng = np.random.default_rng(0)
    melanin = rng.uniform(1.0, 18.0, (20, 20))  # clear of the fold near 25 % (see inversion.build_inverse_table)
    blood = rng.uniform(0.2, 8.0, (20, 20))
    resp = response.default_response()
    solution = inversion.solve_pixels(_own_model_image(melanin, blood, resp.weights), inversion.build_inverse_table(resp, saturation=0.75), with_brightness=True)
    assert solution.in_gamut.all()
    for found, truth in ((solution.melanin_pct, melanin), (solution.blood_pct, blood)):
        error = np.abs(found / truth - 1.0)
        assert np.median(error) < 0.002 and error.max() < 0.04
    assert np.allclose(solution.brightness, 1.0, atol=0.02)


def test_the_chart_fit_reproduces_a_camera_response_on_skin():
    # A camera whose response is not in the basis (sharp edges): the chart fit must still
    # render skin within 1 % in the two colour ratios the inversion uses.
    lam = spectra.WAVELENGTHS_NM
    truth = np.stack([
        1 / (1 + np.exp(-(lam - 585) / 6)) * (lam < 670),
        np.exp(-0.5 * ((lam - 535) / 35) ** 2),
        np.exp(-0.5 * ((lam - 460) / 25) ** 2),
    ], axis=1) * 0.02
    fit = fit_response(spectra.chart_reflectances() @ truth)
    skin = skin_model.skin_reflectance(np.array([2.0, 10.0, 30.0])[:, None], np.array([0.5, 2.0, 6.0])[None, :], saturation=0.75)
    ratio = np.log(fit.render(skin)) - np.log(skin @ truth)
    assert np.abs(ratio - ratio[..., 1:2]).max() < 0.01


def test_shine_is_excluded_and_its_share_reported():
    resp = response.default_response()
    img = np.repeat(_own_model_image(np.full((1, 400), 8.0), np.full((1, 400), 2.0), resp.weights), 400, axis=0)
    img *= np.linspace(0.6, 1.2, 400, dtype=np.float32)[None, :, None]  # light falloff across the skin: not shine
    img[100:120, 100:120] += 0.3  # two highlights (white surface reflections), 0.5 % of the area
    img[300:320, 250:270] += 0.3
    maps = chromophore_maps(np.clip(img, 0, 1))
    m = measure_chromophores(maps, np.ones((400, 400), bool))
    assert m.specular_excluded_pct == pytest.approx(0.5, abs=0.05)
    assert m.haemoglobin_index == pytest.approx(2.0, rel=0.01)
    assert m.melanin_density == pytest.approx(8.0, rel=0.01)


def test_without_a_chart_the_maps_are_marked_uncalibrated():
    img = np.full((8, 8, 3), [0.45, 0.25, 0.17], dtype=np.float32)
    maps = chromophore_maps(img)
    assert not maps.calibrated
    assert maps.light.ok


def test_a_non_skin_colour_is_not_measured():
    img = np.full((8, 8, 3), [0.1, 0.4, 0.6], dtype=np.float32)  # blue-green: no skin is this colour
    maps = chromophore_maps(img)
    assert not maps.valid.any()
    assert np.isnan(measure_chromophores(maps, np.ones((8, 8), bool)).haemoglobin_index)


def test_light_check_refuses_a_line_spectrum_and_passes_a_smooth_one():
    refl = spectra.chart_reflectances()
    lam = spectra.WAVELENGTHS_NM
    cam = np.stack([np.exp(-0.5 * ((lam - c) / 30) ** 2) for c in (600, 540, 460)], axis=1)
    smooth = (lam / 560.0) ** 2  # an incandescent-like slope
    lines = sum(np.exp(-0.5 * ((lam - c) / 3) ** 2) for c in (436, 546, 611)) + 0.05
    for light, ok in ((smooth, True), (lines, False)):
        w = cam * light[:, None]
        patches = refl @ (w / (np.ones(lam.size) @ w).max() * 0.9)
        check = light_check(patches)
        assert check.ok is ok, check
        if not ok:
            assert check.reason is not None and check.reason.startswith("light: ")
