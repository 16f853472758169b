"""Redness: the erythema index, its exposure invariance, the fixed red-area threshold."""

from __future__ import annotations

import numpy as np
import pytest

from tracker.analysis.redness import RED_AREA_EI_THRESHOLD, erythema_index, measure_redness
from tracker.simulate import make_skin_scene, reference_render, true_measures


def _uniform(rgb: tuple[float, float, float], shape: tuple[int, int] = (12, 12)) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, np.float32), (*shape, 3)).copy()


def _with_ei(ei: float, green: float = 0.3, shape: tuple[int, int] = (12, 12)) -> np.ndarray:
    """Uniform linear image whose EI is exactly ``ei``."""
    return _uniform((green * 10 ** (ei / 100.0), green, 0.2), shape)


def test_erythema_index_of_a_hand_computed_array() -> None:
    linear = np.array(
        [
            [[0.5, 0.05, 0.1], [0.4, 0.4, 0.4]],
            [[0.3, 0.6, 0.2], [0.0, 0.3, 0.3]],
        ],
        dtype=np.float32,
    )
    ei = erythema_index(linear)
    # 100*log10(10) = 100, log10(1) = 0, 100*log10(0.5) = -30.103; R = 0 has no ratio.
    np.testing.assert_allclose(ei[0], [100.0, 0.0], atol=1e-4)
    assert ei[1, 0] == pytest.approx(-30.103, abs=1e-3)
    assert np.isnan(ei[1, 1])
    assert ei.dtype == np.float32 and ei.shape == (2, 2)


def test_exposure_change_leaves_redness_alone() -> None:
    rng = np.random.default_rng(3)
    skin = np.clip(_uniform((0.45, 0.27, 0.2), (64, 64)) * rng.uniform(0.8, 1.1, (64, 64, 1)), 0, 1).astype(np.float32)
    skin[20:40, 20:40, 1] *= 0.7  # a red patch
    region = np.ones((64, 64), bool)
    before = measure_redness(skin, region)
    after = measure_redness((skin * 0.7).astype(np.float32), region)
    assert abs(after.erythema_index_mean - before.erythema_index_mean) < 0.02
    assert after.red_area_pct == before.red_area_pct
    # a* is the exposure-dependent secondary figure: it does move.
    assert abs(after.a_star_mean - before.a_star_mean) > 0.5


def test_red_area_uses_the_fixed_threshold() -> None:
    region = np.ones((12, 12), bool)
    just_above = measure_redness(_with_ei(RED_AREA_EI_THRESHOLD + 0.2), region)
    just_below = measure_redness(_with_ei(RED_AREA_EI_THRESHOLD - 0.2), region)
    assert just_above.red_area_pct == 100.0
    assert just_below.red_area_pct == 0.0
    # A whole image redder than the threshold is all red: no per-image percentile.
    assert measure_redness(_with_ei(RED_AREA_EI_THRESHOLD + 15), region).red_area_pct == 100.0


def test_pixels_outside_the_region_are_ignored() -> None:
    image = _with_ei(20.0, shape=(20, 20))
    image[:, 10:] = _with_ei(45.0, shape=(20, 10))
    region = np.zeros((20, 20), bool)
    region[:, :10] = True
    m = measure_redness(image, region)
    assert m.erythema_index_mean == pytest.approx(20.0, abs=1e-3)
    assert m.red_area_pct == 0.0
    half = measure_redness(image, np.ones((20, 20), bool))
    assert half.erythema_index_mean == pytest.approx(32.5, abs=1e-3)
    assert half.red_area_pct == pytest.approx(50.0)


def test_clipped_or_black_pixels_are_excluded_and_counted() -> None:
    image = _with_ei(25.0, shape=(10, 10))
    image[:2] = 0.0  # 20 % without signal
    m = measure_redness(image, np.ones((10, 10), bool))
    assert m.erythema_index_mean == pytest.approx(25.0, abs=1e-3)
    assert m.measured_pct == pytest.approx(80.0)


def test_bad_inputs_name_the_argument() -> None:
    image = _with_ei(25.0)
    with pytest.raises(ValueError, match="region"):
        measure_redness(image, np.zeros((12, 12), bool))
    with pytest.raises(ValueError, match="region"):
        measure_redness(image, np.ones((5, 5), bool))
    with pytest.raises(TypeError, match="region"):
        measure_redness(image, np.ones((12, 12), np.uint8))
    with pytest.raises(ValueError, match="linear"):
        erythema_index(image[..., :2])


@pytest.mark.parametrize("skin_type", [2, 5])
def test_measured_ei_on_a_rendered_scene_equals_its_truth(skin_type: int) -> None:
    scene = make_skin_scene(seed=41, shape_px=(384, 384), skin_type=skin_type)
    region = np.ones((384, 384), bool)
    m = measure_redness(reference_render(scene), region)
    assert m.erythema_index_mean == pytest.approx(true_measures(scene).ei_mean, abs=0.01)
    assert m.measured_pct == 100.0


@pytest.mark.parametrize("skin_type", [1, 3, 6])
def test_calm_skin_is_not_red_and_post_laser_erythema_is(skin_type: int) -> None:
    calm = make_skin_scene(seed=42, shape_px=(256, 256), skin_type=skin_type, redness=0.0, redness_patches=0, vessels=0)
    treated = make_skin_scene(seed=42, shape_px=(256, 256), skin_type=skin_type, treatment_erythema=0.3)
    region = np.ones((256, 256), bool)
    assert measure_redness(reference_render(calm), region).red_area_pct < 5.0
    assert measure_redness(reference_render(treated), region).red_area_pct > 90.0
