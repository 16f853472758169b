"""Chromophore measures in the pipeline: figures, verdicts, the light rule, without a chart."""

from __future__ import annotations

import pytest

from tracker.analysis import analyze_photo
from tracker.analysis.mdc import mdc_table
from tracker.simulate import make_skin_scene

from ._pipeline_cases import SCENE_SHAPE, shoot

NEW = ("haemoglobin_index", "melanin_density", "background_melanin_density")


def _scene(haemoglobin_od: float):
    return make_skin_scene(seed=31, shape_px=SCENE_SHAPE, skin_type=3, haemoglobin_od=haemoglobin_od, n_spots=3)


@pytest.fixture(scope="module")
def blood_reduction():
    _, before = shoot(_scene(0.3), seed=1, chart=True)
    _, after = shoot(_scene(0.18), seed=2, chart=True, rotation_deg=1.5)
    return analyze_photo(after, baseline=before).to_dict()


def test_the_new_measures_are_reported_flat_like_every_measure(blood_reduction):
    r = blood_reduction
    delta = r["comparison"]["delta"]
    for key in NEW:
        assert key in r["mdc"] and key in r["direction"]
        change = delta[key]
        assert set(change) >= {"photo", "baseline", "value", "mdc", "verdict"}
    assert r["parameters"]["chromophores"]["calibrated"] is True
    assert r["parameters"]["chromophores"]["measured_pct"] > 90.0


def test_a_blood_reduction_reads_as_less_haemoglobin_and_improved(blood_reduction):
    change = blood_reduction["comparison"]["delta"]["haemoglobin_index"]
    assert change["verdict"] == "improved"
    assert change["photo"] < 0.85 * change["baseline"]


@pytest.fixture
def published_chart(monkeypatch):
    """The simulator's chart painted with the ColorChecker's published spectra (BabelColor
    average), as a clinic's chart that matches them; the simulator's own chart is a
    smoothest metamer of the reference colours, 2 % off the published spectra."""
    import numpy as np

    import tracker.simulate.chart as sim_chart
    from tracker.analysis.chromophores.spectra import colour_module
    from tracker.simulate import spectra as sim_spectra

    patches = colour_module().SDS_COLOURCHECKERS["BabelColor Average"].values()
    refl = np.array([np.interp(sim_spectra.WAVELENGTHS_NM, sd.wavelengths, sd.values) for sd in patches])
    monkeypatch.setattr(sim_chart, "patch_reflectances", lambda: refl)


def test_with_a_chart_matching_its_spectra_a_change_of_light_compares_the_new_measures(published_chart):
    sc = _scene(0.3)
    _, before = shoot(sc, seed=3, chart=True)
    _, after = shoot(sc, seed=4, chart=True, cct_k=4000.0, light="led")
    r = analyze_photo(after, baseline=before).to_dict()
    assert r["parameters"]["chromophores"]["mode"] == "spectral"
    delta = r["comparison"]["delta"]
    assert delta["erythema_index_mean"]["verdict"] == "not comparable"
    for key in NEW:
        assert delta[key]["verdict"] != "not comparable", delta[key]
    assert any(n.startswith("legacy colour measures") for n in r["comparison"]["notes"])


def test_with_a_chart_off_its_published_spectra_the_new_measures_keep_the_old_light_rule():
    sc = _scene(0.3)
    _, before = shoot(sc, seed=3, chart=True)
    _, after = shoot(sc, seed=4, chart=True, cct_k=4000.0, light="led")
    r = analyze_photo(after, baseline=before).to_dict()
    chromo = r["parameters"]["chromophores"]
    assert chromo["mode"] == "corrected" and chromo["chart_residual"] > 0.012
    for key in (*NEW, "erythema_index_mean"):
        assert r["comparison"]["delta"][key]["verdict"] == "not comparable"


def test_without_a_chart_the_figures_are_uncalibrated_with_the_wider_mdc():
    sc = _scene(0.3)
    _, before = shoot(sc, seed=5, chart=False)
    _, after = shoot(sc, seed=6, chart=False)
    r = analyze_photo(after, baseline=before).to_dict()
    assert r["parameters"]["chromophores"]["calibrated"] is False
    assert r["comparison"]["calibrated"] is False
    for key in NEW:
        assert r["comparison"]["delta"][key]["mdc"] == pytest.approx(mdc_table(calibrated=False)[key])


