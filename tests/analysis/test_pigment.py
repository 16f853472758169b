"""Pigment measures: melanin index, spot area and load on simulated skin, and real close-ups."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage as ndi

from tracker.analysis.colour import srgb_to_linear
from tracker.analysis.pigment import measure_pigment, melanin_index
from tracker.simulate import Spot, make_skin_scene, reference_render, true_measures

SHAPE = (768, 768)  # 38.4 mm square at 20 px/mm
PX_PER_MM = 20.0


def _spots(seed: int) -> tuple[Spot, ...]:
    """Eight spaced spots of 1-4 mm and 0.4-0.8 OD; the first is the darkest (the one that fades)."""
    rng = np.random.default_rng(seed)
    spots: list[Spot] = []
    while len(spots) < 8:
        d = float(rng.uniform(1.0, 4.0))
        c = (float(rng.uniform(3 + d / 2, 35.4 - d / 2)), float(rng.uniform(3 + d / 2, 35.4 - d / 2)))
        if any(math.dist(c, s.centre_mm) < (d + s.diameter_mm) / 2 + 2 for s in spots):
            continue
        spots.append(Spot(centre_mm=c, diameter_mm=d, darkness=float(rng.uniform(0.4, 0.8))))
    spots.sort(key=lambda s: -s.darkness)
    spots[0] = replace(spots[0], darkness=0.8)
    return tuple(spots)


def _area_of_spot_at(mask: np.ndarray, spot: Spot) -> int:
    labels, _ = ndi.label(mask)
    x, y = (int(round(c * PX_PER_MM)) for c in spot.centre_mm)
    return int((labels == labels[y, x]).sum()) if labels[y, x] else 0


def test_melanin_index_of_a_hand_computed_array() -> None:
    linear = np.array([[[0.1, 0.5, 0.5], [1.0, 0.2, 0.2]], [[0.01, 0.3, 0.3], [0.0, 0.3, 0.3]]], np.float32)
    mi = melanin_index(linear)
    np.testing.assert_allclose(mi[0], [100.0, 0.0], atol=1e-4)
    assert mi[1, 0] == pytest.approx(200.0, abs=1e-3)
    assert np.isnan(mi[1, 1])


@pytest.mark.parametrize("skin_type", [2, 4])
def test_a_fading_spot_keeps_its_area_while_its_load_drops(skin_type: int) -> None:
    spots = _spots(seed=5)
    faded = (replace(spots[0], darkness=spots[0].darkness * 0.5), *spots[1:])
    region = np.ones(SHAPE, bool)
    before = measure_pigment(reference_render(make_skin_scene(seed=5, shape_px=SHAPE, skin_type=skin_type, spots=spots)), region, px_per_mm=PX_PER_MM)
    after = measure_pigment(reference_render(make_skin_scene(seed=5, shape_px=SHAPE, skin_type=skin_type, spots=faded)), region, px_per_mm=PX_PER_MM)
    area_before = _area_of_spot_at(before.spot_mask, spots[0])
    area_after = _area_of_spot_at(after.spot_mask, spots[0])
    assert area_before > 0
    assert area_after == pytest.approx(area_before, rel=0.10)
    assert after.spot_count == before.spot_count == 8
    assert after.pigment_load < before.pigment_load
    assert after.spot_contrast_mean_mi < before.spot_contrast_mean_mi


def test_measured_melanin_and_spot_area_match_the_scene_truth() -> None:
    scene = make_skin_scene(seed=6, shape_px=SHAPE, skin_type=3, spots=_spots(seed=6))
    truth = true_measures(scene)
    m = measure_pigment(reference_render(scene), np.ones(SHAPE, bool), px_per_mm=PX_PER_MM)
    assert m.melanin_index_mean == pytest.approx(truth.mi_mean, abs=1e-3)
    assert m.spot_count == truth.spot_count
    assert m.spot_area_mm2 == pytest.approx(truth.spot_area_mm2, rel=0.10)
    assert m.spot_area_pct == pytest.approx(100.0 * truth.spot_area_mm2 / truth.area_mm2, rel=0.10)
    # Spots are darker than the skin around them.
    assert m.background_melanin_index_mean < m.melanin_index_mean


def test_background_melanin_rises_with_diffuse_hyperpigmentation() -> None:
    spots = _spots(seed=7)
    region = np.ones(SHAPE, bool)
    calm = measure_pigment(reference_render(make_skin_scene(seed=7, shape_px=SHAPE, skin_type=3, spots=spots)), region, px_per_mm=PX_PER_MM)
    darker = measure_pigment(
        reference_render(make_skin_scene(seed=7, shape_px=SHAPE, skin_type=3, melanin_od=0.45, spots=spots)), region, px_per_mm=PX_PER_MM
    )
    assert darker.background_melanin_index_mean > calm.background_melanin_index_mean + 2.0
    assert darker.spot_count == calm.spot_count


def test_unknown_scale_gives_no_mm2_and_records_the_assumption() -> None:
    scene = make_skin_scene(seed=8, shape_px=(480, 480), skin_type=2, spots=(Spot((12.0, 12.0), 2.5, 0.6),))
    # Rendered at 20 px/mm but declared unknown: 15 px/mm is assumed for the sizes.
    m = measure_pigment(reference_render(scene), np.ones((480, 480), bool), px_per_mm=None)
    assert m.spot_area_mm2 is None
    assert m.px_per_mm_used == 15.0
    assert m.spot_count == 1


def test_pixels_outside_the_region_are_ignored() -> None:
    scene = make_skin_scene(seed=9, shape_px=(480, 480), skin_type=2, spots=(Spot((6.0, 12.0), 2.5, 0.6), Spot((18.0, 12.0), 2.5, 0.6)))
    linear = reference_render(scene)
    region = np.zeros((480, 480), bool)
    region[:, :240] = True
    m = measure_pigment(linear, region, px_per_mm=PX_PER_MM)
    assert m.spot_count == 1
    assert m.melanin_index_mean == pytest.approx(float(melanin_index(linear)[region].mean()), abs=1e-3)
    assert not (m.spot_mask & ~region).any()


# --- real close-ups ---------------------------------------------------------------
# Verified by eye: each photo was decoded with Pillow, measured at the scale below,
# and its spot outline drawn (overlays.spot_overlay) and opened at /tmp/measure/.
# Scales come from the lesion diameters in metadata_subset.csv against the lesion's
# extent in pixels, read off the image: PAT_100_393_595, a 7 x 3 mm naevus about
# 154 x 86 px -> ~22 px/mm; PAT_194_298_367, a 6 x 4 mm seborrhoeic keratosis
# about 94 x 57 px -> ~15 px/mm; PAT_352_729_947 is measured without a scale.
# Boxes are the visible lesion's extent (x0, y0, x1, y1) read off the same images.
REAL_CASES = [
    # file, px_per_mm, lesion box, spot count range, lesion area range (% of image)
    ("PAT_100_393_595.png", 22.0, (95, 65, 200, 230), (1, 1), (6.0, 12.0)),
    ("PAT_194_298_367.png", 15.0, (125, 100, 195, 205), (1, 2), (1.5, 4.0)),
    ("PAT_352_729_947.png", None, (135, 140, 180, 180), (1, 1), (0.5, 1.5)),
]


@pytest.mark.real_data
@pytest.mark.parametrize(("name", "px_per_mm", "box", "count_range", "area_pct_range"), REAL_CASES)
def test_the_visible_lesion_of_a_real_close_up_is_one_spot(
    real_data_dir: Path, name: str, px_per_mm: float | None, box: tuple[int, int, int, int],
    count_range: tuple[int, int], area_pct_range: tuple[float, float],
) -> None:
    path = real_data_dir / "pad_ufes_20" / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    srgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    m = measure_pigment(srgb_to_linear(srgb), np.ones(srgb.shape[:2], bool), px_per_mm=px_per_mm)
    assert count_range[0] <= m.spot_count <= count_range[1]
    x0, y0, x1, y1 = box
    labels, n = ndi.label(m.spot_mask)
    centre = labels[(y0 + y1) // 2, (x0 + x1) // 2]
    assert centre > 0, "the lesion's centre is not inside a spot"
    lesion = labels == centre
    rows, cols = np.nonzero(lesion)
    # The outline stays on the lesion (not spread over hair or skin) ...
    assert x0 <= cols.min() and cols.max() <= x1 and y0 <= rows.min() and rows.max() <= y1
    # ... and covers most of it.
    assert area_pct_range[0] <= 100.0 * lesion.sum() / lesion.size <= area_pct_range[1]
