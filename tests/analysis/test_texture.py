"""Texture: line density follows line depth, not light or noise; roughness ignores exposure."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tracker.analysis.colour import srgb_to_linear
from tracker.analysis.texture import measure_texture
from tracker.simulate import capture, make_skin_scene, reference_render

SHAPE = (768, 768)  # 38.4 mm at 20 px/mm
PX_PER_MM = 20.0
REGION = np.ones(SHAPE, bool)


def _scene(line_depth_mm: float, *, skin_type: int = 2, seed: int = 31):
    return make_skin_scene(seed=seed, shape_px=SHAPE, skin_type=skin_type, line_depth_mm=line_depth_mm)


def _photo(scene, *, seed: int, exposure: float, noise: float) -> np.ndarray:
    """A simulated 8-bit photograph of the scene, decoded to linear light."""
    srgb = np.round(capture(scene, seed=seed, exposure=exposure, noise=noise).srgb * 255.0) / 255.0
    return srgb_to_linear(srgb.astype(np.float32))


@pytest.mark.parametrize("skin_type", [2, 4])
def test_shallower_lines_read_proportionally_lower(skin_type: int) -> None:
    deep = measure_texture(reference_render(_scene(0.08, skin_type=skin_type)), REGION, px_per_mm=PX_PER_MM)
    shallow = measure_texture(reference_render(_scene(0.056, skin_type=skin_type)), REGION, px_per_mm=PX_PER_MM)
    change = shallow.line_density / deep.line_density - 1.0
    assert -0.45 <= change <= -0.15


def test_repeat_photos_of_unchanged_skin_agree() -> None:
    scene = _scene(0.08)
    first = measure_texture(_photo(scene, seed=1, exposure=0.8, noise=0.004), REGION, px_per_mm=PX_PER_MM)
    second = measure_texture(_photo(scene, seed=2, exposure=0.55, noise=0.008), REGION, px_per_mm=PX_PER_MM)
    assert second.line_density == pytest.approx(first.line_density, rel=0.10)
    assert second.roughness == pytest.approx(first.roughness, rel=0.05)
    # The real change (30 % shallower lines) stands far above that repeat spread.
    shallow = measure_texture(_photo(_scene(0.056), seed=1, exposure=0.8, noise=0.004), REGION, px_per_mm=PX_PER_MM)
    assert shallow.line_density < 0.85 * first.line_density


def test_exposure_leaves_roughness_and_lines_alone() -> None:
    linear = reference_render(_scene(0.08))
    bright = measure_texture(linear, REGION, px_per_mm=PX_PER_MM)
    dim = measure_texture((linear * 0.7).astype(np.float32), REGION, px_per_mm=PX_PER_MM)
    assert dim.roughness == pytest.approx(bright.roughness, rel=0.05)
    assert dim.line_density == pytest.approx(bright.line_density, rel=0.05)


def test_a_few_percent_of_scale_change_barely_moves_line_density() -> None:
    linear = reference_render(_scene(0.08))
    size = round(SHAPE[0] * 0.95)
    resampled = cv2.resize(linear, (size, size), interpolation=cv2.INTER_AREA)
    at_scale = measure_texture(linear, REGION, px_per_mm=PX_PER_MM)
    rescaled = measure_texture(resampled, np.ones((size, size), bool), px_per_mm=PX_PER_MM * 0.95)
    assert rescaled.line_density == pytest.approx(at_scale.line_density, rel=0.05)


def test_lines_show_in_the_line_map_where_they_are() -> None:
    scene = _scene(0.1)
    m = measure_texture(reference_render(scene), REGION, px_per_mm=PX_PER_MM)
    assert m.line_map.shape == SHAPE and m.line_map.dtype == np.float32
    # The simulator's lines are where the surface dips by more than 0.04 mm below its 1 mm mean.
    grooves = cv2.GaussianBlur(scene.height_mm, (0, 0), 20.0) - scene.height_mm > 0.04
    assert m.line_map[grooves].mean() > 4.0 * m.line_map[~grooves].mean()


def test_pores_are_counted_only_when_resolved() -> None:
    scene = _scene(0.08)
    linear = reference_render(scene)
    at_20 = measure_texture(linear, REGION, px_per_mm=PX_PER_MM)
    # 60 pores per cm2 on 14.7 cm2: about 880 pits, many of them ~0.1 mm across.
    assert at_20.pore_count is not None and 500 <= at_20.pore_count <= 1400
    assert at_20.pore_reason is None
    coarse = cv2.resize(linear, (268, 268), interpolation=cv2.INTER_AREA)  # 7 px/mm
    below = measure_texture(coarse, np.ones((268, 268), bool), px_per_mm=7.0)
    assert below.pore_count is None and "8 px/mm" in below.pore_reason
    unknown = measure_texture(linear, REGION, px_per_mm=None)
    assert unknown.pore_count is None and "unknown" in unknown.pore_reason


def test_region_limits_the_measure() -> None:
    scene = make_skin_scene(seed=32, shape_px=SHAPE, n_lines=0, line_depth_mm=0.0)
    linear = reference_render(scene)
    lined = reference_render(_scene(0.12, seed=32))
    half = np.zeros(SHAPE, bool)
    half[:, :384] = True
    mixed = linear.copy()
    mixed[:, 384:] = lined[:, 384:]
    inside_only = measure_texture(mixed, half, px_per_mm=PX_PER_MM)
    plain = measure_texture(linear, half, px_per_mm=PX_PER_MM)
    # Lines drawn only outside the region change nothing inside it (but the border blur).
    assert inside_only.line_density == pytest.approx(plain.line_density, rel=0.05)
    assert not inside_only.line_map[~half].any()


def _framed(skin: np.ndarray, shape: tuple[int, int], top: int, left: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``skin`` pasted at (top, left) into busy non-skin surroundings, and its region."""
    frame = np.random.default_rng(seed).uniform(0.05, 0.9, (*shape, 3)).astype(np.float32)
    frame[top:top + skin.shape[0], left:left + skin.shape[1]] = skin
    region = np.zeros(shape, bool)
    region[top:top + skin.shape[0], left:left + skin.shape[1]] = True
    return frame, region


