"""Hole filling gives SciPy's result exactly: skin regions and exposure verdicts depend on it."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from tracker.analysis.holes import fill_holes


def test_fill_holes_is_scipys_on_random_masks_and_at_the_border():
    rng = np.random.default_rng(11)
    for trial in range(400):
        h, w = (int(v) for v in rng.integers(1, 50, 2))
        mask = rng.random((h, w)) < rng.random()
        if trial % 3 == 0:
            mask = ndi.binary_opening(mask) | (rng.random((h, w)) < 0.03)
        if trial % 5 == 0:
            mask = np.pad(mask, 1, constant_values=True)  # the close-up rule: the frame edge closes holes
        assert np.array_equal(fill_holes(mask), ndi.binary_fill_holes(mask)), trial


def test_a_hole_touching_the_border_only_diagonally_stays_open():
    # Background joins by four neighbours: a gap at a corner between two skin pixels leaks.
    mask = np.ones((4, 4), bool)
    mask[0, 0] = mask[1, 1] = False
    filled = fill_holes(mask)
    assert not filled[0, 0] and filled[1, 1]
