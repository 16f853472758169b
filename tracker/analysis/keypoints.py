"""The reduced greys of a photo, its SIFT keypoints and their matches, for :mod:`tracker.analysis.alignment`.

SIFT runs on a 640 px CLAHE-equalised grey (it doubles it internally), ECC on an 800 px one,
both made once from the full image. Keypoints are detected over the whole image and kept
inside the skin mask afterwards, so that detection can start before the skin is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["RATIO_TEST", "DetectedFeatures", "Levels", "detect", "grey", "inside", "levels", "ratio_matches", "reduce", "resize_mask"]

SIFT_MAX_SIDE = 640  # px, long side of the image SIFT runs on (SIFT doubles it internally)
ECC_MAX_SIDE = 800  # px, long side of the image ECC runs on
SIFT_CONTRAST_THRESHOLD = 0.01  # OpenCV default 0.04 finds almost nothing on smooth skin
SIFT_MAX_FEATURES = 2000


@dataclass(frozen=True, eq=False)
class DetectedFeatures:
    """A photo's reduced greys and its SIFT features over the whole image, before any mask.

    Made by :func:`detect`; :func:`inside` keeps those inside a mask.
    """

    shape: tuple[int, int]
    levels: Levels
    keypoints: tuple[cv2.KeyPoint, ...]
    descriptors: np.ndarray | None


def grey(srgb: np.ndarray) -> np.ndarray:
    """Luminance-weighted grey of a float sRGB image, float32."""
    return cv2.cvtColor(np.ascontiguousarray(srgb, dtype=np.float32), cv2.COLOR_RGB2GRAY)


def reduce(image: np.ndarray, max_side: int) -> tuple[np.ndarray, np.ndarray]:
    """Downscale to at most ``max_side``; also return the 3x3 small-pixel -> full-pixel matrix."""
    h, w = image.shape[:2]
    factor = min(1.0, max_side / max(h, w))
    if factor >= 1.0:
        return image, np.eye(3)
    sw, sh = max(1, round(w * factor)), max(1, round(h * factor))
    small = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA)
    # Pixel centres: x_full = (x_small + 0.5) * w / sw - 0.5 (a plain divide is off by up to 1.5 px).
    fx, fy = w / sw, h / sh
    return small, np.array([[fx, 0.0, 0.5 * fx - 0.5], [0.0, fy, 0.5 * fy - 0.5], [0.0, 0.0, 1.0]])


def resize_mask(mask: np.ndarray | None, size_hw: tuple[int, int]) -> np.ndarray | None:
    """A bool mask as uint8 0/255 at ``size_hw`` (nearest pixel)."""
    if mask is None:
        return None
    return cv2.resize(mask.astype(np.uint8) * 255, (size_hw[1], size_hw[0]), interpolation=cv2.INTER_NEAREST)


@dataclass(frozen=True)
class Levels:
    """The two reduced greys every stage works on (each made once from the full image)."""

    ecc: np.ndarray
    ecc_to_full: np.ndarray
    sift: np.ndarray
    sift_to_full: np.ndarray


def levels(grey: np.ndarray) -> Levels:
    """The ECC and SIFT levels of a full-size grey."""
    ecc, ecc_to_full = reduce(grey, ECC_MAX_SIDE)
    sift, sift_to_ecc = reduce(ecc, SIFT_MAX_SIDE)  # from the ECC level: one pass over the full image
    return Levels(ecc, ecc_to_full, sift, ecc_to_full @ sift_to_ecc)


def _sift() -> cv2.SIFT:
    return cv2.SIFT.create(nfeatures=SIFT_MAX_FEATURES, contrastThreshold=SIFT_CONTRAST_THRESHOLD)


def detect(grey_image: np.ndarray) -> DetectedFeatures:
    """SIFT over the whole SIFT level of a grey image, no mask."""
    reduced = levels(grey_image)
    keypoints, desc = _sift().detectAndCompute(_sift_input(reduced), None)
    h, w = grey_image.shape[:2]
    return DetectedFeatures((int(h), int(w)), reduced, tuple(keypoints), desc)


def _sift_input(levels: Levels) -> np.ndarray:
    u8: np.ndarray = np.clip(levels.sift * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(u8)


def inside(detected: DetectedFeatures, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, float]:
    """The detected keypoints inside the (eroded) mask, in full-image pixels.

    The same keypoints and descriptors as SIFT given the mask: OpenCV keeps its strongest
    ``nfeatures`` first and drops those on a zero mask pixel, at the rounded position, after
    (checked on 39 real photos, 31 of them past the cap).
    """
    small, to_full = detected.levels.sift, detected.levels.sift_to_full
    keypoints, desc = detected.keypoints, detected.descriptors
    empty = np.zeros((0, 2), np.float32), np.zeros((0, 128), np.float32), 1.0 / to_full[0, 0]
    if desc is None or not keypoints:
        return empty
    xy32 = np.array([k.pt for k in keypoints], dtype=np.float32)
    m = resize_mask(mask, small.shape)
    if m is not None:
        m = cv2.erode(m, np.ones((5, 5), np.uint8))  # no keypoints on the mask's own edge
        rows = (xy32[:, 1] + np.float32(0.5)).astype(np.int32)
        cols = (xy32[:, 0] + np.float32(0.5)).astype(np.int32)
        kept = m[np.clip(rows, 0, m.shape[0] - 1), np.clip(cols, 0, m.shape[1] - 1)] != 0
        xy32, desc = xy32[kept], desc[kept]
        if not len(xy32):
            return empty
    xy = xy32.astype(np.float64)
    xy_full = xy @ to_full[:2, :2].T + to_full[:2, 2]
    return xy_full.astype(np.float32), desc.astype(np.float32), 1.0 / to_full[0, 0]


#: Lowe's ratio test: the nearest descriptor must be this much closer than the second.
RATIO_TEST = 0.8

#: SIFT descriptors are whole numbers up to 255 (OpenCV rounds them to bytes). Between such
#: vectors every partial sum of a squared distance, or of ``|b|² - 2 a·b + |a|²``, is a whole
#: number below 2**24, exact in float32 in any order: a matrix product then gives exactly the
#: distances ``cv2.BFMatcher`` sums one by one.
_EXACT_FLOAT32_LIMIT = float(2**24)


def _two_nearest(desc_m: np.ndarray, desc_r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each moving descriptor: the index of its nearest reference descriptor, the L2
    distance to it and to the second nearest (float32), as ``BFMatcher.knnMatch(k=2)`` finds them.

    Whole-number descriptors take one matrix product (a third of the time; the same float32
    distances, see above); others go through ``cv2.BFMatcher``. On a tie for the nearest, the
    two distances are equal and the ratio test drops the match either way.
    """
    n_m, n_r = len(desc_m), len(desc_r)
    if n_m == 0 or n_r < 2:
        return np.zeros(0, np.intp), np.zeros(0, np.float32), np.zeros(0, np.float32)
    a, b = np.ascontiguousarray(desc_m, np.float32), np.ascontiguousarray(desc_r, np.float32)
    top = float(max(np.abs(a).max(), np.abs(b).max()))
    exact = (2.0 * a.shape[1] * top * top < _EXACT_FLOAT32_LIMIT
             and bool(np.all(a == np.round(a))) and bool(np.all(b == np.round(b))))
    if not exact:
        pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(a, b, k=2)
        first = np.array([p[0].trainIdx for p in pairs], np.intp)
        d1 = np.array([p[0].distance for p in pairs], np.float32)
        d2 = np.array([p[1].distance if len(p) == 2 else np.inf for p in pairs], np.float32)
        return first, d1, d2
    # |a - b|² = |a|² + (|b|² - 2 a·b): the bracket ranks the reference descriptors.
    partial = np.einsum("ij,ij->i", b, b)[None, :] - 2.0 * (a @ b.T)
    rows = np.arange(n_m)
    first = np.argmin(partial, axis=1)
    nearest = partial[rows, first]
    partial[rows, first] = np.inf
    second = partial.min(axis=1)
    own = np.einsum("ij,ij->i", a, a)
    return first, np.sqrt(nearest + own), np.sqrt(second + own)


def ratio_matches(desc_m: np.ndarray, desc_r: np.ndarray, kp_m: np.ndarray, kp_r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Moving and reference keypoints of the matches that pass the ratio test, one per reference keypoint."""
    # Exact nearest neighbours: FLANN's randomised trees draw from the C library's rand(),
    # which other code advances, so the matches (and the figures) changed from run to run.
    first, d1, d2 = _two_nearest(desc_m, desc_r)
    good = np.flatnonzero(d1.astype(np.float64) < RATIO_TEST * d2.astype(np.float64))
    # One reference keypoint answers at most one moving keypoint: many-to-one matches
    # (a frame corner, a blown highlight) otherwise form a degenerate "consensus".
    # The closest moving keypoint keeps it (the first on a tie), in the order references first answer.
    best: dict[int, int] = {}
    for q in good.tolist():
        t = int(first[q])
        if t not in best or d1[q] < d1[best[t]]:
            best[t] = q
    if not best:
        return np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32)
    src = kp_m[list(best.values())]
    dst = kp_r[list(best.keys())]
    return src, dst
