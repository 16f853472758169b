"""Pigment spot detection on simulated close-ups whose spots the test places itself.

Ground truth is the simulator's ``scene.spot_mask``: where a spot's added
melanin OD is at least half its peak. Scenes carry redness patches, vessels,
fine lines, pores and mottling, as the simulator draws them by default.
"""

from __future__ import annotations

import io
import math

import cv2
import numpy as np
import pytest
from PIL import Image
from scipy import ndimage as ndi

from tracker.analysis.colour import linear_to_srgb, srgb_to_linear
from tracker.analysis.pigment import melanin_index
from tracker.analysis.spots import ASSUMED_PX_PER_MM, detect_spots, detect_spots_props
from tracker.simulate import Spot, make_skin_scene, reference_render

SHAPE = (1024, 1024)  # 51.2 mm square at 20 px/mm
PX_PER_MM = 20.0


def dozen_spots(seed: int, field_mm: float = 51.2) -> tuple[Spot, ...]:
    """Twelve non-overlapping spots of 1-4 mm, darkness 0.4-0.8 OD, slightly irregular."""
    rng = np.random.default_rng(seed)
    spots: list[Spot] = []
    while len(spots) < 12:
        d = float(rng.uniform(1.0, 4.0))
        c = (float(rng.uniform(3 + d / 2, field_mm - 3 - d / 2)), float(rng.uniform(3 + d / 2, field_mm - 3 - d / 2)))
        if any(math.dist(c, s.centre_mm) < (d + s.diameter_mm) / 2 + 2 for s in spots):
            continue
        spots.append(Spot(centre_mm=c, diameter_mm=d, darkness=float(rng.uniform(0.4, 0.8)), irregularity=float(rng.uniform(0, 0.15))))
    return tuple(spots)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


def _all_on_truth(mask: np.ndarray, truth: np.ndarray) -> bool:
    """Every detected spot overlaps a true spot (no false spot)."""
    labels, n = ndi.label(mask)
    return all((truth & (labels == i)).any() for i in range(1, n + 1))


@pytest.fixture(scope="module", params=[(2, 11), (4, 12)], ids=["type II", "type IV"])
def close_up(request: pytest.FixtureRequest):
    skin_type, seed = request.param
    scene = make_skin_scene(seed=seed, shape_px=SHAPE, skin_type=skin_type, spots=dozen_spots(seed))
    return scene, reference_render(scene)


def test_spots_on_a_close_up_are_counted_outlined_and_sized(close_up) -> None:
    scene, linear = close_up
    mask, count = detect_spots(melanin_index(linear), np.ones(SHAPE, bool), px_per_mm=PX_PER_MM)
    truth = scene.spot_mask
    assert count == len(scene.spots) == 12
    assert mask.sum() / truth.sum() == pytest.approx(1.0, abs=0.10)
    assert _dice(mask, truth) >= 0.85
    assert _all_on_truth(mask, truth)


def test_resampled_to_15_px_per_mm_gives_the_same_spots(close_up) -> None:
    scene, linear = close_up
    size = (768, 768)  # 15 px/mm
    small = cv2.resize(linear, size, interpolation=cv2.INTER_AREA)
    truth = cv2.resize(scene.spot_mask.astype(np.float32), size, interpolation=cv2.INTER_AREA) >= 0.5
    mask, count = detect_spots(melanin_index(small), np.ones(size, bool), px_per_mm=15.0)
    assert count == 12
    assert mask.sum() / truth.sum() == pytest.approx(1.0, abs=0.10)
    assert _dice(mask, truth) >= 0.85


def test_jpeg_round_trip_adds_no_false_spot(close_up) -> None:
    scene, linear = close_up
    buf = io.BytesIO()
    Image.fromarray(np.round(linear_to_srgb(linear) * 255).astype(np.uint8)).save(
        buf, format="JPEG", quality=92, subsampling="4:2:0"
    )
    decoded = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), dtype=np.float32) / 255.0
    mask, count = detect_spots(melanin_index(srgb_to_linear(decoded)), np.ones(SHAPE, bool), px_per_mm=PX_PER_MM)
    assert count == 12
    assert _all_on_truth(mask, scene.spot_mask)


