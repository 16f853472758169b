"""The truths other tests rely on: the reference render, spots, chromophores, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tracker.simulate import (
    Spot,
    capture,
    make_skin_scene,
    rebuild_scene,
    reference_render,
    true_measures,
)

SMALL = (256, 256)


@pytest.fixture(scope="module")
def scene():
    return make_skin_scene(seed=11, shape_px=(384, 512))


def test_reference_render_is_independent_of_capture_parameters(scene):
    before = reference_render(scene)
    truth_before = true_measures(scene)
    for kwargs in (
        dict(exposure=0.7, cct_k=2700.0, gradient=0.15, rotation_deg=4.0, scale=1.1, shift_px=(20.0, -9.0)),
        dict(exposure=1.2, cct_k=5000.0, light="led", blur_sigma_px=1.5, noise=0.01),
    ):
        shot = capture(scene, seed=3, **kwargs)
        assert not np.array_equal(shot.srgb, capture(scene, seed=3).srgb)  # the captures differ...
    after = reference_render(scene)
    np.testing.assert_array_equal(before, after)  # ...the truth does not
    assert true_measures(scene) == truth_before


def test_reference_render_is_plausible_skin(scene):
    truth = reference_render(scene)
    mean = truth.reshape(-1, 3).mean(axis=0)
    assert truth.dtype == np.float32 and truth.shape == (384, 512, 3)
    assert mean[0] > mean[1] > mean[2] > 0.05  # skin: red > green > blue, not black
    assert truth.max() < 1.0


def test_spot_mask_area_matches_nominal_diameter():
    spot = Spot(centre_mm=(6.4, 6.4), diameter_mm=2.0, darkness=0.5)
    s = make_skin_scene(seed=1, shape_px=SMALL, spots=(spot,))
    area_mm2 = s.spot_mask.sum() * s.mm_per_px**2
    expected = math.pi * (spot.diameter_mm / 2) ** 2
    assert abs(area_mm2 - expected) / expected < 0.05
    # The mask is where the added melanin reaches half the spot's peak.
    baseline = make_skin_scene(seed=1, shape_px=SMALL, spots=())
    added = s.melanin_od - baseline.melanin_od
    assert added.max() == pytest.approx(spot.darkness, rel=0.01)
    np.testing.assert_array_equal(s.spot_mask, added >= 0.5 * added.max() - 1e-4)


def test_irregular_spot_keeps_its_area_close_to_nominal():
    spot = Spot(centre_mm=(6.4, 6.4), diameter_mm=3.0, darkness=0.4, irregularity=0.2)
    s = make_skin_scene(seed=2, shape_px=SMALL, spots=(spot,))
    area_mm2 = s.spot_mask.sum() * s.mm_per_px**2
    circle = math.pi * 1.5**2
    assert 0.97 < area_mm2 / circle < 1.08
    ys, xs = np.nonzero(s.spot_mask)
    # Not a circle: the contour reaches well beyond the nominal radius somewhere.
    r = np.hypot(xs - 128, ys - 128)
    assert r.max() * s.mm_per_px > 1.5 * 1.08


def test_darker_spot_darkens_the_truth_inside_the_mask():
    faint = make_skin_scene(seed=4, shape_px=SMALL, spots=(Spot((6.4, 6.4), 2.0, 0.2),))
    dark = make_skin_scene(seed=4, shape_px=SMALL, spots=(Spot((6.4, 6.4), 2.0, 0.6),))
    inside = faint.spot_mask
    assert true_measures(dark, mask=inside).mi_mean > true_measures(faint, mask=inside).mi_mean + 5


@pytest.mark.parametrize("skin_type", [1, 3, 6])
def test_lowering_haemoglobin_lowers_the_true_erythema_index(skin_type):
    kwargs = dict(seed=5, shape_px=SMALL, skin_type=skin_type, redness=0.0, vessels=0)
    high = true_measures(make_skin_scene(haemoglobin_od=0.6, **kwargs))
    low = true_measures(make_skin_scene(haemoglobin_od=0.3, **kwargs))
    assert low.ei_mean < high.ei_mean - 5
    assert abs(low.mi_mean - high.mi_mean) < abs(low.ei_mean - high.ei_mean)


def test_fading_redness_lowers_ei_and_darker_skin_raises_mi():
    base = dict(seed=6, shape_px=SMALL, diffuse_redness=0.2)
    red = true_measures(make_skin_scene(redness=0.4, **base))
    faded = true_measures(make_skin_scene(redness=0.4 * 0.7, **{**base, "diffuse_redness": 0.2 * 0.7}))
    assert faded.ei_mean < red.ei_mean - 1.5
    light, dark = (true_measures(make_skin_scene(seed=6, shape_px=SMALL, skin_type=t)) for t in (2, 5))
    assert dark.mi_mean > light.mi_mean + 20


def test_line_depth_changes_only_the_relief():
    shallow = make_skin_scene(seed=7, shape_px=SMALL, line_depth_mm=0.05)
    deep = make_skin_scene(seed=7, shape_px=SMALL, line_depth_mm=0.1)
    np.testing.assert_array_equal(shallow.melanin_od, deep.melanin_od)
    np.testing.assert_array_equal(shallow.haemoglobin_od, deep.haemoglobin_od)
    assert np.std(np.log(deep.shading)) > 1.2 * np.std(np.log(shallow.shading))


def test_same_seed_same_scene_other_seed_other_scene():
    a = make_skin_scene(seed=8, shape_px=SMALL)
    b = make_skin_scene(seed=8, shape_px=SMALL)
    c = make_skin_scene(seed=9, shape_px=SMALL)
    for name in ("melanin_od", "haemoglobin_od", "shading", "spot_mask"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.melanin_od, c.melanin_od)
    rebuilt = rebuild_scene(a.params)
    np.testing.assert_array_equal(rebuilt.shading, a.shading)


def test_changing_an_amplitude_keeps_the_layout():
    a = make_skin_scene(seed=10, shape_px=SMALL, redness=0.4)
    b = make_skin_scene(seed=10, shape_px=SMALL, redness=0.2)
    np.testing.assert_array_equal(a.melanin_od, b.melanin_od)
    np.testing.assert_array_equal(a.spot_mask, b.spot_mask)
    excess_a, excess_b = a.haemoglobin_od - 0.3, b.haemoglobin_od - 0.3
    peak = excess_a > np.percentile(excess_a, 99)
    assert np.corrcoef(excess_a[peak], excess_b[peak])[0, 1] > 0.9


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(shape_px=(8, 8)), "shape_px"),
        (dict(mm_per_px=0.0), "mm_per_px"),
        (dict(skin_type=7), "skin_type"),
        (dict(redness=-0.1), "redness"),
        (dict(line_depth_mm=2.0), "line_depth_mm"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_skin_scene(seed=1, **kwargs)


def test_spot_validates_its_fields():
    with pytest.raises(ValueError, match="diameter_mm"):
        Spot((1.0, 1.0), 0.0, 0.3)
    with pytest.raises(ValueError, match="darkness"):
        Spot((1.0, 1.0), 1.0, -0.3)


def test_simulator_imports_no_web_or_database_layer():
    import subprocess
    import sys

    code = "import sys, tracker.simulate; print(any(m in sys.modules for m in ('flask', 'sqlalchemy')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
