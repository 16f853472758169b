"""Descriptor matching by one matrix product gives exactly OpenCV's brute-force matches.

Alignment matches SIFT descriptors by their two nearest neighbours (ratio test), then keeps
one moving keypoint per reference keypoint. The distances come from a matrix product, which
is exact for SIFT's whole-number descriptors; if it were not (another rounding, a changed
tie rule, another order of the matches), RANSAC would draw other samples and every warp and
figure after it could move. These tests compare with ``cv2.BFMatcher`` match for match.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tests.analysis._align_helpers import render_pair
from tracker.analysis import alignment, keypoints
from tracker.analysis.decode import decode_image


def _brute_force(desc_m: np.ndarray, desc_r: np.ndarray, kp_m: np.ndarray, kp_r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference: OpenCV's brute-force 2-NN, ratio test, then the closest match per reference keypoint."""
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(desc_m, desc_r, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < keypoints.RATIO_TEST * p[1].distance]
    best: dict[int, cv2.DMatch] = {}
    for g in good:
        if g.trainIdx not in best or g.distance < best[g.trainIdx].distance:
            best[g.trainIdx] = g
    kept = list(best.values())
    return kp_m[[g.queryIdx for g in kept]].reshape(-1, 2), kp_r[[g.trainIdx for g in kept]].reshape(-1, 2)


def _assert_same_matches(mov: alignment.PreparedReference, ref: alignment.PreparedReference) -> int:
    expected = _brute_force(mov.descriptors, ref.descriptors, mov.keypoints_xy, ref.keypoints_xy)
    found = keypoints.ratio_matches(mov.descriptors, ref.descriptors, mov.keypoints_xy, ref.keypoints_xy)
    np.testing.assert_array_equal(found[0], expected[0])  # same matches, in the same order
    np.testing.assert_array_equal(found[1], expected[1])
    return len(found[0])


def test_rendered_pair_matches_exactly_as_brute_force() -> None:
    reference, moving, _ = render_pair(600, 800, angle_deg=8.0, scale=1.1, shift_frac=(0.05, -0.03))
    ref, mov = alignment.prepare_reference(reference), alignment.prepare_reference(moving)
    assert _assert_same_matches(mov, ref) > 50


def test_real_photos_match_exactly_as_brute_force(real_data_dir: Path) -> None:
    photos = sorted(real_data_dir.glob("pad_ufes_20/**/PAT_1286_999_*.png")) + sorted(
        real_data_dir.glob("interfaces_cc0_faces/**/*.jpg"))[:2]
    assert len(photos) >= 3, f"too few PAD-UFES or face photos under {real_data_dir}"
    refs = [alignment.prepare_reference(decode_image(str(p)).srgb) for p in photos]
    # SIFT's cap of keypoints is reached: full-size products, and ties between
    # descriptors, are exercised (one lesion photographed twice, and other people).
    assert max(len(r.descriptors) for r in refs) >= keypoints.SIFT_MAX_FEATURES
    counts = [_assert_same_matches(refs[i], refs[j]) for i in range(len(refs)) for j in range(len(refs)) if i != j]
    assert max(counts) > 50  # the same lesion's two photos match


def test_descriptors_that_are_not_whole_numbers_match_as_brute_force() -> None:
    reference, moving, _ = render_pair(480, 640, angle_deg=4.0, scale=0.95, shift_frac=(0.02, 0.02))
    ref, mov = alignment.prepare_reference(reference), alignment.prepare_reference(moving)
    # Scaled by an odd factor, the descriptors leave the exact whole-number path.
    ref = alignment.PreparedReference(**{**vars(ref), "descriptors": ref.descriptors * np.float32(0.37)})
    mov = alignment.PreparedReference(**{**vars(mov), "descriptors": mov.descriptors * np.float32(0.37)})
    assert _assert_same_matches(mov, ref) > 50


def test_too_few_reference_descriptors_give_no_match() -> None:
    desc = np.full((5, 128), 3.0, np.float32)
    src, dst = keypoints.ratio_matches(desc, desc[:1], np.zeros((5, 2), np.float32), np.zeros((1, 2), np.float32))
    assert src.shape == (0, 2) and dst.shape == (0, 2)
