"""A camera turned between two close-ups: the homography that lines them up where an affine cannot.

Skin in a close-up is close to a plane, so two photos of it differ by a homography. When the
camera is held square both times, that homography is (nearly) a similarity and the affine
alignment is exact. Turned by a few degrees, the view is bent: one side of the frame is
magnified more than the other, and the best affine is off at the frame's edges by 1-3 % of
the frame (an 8 degree turn of a phone at close range: 4-10 px on a 300 px PAD-UFES close-up,
23-42 px on a 1,200-1,700 px one), or leaves matches so far off that the pair was refused.

The homography is adopted only when it explains clearly more of the matched features than
the affine (:data:`MIN_INLIER_GAIN`): on photos taken square, both models hold the same
matches, and the affine (fewer parameters, less noise) is kept, so their figures do not move.
It is refined by ECC on the same band-passed images as the affine.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["MIN_INLIER_GAIN", "fit_homography", "local_affine", "refine_homography", "transfer"]

#: The homography must hold this many times the affine's inlier matches (and at least
#: :data:`MIN_EXTRA_INLIERS` more): more parameters always explain a few more matches by chance.
MIN_INLIER_GAIN = 1.15
MIN_EXTRA_INLIERS = 10


def transfer(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Points (n, 2) through the homography ``h`` (3x3)."""
    p = np.asarray(pts, np.float64).reshape(-1, 2)
    q = p @ h[:2, :2].T + h[:2, 2]
    w = p @ h[2, :2] + h[2, 2]
    return q / w[:, None]


def fit_homography(
    src: np.ndarray, dst: np.ndarray, threshold: float, affine_inliers: int, *, seed: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """RANSAC homography (src -> dst) and its inlier flags, when it holds clearly more matches than the affine."""
    if len(src) < 8:
        return None
    # RANSAC draws from the thread's OpenCV generator: seeded, the same pair gives the same warp.
    cv2.setRNGSeed(seed)
    h, flags = cv2.findHomography(src, dst, cv2.RANSAC, threshold, maxIters=5000, confidence=0.999)
    if h is None or flags is None or not np.isfinite(h).all() or abs(h[2, 2]) < 1e-12:
        return None
    inliers = flags.ravel().astype(bool)
    n = int(inliers.sum())
    if n < MIN_INLIER_GAIN * affine_inliers or n < affine_inliers + MIN_EXTRA_INLIERS:
        return None
    return h / h[2, 2], inliers


def refine_homography(
    ref_image: np.ndarray, mov_image: np.ndarray, ref_mask: np.ndarray, mov_mask: np.ndarray,
    ref_to_full: np.ndarray, mov_to_full: np.ndarray, coarse: np.ndarray,
) -> tuple[np.ndarray | None, float]:
    """ECC refinement of ``coarse`` (moving -> reference, callers' px) on the band-passed ECC images.

    Returns the refined homography (callers' px) and the correlation, or (None, 0) when ECC fails.
    """
    m_small = np.linalg.inv(ref_to_full) @ coarse @ mov_to_full
    warp = np.linalg.inv(m_small)  # ECC wants reference -> moving
    warp = (warp / warp[2, 2]).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-6)
    try:
        rho, warp = cv2.findTransformECCWithMask(
            ref_image, mov_image, ref_mask, mov_mask, warp, cv2.MOTION_HOMOGRAPHY, criteria, 3
        )
    except cv2.error:
        return None, 0.0
    if not np.isfinite(warp).all() or not np.isfinite(rho):
        return None, 0.0
    fine = ref_to_full @ np.linalg.inv(warp.astype(np.float64)) @ np.linalg.inv(mov_to_full)
    if abs(fine[2, 2]) < 1e-12:
        return None, 0.0
    return fine / fine[2, 2], float(np.clip(rho, 0.0, 1.0))


def local_affine(h: np.ndarray, point: tuple[float, float]) -> np.ndarray:
    """2x3 affine that agrees with ``h`` at ``point`` to first order (its zoom, turn and shear there)."""
    x, y = point
    w = h[2, 0] * x + h[2, 1] * y + h[2, 2]
    u = (h[0, 0] * x + h[0, 1] * y + h[0, 2]) / w
    v = (h[1, 0] * x + h[1, 1] * y + h[1, 2]) / w
    jac = np.array([[h[0, 0] - u * h[2, 0], h[0, 1] - u * h[2, 1]],
                    [h[1, 0] - v * h[2, 0], h[1, 1] - v * h[2, 1]]]) / w
    return np.c_[jac, np.array([u, v]) - jac @ np.array([x, y])]