@pytest.mark.parametrize("skin_type", [2, 4])
def test_spot_free_skin_with_pores_and_lines_has_no_spots(skin_type: int) -> None:
    # Deeper lines and denser pores than the default, to give the shape filters work.
    scene = make_skin_scene(
        seed=21, shape_px=SHAPE, skin_type=skin_type, spots=(), line_depth_mm=0.1, pore_density_per_cm2=90.0
    )
    mask, count = detect_spots(melanin_index(reference_render(scene)), np.ones(SHAPE, bool), px_per_mm=PX_PER_MM)
    assert count == 0
    assert not mask.any()


def test_region_limits_where_spots_are_found(close_up) -> None:
    scene, linear = close_up
    region = np.zeros(SHAPE, bool)
    region[:, : SHAPE[1] // 2] = True
    mask, count = detect_spots(melanin_index(linear), region, px_per_mm=PX_PER_MM)
    assert not (mask & ~region).any()
    # Spots wholly inside the left half are all found; ones cut by the border may or may not be.
    inside = [s for s in scene.spots if s.centre_mm[0] + s.diameter_mm < SHAPE[1] / 2 / PX_PER_MM]
    straddling = [s for s in scene.spots if abs(s.centre_mm[0] - SHAPE[1] / 2 / PX_PER_MM) <= s.diameter_mm]
    assert len(inside) <= count <= len(inside) + len(straddling)


def test_unknown_scale_assumes_15_px_per_mm() -> None:
    # A 1 mm disc at 15 px/mm is a spot; at an assumed 15 px/mm it must stay one,
    # while the same pixels declared at 60 px/mm (0.25 mm) are too small.
    yy, xx = np.mgrid[:160, :160]
    mi = np.where(np.hypot(yy - 80, xx - 80) <= 7.5, 60.0, 40.0).astype(np.float32)
    region = np.ones(mi.shape, bool)
    assert ASSUMED_PX_PER_MM == 15.0
    assert detect_spots(mi, region, px_per_mm=None)[1] == 1
    assert detect_spots(mi, region, px_per_mm=60.0)[1] == 0


def test_spot_contrast_is_reported_in_mi_units() -> None:
    # A flat 20 MI disc on flat skin: its contrast is 20 MI and it is outlined at its edge.
    yy, xx = np.mgrid[:200, :200]
    mi = np.where(np.hypot(yy - 100, xx - 100) <= 15, 60.0, 40.0).astype(np.float32)
    labels, props, contrast = detect_spots_props(mi, np.ones(mi.shape, bool), px_per_mm=15.0)
    assert len(props) == 1
    assert props[0].contrast_mi == pytest.approx(20.0, abs=1.0)
    assert props[0].area_px == pytest.approx(math.pi * 15**2, rel=0.05)
    assert contrast.shape == mi.shape


def test_bad_inputs_name_the_argument() -> None:
    mi = np.zeros((20, 20), np.float32)
    with pytest.raises(ValueError, match="region"):
        detect_spots(mi, np.zeros((20, 20), bool), px_per_mm=15.0)
    with pytest.raises(ValueError, match="melanin_map"):
        detect_spots(np.zeros((20, 20, 3), np.float32), np.ones((20, 20), bool), px_per_mm=15.0)
    with pytest.raises(ValueError, match="px_per_mm"):
        detect_spots(mi, np.ones((20, 20), bool), px_per_mm=-1.0)
    with pytest.raises(ValueError, match="min_diameter_mm"):
        detect_spots(mi, np.ones((20, 20), bool), px_per_mm=15.0, min_diameter_mm=9.0)
