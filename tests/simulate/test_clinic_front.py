"""The demo's front view: the real portrait unaltered on a plain clinic backdrop, improvement only.

Issue 11 item 7: a clinic photo (head and shoulders, plain backdrop), the "before" an
unaltered public-domain portrait, later sessions only less redness / lighter spots /
softer lines, and never a condition added to the real face.
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from tracker.analysis.colour import srgb_to_linear
from tracker.analysis.face import find_face
from tracker.simulate import simulate_series
from tracker.simulate.clinic_front import (
    BACKDROP_REFLECTANCE,
    ClinicFrontParams,
    make_clinic_front_scene,
    rebuild_clinic_front_scene,
)
from tracker.simulate.front import _REFLECTANCE_SCALE


@pytest.fixture(scope="module")
def before():
    return make_clinic_front_scene(size_px=512)


@pytest.fixture(scope="module")
def improved():
    return make_clinic_front_scene(size_px=512, improvement=1.0)


def test_the_before_is_the_unaltered_portrait_on_a_plain_backdrop(before):
    portrait = srgb_to_linear(data.astronaut().astype(np.float32) / 255.0) * np.float32(_REFLECTANCE_SCALE)
    face = before.skin_mask
    assert face.sum() > 3000
    np.testing.assert_allclose(before.linear_rgb[face], portrait[face], rtol=0, atol=1e-5)
    # The flag (left edge), the rocket (top right) and the table (right) are gone: one even colour.
    backdrop = np.asarray(BACKDROP_REFLECTANCE, np.float32)
    for rows, cols in ((slice(0, 200), slice(0, 40)), (slice(0, 120), slice(380, 512)), (slice(200, 260), slice(420, 512))):
        np.testing.assert_allclose(before.linear_rgb[rows, cols], np.broadcast_to(backdrop, (rows.stop - rows.start, cols.stop - cols.start, 3)), atol=1e-3)
    # Head and shoulders: the face is found, frontal, with every region.
    found = find_face(np.clip(before.linear_rgb / _REFLECTANCE_SCALE, 0, 1) ** (1 / 2.2))
    assert found.found and found.view == "front" and found.regions is not None
    assert all(found.regions.masks[k].sum() > 50 for k in found.regions.masks)
    assert before.spots == () and isinstance(before.params, ClinicFrontParams)


def test_improvement_only_lightens_and_pales_the_face(before, improved):
    face = before.skin_mask
    ratio = improved.linear_rgb[face] / before.linear_rgb[face]
    # Less blood and melanin only brighten; softening fine lines also tones down the odd bright speck.
    assert (ratio.mean(axis=0) > 1.0).all() and (ratio.min(axis=1) < 1.0).mean() < 0.05
    ei_before = np.log10(before.linear_rgb[face][:, 0] / before.linear_rgb[face][:, 1]).mean()
    ei_after = np.log10(improved.linear_rgb[face][:, 0] / improved.linear_rgb[face][:, 1]).mean()
    assert 100 * (ei_after - ei_before) < -3.0, "less redness"
    # Only the face changes: hair, clothes and backdrop are the same photo.
    far = np.ones(face.shape, bool)
    far[40:220, 150:300] = False
    np.testing.assert_array_equal(improved.linear_rgb[far], before.linear_rgb[far])
    # The existing darker spots get lighter (less melanin: red rises the most relative to blue).
    spots = before.spot_mask
    assert spots.sum() > 100
    red_gain = improved.linear_rgb[..., 0] / np.maximum(before.linear_rgb[..., 0], 1e-6)
    assert red_gain[spots].mean() > 1.01 * float(np.median(red_gain[face & ~spots]))


def test_rebuild_is_exact_and_bad_amounts_are_refused(improved):
    np.testing.assert_array_equal(rebuild_clinic_front_scene(improved.params).linear_rgb, improved.linear_rgb)
    with pytest.raises(ValueError, match="improvement"):
        make_clinic_front_scene(size_px=512, improvement=1.5)
    with pytest.raises(ValueError, match="never shown worsening"):
        simulate_series(seed=1, trend="worsening", front_scene="clinic", views=("front",))


@pytest.mark.slow
def test_the_clinic_series_improves_and_has_no_healing_photos_of_the_real_face():
    series = simulate_series(seed=7, trend="improving", size="small", front_scene="clinic")
    fronts = series.photos(view="front")
    assert [p.time_point for p in fronts] == ["before", "before", "before", "follow_up"]
    assert [p.scene_params.improvement for p in fronts] == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])
    assert len(series.photos(view="close-up", time_point="after")) == 2, "the simulated close-up skin keeps its healing photos"
    stable = simulate_series(seed=7, trend="stable", size="small", front_scene="clinic", views=("front",), sessions=2, follow_up=False)
    assert [p.scene_params.improvement for p in stable.photos()] == [0.0, 0.0]
