"""Hair on the skin is neither lines nor roughness: a shave between sessions reads as no change.

Ground truth: hairs this test draws (dark, thin, curved, anti-aliased) on a real hairless
close-up and on a simulated one with wrinkles, so which pixels are hair, and that the skin
beneath did not change, is known.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tracker.analysis import analyze_photo
from tracker.analysis.colour import srgb_to_linear
from tracker.analysis.hair import hair_and_skin_level
from tracker.analysis.texture import measure_texture
from tracker.simulate import capture, make_skin_scene


def draw_hairs(srgb: np.ndarray, *, count: int, seed: int, width_px: float) -> tuple[np.ndarray, np.ndarray]:
    """``srgb`` with ``count`` dark curved hairs drawn over it (multiplying light by 0.35-0.5), and their mask."""
    rng = np.random.default_rng(seed)
    h, w = srgb.shape[:2]
    cover = np.zeros((h, w), np.float32)
    shift = 4  # sub-pixel curves: drawn at 16x precision
    for _ in range(count):
        start = rng.uniform([0, 0], [w, h])
        angle, bend = rng.uniform(0, np.pi), rng.uniform(-0.8, 0.8)
        length = rng.uniform(0.25, 0.6) * max(h, w)
        t = np.linspace(0, 1, 40)[:, None]
        direction = np.c_[np.cos(angle + bend * t[:, 0]), np.sin(angle + bend * t[:, 0])]
        points = start + np.cumsum(direction * length / 40, axis=0)
        layer = np.zeros((h, w), np.uint8)
        cv2.polylines(layer, [np.round(points * (1 << shift)).astype(np.int32)], False, 255,
                      thickness=max(1, round(width_px)), lineType=cv2.LINE_AA, shift=shift)
        cover = np.maximum(cover, layer.astype(np.float32) / 255 * rng.uniform(0.5, 0.65))
    linear = srgb_to_linear(srgb) * (1.0 - cover)[..., None]
    encoded = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * np.power(np.maximum(linear, 0), 1 / 2.4) - 0.055)
    return encoded.astype(np.float32), cover > 0.25


def _png(srgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", np.round(np.clip(srgb, 0, 1)[:, :, ::-1] * 255).astype(np.uint8))
    assert ok
    return data.tobytes()


@pytest.fixture(scope="module")
def hairless(real_data_dir: Path) -> np.ndarray:
    bgr = cv2.imread(str(real_data_dir / "pad_ufes_20" / "PAT_117_179_983.png"), cv2.IMREAD_COLOR)
    assert bgr is not None
    return np.ascontiguousarray(bgr[:, :, ::-1], dtype=np.float32) / 255.0


@pytest.mark.real_data
@pytest.mark.parametrize("shaved", [False, True], ids=["hair grew", "shaved"])
def test_hair_that_grew_or_was_shaved_between_sessions_reads_as_no_change_in_lines_or_roughness(hairless, shaved):
    hairy, _ = draw_hairs(hairless, count=60, seed=3, width_px=3)
    before, after = (hairy, hairless) if shaved else (hairless, hairy)
    result = analyze_photo(_png(after), baseline=_png(before), view="closeup").result
    assert result.comparison is not None
    lines = result.comparison.change("line_density")
    assert lines is not None and lines.verdict == "no measurable change", lines
    # Roughness keeps ~6 % from the hairs' unfilled rims: at the edge of its 1.5.0 band (1.02 bands when
    # shaved; the README says so). Without the fill it moved 29 %, 5 bands.
    rough = result.comparison.change("roughness")
    assert rough is not None and rough.delta is not None and abs(rough.delta) < 1.1 * rough.mdc, rough
    hair = result.parameters["hair_pct"]
    assert (hair["baseline"] if shaved else hair["photo"]) > 5.0
    assert (hair["photo"] if shaved else hair["baseline"]) < 0.2  # none on the bare skin
    assert any(n.startswith("hair covers part of the skin") for n in result.comparison.notes)


@pytest.mark.real_data
def test_the_hair_mask_covers_the_drawn_hairs_and_little_else(hairless):
    hairy, truth = draw_hairs(hairless, count=60, seed=4, width_px=3)
    scale = 12.0 / 15.0  # texture works at 12 px/mm; the photo's assumed scale is 15
    lum = srgb_to_linear(hairy) @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    small = cv2.resize(np.log(np.maximum(lum, 1e-4)), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    hair, _ = hair_and_skin_level(small, 12.0)
    found = cv2.resize(hair.view(np.uint8), truth.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0
    recall = np.count_nonzero(found & truth) / np.count_nonzero(truth)
    false_share = np.count_nonzero(found & ~cv2.dilate(truth.view(np.uint8), np.ones((11, 11), np.uint8)).view(bool)) / found.size
    assert recall > 0.8, recall
    assert false_share < 0.005, false_share  # beyond a hair's edge (0.25 mm) and its blur


def test_wrinkles_are_not_hair_and_hair_on_simulated_skin_is_filled():
    scene = make_skin_scene(seed=41, shape_px=(900, 1200), mm_per_px=0.05)  # five lines (wrinkles) by default
    skin = capture(scene, seed=1, out_shape=(800, 1066)).srgb
    region = np.ones(skin.shape[:2], bool)
    bare = measure_texture(srgb_to_linear(skin), region, px_per_mm=20.0)
    assert np.count_nonzero(bare.hair_mask) == 0  # the wrinkles stay lines
    hairy, _ = draw_hairs(skin, count=25, seed=5, width_px=2)
    with_hair = measure_texture(srgb_to_linear(hairy), region, px_per_mm=20.0)
    assert with_hair.hair_mask.mean() > 0.03
    assert abs(with_hair.line_density / bare.line_density - 1) < 0.10