@pytest.mark.slow
def test_the_demo_improving_series_raises_no_hypopigmentation():
    from tracker.analysis import prepare_baseline
    from tracker.services.demo import SEED
    from tracker.simulate import simulate_series

    series = simulate_series(seed=SEED, trend="improving", size="small", front_scene="clinic")  # the demo's
    baselines = {}
    compared = 0
    for visit in series.visits:
        for photo in visit.photos:
            if photo.time_point != "before":
                continue
            if photo.view not in baselines:
                baselines[photo.view] = prepare_baseline(photo.jpeg)
                continue
            comparison = analyze_photo(photo.jpeg, baseline=baselines[photo.view]).to_dict()["comparison"]
            assert comparison is not None
            compared += 1
            background = comparison["delta"]["background_melanin_density"]
            assert not (background["verdict"] == "worse" and background["value"] < 0), (visit.day, photo.view, background)
            if photo.view == "front":  # a real face shown with simulated improvement only: nothing may read worse
                worse = {k: d for k, d in comparison["delta"].items() if d["verdict"] == "worse"}
                assert not worse, (visit.day, worse)
    assert compared >= 4


@pytest.fixture
def npl_camera(monkeypatch, published_chart):
    """The simulator's camera given a real camera's published sensitivities (NPL, shipped with
    colour-science); its white balance and colour matrix are refitted for them."""
    import numpy as np

    import tracker.simulate.camera as sim_camera
    from tracker.analysis.chromophores.spectra import colour_module
    from tracker.simulate import front, render, skin_lut
    from tracker.simulate import spectra as sim_spectra

    derived = (sim_camera._sensor_scale, sim_camera.white_balance_gains, sim_camera.colour_matrix,
               front._rgb_to_camera_matrix_cached, render.reflectance_camera_rgb, skin_lut.camera_table)

    def use(name: str) -> None:
        msds = colour_module().MSDS_CAMERA_SENSITIVITIES[name]
        curves = np.stack([np.interp(sim_spectra.WAVELENGTHS_NM, msds.wavelengths, msds.values[:, k], left=0.0, right=0.0)
                           for k in range(3)], axis=1)
        curves /= curves.max()
        monkeypatch.setattr(sim_camera, "sensitivities", lambda: curves)
        for f in derived:
            f.cache_clear()

    yield use
    monkeypatch.undo()
    for f in derived:
        f.cache_clear()


def test_a_camera_that_mixes_blood_and_melanin_is_refused_with_its_reason(npl_camera):
    npl_camera("Sigma SDMerill (NPL)")  # broad overlapping sensitivities behind a large colour matrix
    sc = _scene(0.3)
    _, before = shoot(sc, seed=3, chart=True)
    _, after = shoot(sc, seed=4, chart=True)
    r = analyze_photo(after, baseline=before).to_dict()
    assert r["parameters"]["chromophores"]["mode"] == "spectral"
    for key in NEW:
        change = r["comparison"]["delta"][key]
        assert change["verdict"] == "not comparable", change
        assert change["note"].startswith("camera: ") and "ask the clinic" in change["note"], change
    assert r["comparison"]["delta"]["erythema_index_mean"]["verdict"] != "not comparable"  # legacy: same light


def test_a_camera_that_separates_them_is_compared_across_a_change_of_light(npl_camera):
    npl_camera("Nikon 5100 (NPL)")
    sc = _scene(0.3)
    _, before = shoot(sc, seed=3, chart=True)
    _, after = shoot(sc, seed=4, chart=True, cct_k=4000.0, light="led")
    r = analyze_photo(after, baseline=before).to_dict()
    assert r["parameters"]["chromophores"]["mode"] == "spectral"
    for key in NEW:
        assert r["comparison"]["delta"][key]["verdict"] != "not comparable", r["comparison"]["delta"][key]
