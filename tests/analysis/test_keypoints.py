"""Keypoints detected before the skin is known, kept inside it after: the same as SIFT given the mask.

The pipeline starts SIFT on the whole corrected image while the skin is still being found and
applies the skin mask afterwards. If OpenCV ever filtered by the mask before keeping its
strongest ``nfeatures`` (or rounded positions otherwise), alignments and every figure measured
after them would change: these tests compare both ways on real photos and a rendered skin.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.analysis._align_helpers import render_pair
from tracker.analysis import keypoints
from tracker.analysis.decode import decode_image


def _with_mask_given_to_sift(grey: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference: OpenCV's own masked detection, as the pipeline did before."""
    levels = keypoints.levels(grey)
    small_mask = keypoints.resize_mask(mask, levels.sift.shape)
    assert small_mask is not None
    small_mask = cv2.erode(small_mask, np.ones((5, 5), np.uint8))
    sift = cv2.SIFT.create(nfeatures=keypoints.SIFT_MAX_FEATURES, contrastThreshold=keypoints.SIFT_CONTRAST_THRESHOLD)
    found, desc = sift.detectAndCompute(keypoints._sift_input(levels), small_mask)
    xy = np.array([k.pt for k in found], dtype=np.float64).reshape(-1, 2)
    to_full = levels.sift_to_full
    return (xy @ to_full[:2, :2].T + to_full[:2, 2]).astype(np.float32), desc.astype(np.float32)


def _off_centre_ellipse(shape: tuple[int, int], seed: int) -> np.ndarray:
    h, w = shape
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), np.uint8)
    centre = (w // 2 + int(rng.integers(-w // 8, w // 8)), h // 2 + int(rng.integers(-h // 8, h // 8)))
    cv2.ellipse(mask, centre, (int(0.35 * w), int(0.3 * h)), float(rng.integers(0, 90)), 0, 360, 255, -1)
    return mask > 0


def _assert_same(grey: np.ndarray, mask: np.ndarray) -> int:
    expected_xy, expected_desc = _with_mask_given_to_sift(grey, mask)
    xy, desc, _ = keypoints.inside(keypoints.detect(grey), mask)
    np.testing.assert_array_equal(xy, expected_xy)
    np.testing.assert_array_equal(desc, expected_desc)
    return len(xy)


def test_rendered_skin_keeps_exactly_the_keypoints_sift_finds_inside_the_mask() -> None:
    reference, _, _ = render_pair(720, 960, angle_deg=0.0, scale=1.0, shift_frac=(0.0, 0.0))
    grey = keypoints.grey(reference)
    assert _assert_same(grey, _off_centre_ellipse(grey.shape, 1)) > 50


def test_real_photos_keep_exactly_the_keypoints_sift_finds_inside_the_mask(real_data_dir: Path) -> None:
    photos = sorted(real_data_dir.glob("pad_ufes_20/**/*.png"))[:3] + sorted(real_data_dir.glob("interfaces_cc0_faces/**/*.jpg"))[:3]
    assert photos, f"no PAD-UFES or face photos under {real_data_dir}"
    capped = 0
    for i, path in enumerate(photos):
        grey = keypoints.grey(decode_image(str(path)).srgb)
        capped += len(keypoints.detect(grey).keypoints) >= keypoints.SIFT_MAX_FEATURES
        assert _assert_same(grey, _off_centre_ellipse(grey.shape, i)) > 0, path.name
    # The cap (kept before the mask) must have been reached somewhere, or the test proves less.
    assert capped >= 1


def test_an_empty_mask_keeps_no_keypoints() -> None:
    reference, _, _ = render_pair(240, 320, angle_deg=0.0, scale=1.0, shift_frac=(0.0, 0.0))
    xy, desc, _ = keypoints.inside(keypoints.detect(keypoints.grey(reference)), np.zeros((240, 320), bool))
    assert xy.shape == (0, 2) and desc.shape == (0, 128)


@pytest.mark.parametrize("seed", [2, 3])
def test_masks_of_other_shapes_keep_the_same_keypoints(seed: int) -> None:
    reference, _, _ = render_pair(600, 800, angle_deg=5.0, scale=1.0, shift_frac=(0.05, 0.0))
    grey = keypoints.grey(reference)
    mask = np.zeros(grey.shape, bool)
    mask[60 * seed:, : 250 * seed] = True  # a corner block: edges cut through keypoint-rich skin
    assert _assert_same(grey, mask) > 0
