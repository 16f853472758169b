"""The treatment series: structure, trends in the truth, capture variation, determinism, examples."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tracker.simulate import rebuild_front_scene, rebuild_scene, simulate_series, true_measures
from tracker.simulate.scene import SkinSceneParams


@pytest.fixture(scope="module")
def improving():
    return simulate_series(seed=3, trend="improving")


def test_visits_photos_and_time_points(improving):
    kinds = [v.kind for v in improving.visits]
    assert kinds == ["treatment"] * 3 + ["follow_up"]
    assert [v.day for v in improving.visits] == [0, 91, 182, 273]
    for visit in improving.visits:
        points = sorted({(p.view, p.time_point) for p in visit.photos})
        expected = {"follow_up"} if visit.kind == "follow_up" else ({"before", "after"} if visit.index in (0, 1) else {"before"})
        assert {t for _, t in points} == expected
        assert {v for v, _ in points} == {"front", "close-up"}
        for p in visit.photos:
            assert p.region == ("face" if p.view == "front" else "left cheek")
            if p.time_point == "after":
                assert p.days_after == 4 and p.day == visit.day + 4
            else:
                assert p.days_after == 0 and p.day == visit.day


def test_photos_are_jpegs_of_the_stated_size_with_charts_where_asked(improving):
    for visit in improving.visits:
        for p in visit.photos:
            img = Image.open(io.BytesIO(p.jpeg))
            assert img.format == "JPEG" and img.size == (p.capture.out_shape[1], p.capture.out_shape[0])
            assert 0.8e6 < img.size[0] * img.size[1] < 1.3e6  # "small" is about 1 MP
            assert p.capture.chart == (visit.index in (0, 2)) == (p.chart_corners is not None)


def test_capture_conditions_vary_within_clinic_ranges(improving):
    # Default: a clinic's standard daylight lamp, whose colour drifts within 20 mired.
    caps = [p.capture for p in improving.photos()]
    assert all(0.7 <= c.exposure <= 1.2 and 6000 <= c.cct_k <= 6800 and c.gradient <= 0.15 for c in caps)
    assert all(abs(c.rotation_deg) <= 3 and 0.97 <= c.scale <= 1.03 for c in caps)
    assert np.ptp([c.cct_k for c in caps]) > 300 and np.ptp([c.exposure for c in caps]) > 0.2


def test_a_clinic_without_a_standard_lamp_varies_the_light_widely():
    varied = simulate_series(seed=5, views=("close-up",), sessions=5, follow_up=False, after_sessions=(),
                             cct_range_k=(3000.0, 6500.0))
    ccts = [p.capture.cct_k for p in varied.photos()]
    assert all(3000 <= c <= 6500 for c in ccts)
    assert np.ptp(ccts) > 1000


def _series_of(series, view, key, time_points=("before", "follow_up")):
    return np.array([p.truth[key] for p in series.photos(view=view) if p.time_point in time_points])


@pytest.mark.parametrize("view", ["close-up", "front"])
def test_improving_series_truth_fades(improving, view):
    ei = _series_of(improving, view, "ei_mean")
    spots = _series_of(improving, view, "spot_area_mm2")
    depth = _series_of(improving, view, "line_depth_mm")
    assert np.all(np.diff(ei) < 0) and np.all(np.diff(spots) < 0)
    assert depth[-1] == pytest.approx(0.7 * depth[0])  # lines ~30 % shallower
    assert 0.6 < spots[-1] / spots[0] < 0.95
    assert ei[0] - ei[-1] > (1.0 if view == "front" else 2.5)  # EI units


def test_after_photos_show_treatment_erythema_not_progress(improving):
    for visit in improving.visits:
        for view in ("close-up", "front"):
            by_time = {p.time_point: p for p in visit.photos if p.view == view}
            if "after" in by_time:
                assert by_time["after"].truth["ei_mean"] > by_time["before"].truth["ei_mean"] + 8
                assert by_time["after"].truth["spot_area_mm2"] == by_time["before"].truth["spot_area_mm2"]


def test_truth_matches_a_rebuilt_scene(improving):
    photo = improving.photos(view="close-up")[-1]
    scene = rebuild_scene(photo.scene_params) if isinstance(photo.scene_params, SkinSceneParams) else rebuild_front_scene(photo.scene_params)
    h, w = photo.capture.out_shape
    mask = np.zeros(scene.shape, bool)
    y0, x0 = (scene.shape[0] - h) // 2, (scene.shape[1] - w) // 2
    mask[y0 : y0 + h, x0 : x0 + w] = True
    assert true_measures(scene, mask=mask).ei_mean == pytest.approx(photo.truth["ei_mean"])


def test_visible_truth_excludes_the_chart(improving):
    from tracker.simulate.chart import layout

    with_chart = [p for p in improving.photos(view="close-up") if p.capture.chart]
    assert with_chart
    for p in with_chart:
        lay = layout(p.capture.chart_model)
        card_mm2 = lay.outer_w_mm * lay.outer_h_mm
        assert p.truth_visible["area_mm2"] < p.truth["area_mm2"] - 0.95 * card_mm2


def test_stable_and_worsening_trends():
    kw = dict(seed=4, views=("close-up",), sessions=2, after_sessions=(), size="small")
    stable = simulate_series(trend="stable", **kw)
    worse = simulate_series(trend="worsening", **kw)
    for key in ("ei_mean", "mi_mean", "spot_area_mm2", "line_depth_mm"):
        values = _series_of(stable, "close-up", key)
        assert np.ptp(values) == pytest.approx(0.0, abs=1e-9)
    mi = _series_of(worse, "close-up", "mi_mean")
    assert mi[0] == pytest.approx(_series_of(stable, "close-up", "mi_mean")[0])  # same baseline
    assert mi[1] > mi[0] + 1.0 and mi[2] > mi[1]  # pigment rises after session 1


def test_series_is_deterministic_per_seed():
    kw = dict(views=("close-up",), sessions=1, follow_up=False, after_sessions=(), chart_sessions=())
    a, b, c = simulate_series(seed=9, **kw), simulate_series(seed=9, **kw), simulate_series(seed=10, **kw)
    assert a.photos()[0].jpeg == b.photos()[0].jpeg
    assert a.photos()[0].capture == b.photos()[0].capture
    assert a.photos()[0].jpeg != c.photos()[0].jpeg


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [(dict(trend="better"), "trend"), (dict(size="huge"), "size"), (dict(sessions=0), "sessions"),
     (dict(views=("profile",)), "views"), (dict(after_days=0), "after_days")],
)
def test_bad_series_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        simulate_series(seed=1, **kwargs)


def test_example_entry_point_writes_images(tmp_path):
    from tracker.simulate.__main__ import main

    assert main([str(tmp_path), "--seed", "2"]) == 0
    for name in ("close_up_chart.png", "front.png", "series_strip.png"):
        img = Image.open(tmp_path / name)
        assert img.size[0] >= 800 and np.asarray(img).std() > 10
    assert "ei_mean" in (tmp_path / "truth.txt").read_text()
