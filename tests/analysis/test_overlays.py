"""Overlays: fixed colour scales, outlines where the spots are, PNG bytes that decode back."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tracker.analysis.overlays import (
    EI_COLOUR_SCALE,
    SPOT_COLOUR,
    ei_colours,
    encode_png,
    line_overlay,
    redness_overlay,
    spot_overlay,
)


def _photo(shape: tuple[int, int] = (64, 80), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.3, 0.8, (*shape, 3)).astype(np.float32)


def test_redness_colour_scale_is_fixed_not_per_image() -> None:
    photo = _photo()
    region = np.ones(photo.shape[:2], bool)
    # Two photos, one uniformly redder: the same EI must give the same colour in both.
    ei_a = np.full(photo.shape[:2], 20.0, np.float32)
    ei_a[:, 40:] = 35.0
    ei_b = np.full(photo.shape[:2], 35.0, np.float32)
    a = redness_overlay(photo, ei_a, region)
    b = redness_overlay(photo, ei_b, region)
    np.testing.assert_array_equal(a[:, 40:], b[:, 40:])
    # ... and different EI, different colour.
    assert np.abs(a[:, :40].astype(int) - b[:, :40].astype(int)).max() > 30
    assert a.dtype == np.uint8 and a.shape == (*photo.shape[:2], 3)


def test_redness_scale_clamps_and_runs_from_dark_to_bright() -> None:
    lo, hi = EI_COLOUR_SCALE
    colours = ei_colours(np.array([lo - 20, lo, (lo + hi) / 2, hi, hi + 20]))
    np.testing.assert_array_equal(colours[0], colours[1])
    np.testing.assert_array_equal(colours[3], colours[4])
    brightness = colours.sum(axis=1)
    assert brightness[1] < brightness[2] < brightness[3]


def test_outside_the_region_and_nan_show_the_grey_photo() -> None:
    photo = _photo()
    ei = np.full(photo.shape[:2], 45.0, np.float32)
    ei[0, 0] = np.nan
    region = np.zeros(photo.shape[:2], bool)
    region[:, :40] = True
    out = redness_overlay(photo, ei, region)
    grey_right = out[:, 40:]
    assert (grey_right[..., 0] == grey_right[..., 1]).all() and (grey_right[..., 1] == grey_right[..., 2]).all()
    assert out[0, 0, 0] == out[0, 0, 1] == out[0, 0, 2]
    assert not (out[5, 5, 0] == out[5, 5, 1] == out[5, 5, 2])


def test_spot_outline_surrounds_the_spot_and_leaves_it_visible() -> None:
    photo = np.full((100, 120, 3), 0.6, np.float32)
    yy, xx = np.mgrid[:100, :120]
    spot = np.hypot(yy - 50, xx - 60) <= 12
    photo[spot] = 0.3
    out = spot_overlay(photo, spot)
    outline = np.all(out == np.array(SPOT_COLOUR, np.uint8), axis=2)
    rows, cols = np.nonzero(outline)
    radius = np.hypot(rows - 50, cols - 60)
    # The outline rings the spot just outside its edge ...
    assert outline.sum() > 40
    assert radius.min() >= 12 and radius.max() <= 18
    # ... and the spot itself and the far skin are untouched.
    np.testing.assert_array_equal(out[50, 60], np.round(np.array([0.3, 0.3, 0.3]) * 255).astype(np.uint8))
    np.testing.assert_array_equal(out[5, 5], np.round(np.array([0.6, 0.6, 0.6]) * 255).astype(np.uint8))


def test_no_spots_leaves_the_photo_as_it_was() -> None:
    photo = _photo()
    out = spot_overlay(photo, np.zeros(photo.shape[:2], bool))
    np.testing.assert_array_equal(out, np.round(photo * 255).astype(np.uint8))


def test_lines_are_drawn_where_the_line_map_is_strong() -> None:
    photo = _photo()
    line_map = np.zeros(photo.shape[:2], np.float32)
    line_map[30:33, :] = 0.05
    out = line_overlay(photo, line_map, np.ones(photo.shape[:2], bool))
    on_line = out[31].astype(int)
    off_line = out[10].astype(int)
    # Off the line the grey photo shows (R = G = B); on it the line colour (blue above red).
    assert (off_line[:, 0] == off_line[:, 2]).all()
    assert (on_line[:, 2] - on_line[:, 0] > 100).all()


def test_png_round_trip_keeps_every_pixel() -> None:
    image = (np.random.default_rng(3).uniform(0, 1, (37, 53, 3)) * 255).astype(np.uint8)
    data = encode_png(image)
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    np.testing.assert_array_equal(decoded, image)


def test_bad_inputs_name_the_argument() -> None:
    photo = _photo()
    with pytest.raises(ValueError, match="erythema_map"):
        redness_overlay(photo, np.zeros((3, 3), np.float32), np.ones(photo.shape[:2], bool))
    with pytest.raises(TypeError, match="spot_mask"):
        spot_overlay(photo, np.zeros(photo.shape[:2], np.uint8))
    with pytest.raises(TypeError, match="rgb_uint8"):
        encode_png(photo)
    with pytest.raises(ValueError, match="srgb"):
        line_overlay(photo[..., 0], np.zeros(photo.shape[:2], np.float32), np.ones(photo.shape[:2], bool))