def test_skin_reads_the_same_wherever_it_sits_in_the_frame() -> None:
    # A treated area is often a small part of the photo (texture is then worked on its
    # bounding box only): what surrounds it, and where it sits, must not change its figures.
    # Offsets are multiples of 5 px, so the 12 and 16 px/mm grids fall on the same pixels
    # (the high-pass's coarse grid does not: ~0.1 % apart).
    skin = reference_render(_scene(0.08))[:400, :400]
    corner = measure_texture(*_framed(skin, (1100, 1300), 505, 850, seed=5), px_per_mm=PX_PER_MM)
    small_frame, small_region = _framed(skin, (600, 500), 100, 45, seed=6)
    centred = measure_texture(small_frame, small_region, px_per_mm=PX_PER_MM)
    assert corner.roughness == pytest.approx(centred.roughness, rel=2e-3)
    assert corner.line_density == pytest.approx(centred.line_density, rel=2e-3)
    assert corner.pore_count == centred.pore_count
    assert corner.line_map.shape == (1100, 1300) and np.count_nonzero(corner.line_map[:505]) == 0
    here, there = corner.line_map[505:905, 850:1250], centred.line_map[100:500, 45:445]
    assert np.abs(here - there).mean() <= 0.01 * np.abs(there).mean()


def test_bad_inputs_name_the_argument() -> None:
    linear = np.full((32, 32, 3), 0.4, np.float32)
    with pytest.raises(ValueError, match="region"):
        measure_texture(linear, np.zeros((32, 32), bool), px_per_mm=20.0)
    with pytest.raises(ValueError, match="px_per_mm"):
        measure_texture(linear, np.ones((32, 32), bool), px_per_mm=0.0)
    with pytest.raises(TypeError, match="linear"):
        measure_texture((linear * 255).astype(np.uint8), np.ones((32, 32), bool), px_per_mm=20.0)
