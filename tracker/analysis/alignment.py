"""Align a follow-up photo to the baseline photo of the same view, or refuse.

Two stages:

1. *Coarse*: SIFT keypoints with a low contrast threshold (smooth skin has
   little contrast) on a reduced, CLAHE-equalised grey image, Lowe's ratio
   test, and a RANSAC similarity (rotation, uniform scale, shift).
2. *Fine*: ECC (enhanced correlation coefficient) on a band-passed
   log-luminance image inside the masks, affine motion, started from the
   coarse estimate. The log makes an exposure or colour-cast change an
   additive constant that the band-pass removes.

A doubtful result comes back as ``ok=False`` with a reason the technician can
act on, never as a warp: too few or too inconsistent matches, an implausible
scale or shear, ECC failing to converge or ending on a low correlation.

All matrices are 2x3 float64 in the pixel coordinates of the arrays passed in
(OpenCV convention: pixel centres at integer coordinates).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tracker.analysis import keypoints as _keypoints
from tracker.analysis import lesion_align as _lesion
from tracker.analysis import perspective as _perspective

__all__ = ["Alignment", "PreparedReference", "align", "prepare_reference", "warp_to_reference"]

RANSAC_THRESHOLD_PX = 3.0  # at the SIFT scale
MIN_INLIERS = 15
RANSAC_SEED = 20241202
MIN_INLIER_RATIO = 0.15
SCALE_RANGE = (0.5, 2.0)  # of the field of view: zoom, whatever each photo's pixel count
MAX_ANISOTROPY = 1.1  # ratio of the affine's singular values (shear / unequal scale)
MIN_SIMILARITY = 0.35  # ECC correlation of the band-passed images
MIN_OVERLAP = 0.2  # share of the reference (mask) the warped photo must cover (a 1.5x closer crop covers ~0.25-0.45)
MAX_FINE_RESIDUAL = 2.0  # RMS of the feature matches under the ECC warp, in RANSAC thresholds

_BAND = (1.0, 8.0)  # Gaussian sigmas (ECC-scale px) of the band-pass ECC works on

_INTERPOLATION = {
    "nearest": cv2.INTER_NEAREST,
    "linear": cv2.INTER_LINEAR,
    "cubic": cv2.INTER_CUBIC,
    "lanczos": cv2.INTER_LANCZOS4,
}


@dataclass(frozen=True)
class Alignment:
    """Result of aligning a photo to its reference.

    Attributes
    ----------
    ok : bool
        True when the warp can be trusted.
    reason : str or None
        Why the photo could not be aligned, in words for the technician; None when ok.
    matrix : np.ndarray or None
        2x3 float64 affine mapping a pixel (x, y) of the moving image to its
        position in the reference image; None when not ok. With a ``homography``,
        the affine that agrees with it at the centre of the moving image.
    residual_px : float or None
        RMS distance, in reference pixels, between the SIFT inlier matches in
        the reference and their moving keypoints mapped by ``matrix``
        (keypoint localisation noise included, so ~0.5-3 px on real photos).
    similarity : float or None
        ECC correlation coefficient, in [0, 1], of the band-passed images over
        the overlap after the warp: ~1 for the same scene, < 0.35 refused.
    inliers : int
        SIFT matches consistent with the coarse similarity (or with the homography).
    matches : int
        SIFT matches that passed the ratio test.
    scale : float or None
        Reference pixels per moving pixel (sqrt of the determinant).
    rotation_deg : float or None
        Rotation from moving to reference, degrees, counter-clockwise positive in image axes.
    overlap : float or None
        Share of the reference (inside its mask) that the warped photo covers, [0, 1].
    homography : np.ndarray or None
        3x3 moving -> reference when the camera turned between the photos (see
        :mod:`tracker.analysis.perspective`): warp with it rather than ``matrix``.
    """

    ok: bool
    reason: str | None
    matrix: np.ndarray | None
    residual_px: float | None
    similarity: float | None
    inliers: int
    matches: int = 0
    scale: float | None = None
    rotation_deg: float | None = None
    overlap: float | None = None
    homography: np.ndarray | None = None

    @property
    def warp(self) -> np.ndarray | None:
        """The moving -> reference warp to resample with: the homography, else the affine."""
        return self.homography if self.homography is not None else self.matrix


@dataclass(frozen=True, eq=False)
class PreparedReference:
    """Features of a reference photo, computed once and reused for every photo of the same view.

    Build it with :func:`prepare_reference`; the fields are an implementation detail.
    """

    shape: tuple[int, int]
    keypoints_xy: np.ndarray  # (n, 2) float32, reference pixel coordinates
    descriptors: np.ndarray  # (n, 128) float32
    ecc_to_full: np.ndarray  # 3x3, ECC-scale pixel -> reference pixel
    ecc_image: np.ndarray  # band-passed log luminance at the ECC scale
    ecc_mask: np.ndarray  # uint8 0/255 at the ECC scale
    sift_scale: float  # SIFT pixels per reference pixel
    lesion: _lesion.LesionView | None = None  # for lining close-ups up by the lesion


def detect_features(reference_srgb: np.ndarray) -> _keypoints.DetectedFeatures:
    """SIFT over the whole reduced image, before any mask (:func:`prepare_reference` applies it).

    Made as soon as the corrected image exists, while the skin is still being found.
    """
    return _keypoints.detect(_keypoints.grey(_check_image(reference_srgb, "reference_srgb")))


def prepare_reference(
    reference_srgb: np.ndarray, *, mask: np.ndarray | None = None, detected: _keypoints.DetectedFeatures | None = None
) -> PreparedReference:
    """Compute the reference's keypoints, descriptors and ECC image once.

    Parameters
    ----------
    reference_srgb : np.ndarray
        (h, w, 3) float sRGB in [0, 1], the baseline photo.
    mask : np.ndarray of bool, shape (h, w), optional, keyword-only
        Where to look for structure (the skin, without the colour chart).
    detected : DetectedFeatures, optional, keyword-only
        :func:`detect_features` of the same image, when made already.

    Returns
    -------
    PreparedReference
    """
    if detected is None:
        detected = detect_features(reference_srgb)
    levels = detected.levels
    mask = _check_mask(mask, detected.shape, "mask")
    kp, desc, sift_scale = _keypoints.inside(detected, mask)
    ecc_image, ecc_mask, ecc_to_full = _ecc_level(levels, mask)
    small_mask = _keypoints.resize_mask(mask, levels.ecc.shape)
    return PreparedReference(
        shape=detected.shape,
        keypoints_xy=kp,
        descriptors=desc,
        ecc_to_full=ecc_to_full,
        ecc_image=ecc_image,
        ecc_mask=ecc_mask,
        sift_scale=sift_scale,
        lesion=_lesion.lesion_view(levels.ecc, None if small_mask is None else small_mask > 0),
    )


def align(
    moving_srgb: np.ndarray | PreparedReference,
    reference: np.ndarray | PreparedReference,
    *,
    moving_mask: np.ndarray | None = None,
    reference_mask: np.ndarray | None = None,
) -> Alignment:
    """Find the affine warp that maps ``moving_srgb`` onto the reference, or refuse.

    Parameters
    ----------
    moving_srgb : np.ndarray or PreparedReference
        (h, w, 3) float sRGB in [0, 1], the photo to align, or its
        :func:`prepare_reference` (made with its mask, e.g. while the baseline
        is prepared on another thread).
    reference : np.ndarray or PreparedReference
        The baseline photo (same convention) or its :func:`prepare_reference`.
    moving_mask, reference_mask : np.ndarray of bool, optional, keyword-only
        Pixels to use (skin without the chart). ``reference_mask`` only with
        an array reference; a prepared reference carries its own mask.

    Returns
    -------
    Alignment
        ``ok=False`` with a reason when the photos cannot be matched reliably.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> tex = cv2.GaussianBlur(rng.random((300, 400)).astype(np.float32), (0, 0), 2)
    >>> img = np.repeat(((tex - tex.min()) / np.ptp(tex))[:, :, None], 3, axis=2)
    >>> shifted = np.ascontiguousarray(np.roll(img, (5, -7), axis=(0, 1)))
    >>> a = align(shifted, img)
    >>> a.ok, np.round(a.matrix[:, 2]).tolist()
    (True, [7.0, -5.0])
    """
    if isinstance(moving_srgb, PreparedReference):
        if moving_mask is not None:
            raise ValueError("moving_mask: pass it to prepare_reference, a prepared photo carries its own mask")
        mov = moving_srgb
    else:
        moving = _check_image(moving_srgb, "moving_srgb")
        mov = prepare_reference(moving, mask=_check_mask(moving_mask, moving.shape[:2], "moving_mask"))
    if isinstance(reference, PreparedReference):
        if reference_mask is not None:
            raise ValueError("reference_mask: pass it to prepare_reference, a prepared reference carries its own mask")
        ref = reference
    elif isinstance(reference, np.ndarray):
        ref = prepare_reference(reference, mask=reference_mask)
    else:
        raise TypeError(f"reference must be an image array or a PreparedReference; got {type(reference).__name__}")

    kp, desc = mov.keypoints_xy, mov.descriptors
    if len(kp) < MIN_INLIERS or len(ref.keypoints_xy) < MIN_INLIERS:
        return _refuse("not enough detail to match: is the skin in focus and filling the frame?", 0, 0)

    src, dst = _keypoints.ratio_matches(desc, ref.descriptors, kp, ref.keypoints_xy)
    n_matches = len(src)
    if n_matches < MIN_INLIERS:
        return _by_lesion(mov, ref, _refuse(_DIFFERENT, 0, n_matches))
    threshold = RANSAC_THRESHOLD_PX / ref.sift_scale
    # RANSAC draws from the thread's OpenCV generator: seeded here, the same pair gives the
    # same warp whatever ran on this thread before (stored figures must be reproducible).
    cv2.setRNGSeed(RANSAC_SEED)
    coarse, inlier_flags = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=threshold, maxIters=5000, confidence=0.999, refineIters=10
    )
    inliers = int(inlier_flags.sum()) if inlier_flags is not None else 0
    if coarse is None or inliers < MIN_INLIERS or inliers < MIN_INLIER_RATIO * n_matches:
        return _by_lesion(mov, ref, _refuse(_DIFFERENT, inliers, n_matches))
    bad = _implausible(coarse, mov.shape, ref.shape)
    if bad:
        return _refuse(bad, inliers, n_matches)
    turned = _turned_camera(mov, ref, src, dst, threshold, inliers, n_matches)
    if turned is not None:
        return turned

    fine, similarity = _refine_ecc(mov, ref, coarse)
    if fine is None:
        # ECC can fail across a large change of resolution; the feature warp stands if the
        # skin confirms it (its texture correlates best right there).
        confirmed = _confirmed(mov, ref, coarse)
        if confirmed is None:
            return _refuse("fine alignment did not converge: retake the photo from the baseline position",
                           inliers, n_matches)
        fine, similarity = coarse, confirmed
    mask_in = inlier_flags.ravel().astype(bool)
    predicted = src[mask_in] @ fine[:, :2].T + fine[:, 2]
    residual = float(np.sqrt(np.mean(np.sum((predicted - dst[mask_in]) ** 2, axis=1))))
    if residual > MAX_FINE_RESIDUAL * threshold:
        # ECC may refine the feature warp (e.g. to an affine), not contradict the matched features.
        return _refuse("fine alignment disagrees with the matched features: retake the photo", inliers, n_matches)
    bad = _implausible(fine, mov.shape, ref.shape)
    if bad:
        return _refuse(bad, inliers, n_matches)
    scale, rotation = _scale_rotation(fine)
    overlap = _overlap(fine, mov.shape, ref)
    if similarity < MIN_SIMILARITY:
        return _refuse(
            f"the photo does not match the baseline closely enough (similarity {similarity:.2f}): "
            "different area, pose or lighting? Retake it like the baseline",
            inliers, n_matches, similarity=similarity,
        )
    if overlap < MIN_OVERLAP:
        return _refuse(
            f"the photo covers only {100 * overlap:.0f} % of the baseline area: frame it like the baseline",
            inliers, n_matches, similarity=similarity,
        )
    return Alignment(
        ok=True,
        reason=None,
        matrix=fine,
        residual_px=residual,
        similarity=similarity,
        inliers=inliers,
        matches=n_matches,
        scale=scale,
        rotation_deg=rotation,
        overlap=overlap,
    )


def warp_to_reference(
    image: np.ndarray,
    matrix: np.ndarray,
    reference_shape: tuple[int, ...],
    *,
    interpolation: str = "linear",
) -> tuple[np.ndarray, np.ndarray]:
    """Resample a moving image (or mask) into the reference frame.

    Parameters
    ----------
    image : np.ndarray
        (h, w) or (h, w, c) array, float or integer; a bool mask is warped
        with nearest-neighbour interpolation and returned as bool.
    matrix : np.ndarray
        2x3 affine or 3x3 homography, :attr:`Alignment.warp` (moving pixel -> reference pixel).
    reference_shape : tuple
        (height, width[, ...]) of the reference.
    interpolation : {"nearest", "linear", "cubic", "lanczos"}, keyword-only

    Returns
    -------
    warped : np.ndarray
        Same dtype and channel count as ``image``, reference height x width;
        0 outside the moving image.
    valid : np.ndarray of bool
        True where every input sample of the interpolation lay inside the moving image.

    Examples
    --------
    >>> img = np.arange(12, dtype=np.float32).reshape(3, 4)
    >>> out, valid = warp_to_reference(img, np.array([[1.0, 0, 1], [0, 1, 0]]), (3, 4))
    >>> out[1].tolist(), valid[1].tolist()
    ([0.0, 4.0, 5.0, 6.0], [False, True, True, True])
    """
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or min(image.shape[:2]) < 1:
        raise ValueError(f"image must be an (h, w) or (h, w, c) array; got {getattr(image, 'shape', type(image))}")
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.shape not in ((2, 3), (3, 3)) or not np.isfinite(matrix).all():
        raise ValueError(f"matrix must be a finite 2x3 affine or 3x3 homography; got shape {matrix.shape}")
    if len(reference_shape) < 2 or int(reference_shape[0]) < 1 or int(reference_shape[1]) < 1:
        raise ValueError(f"reference_shape must be (height, width, ...); got {reference_shape!r}")
    if interpolation not in _INTERPOLATION:
        raise ValueError(f"interpolation must be one of {sorted(_INTERPOLATION)}; got {interpolation!r}")
    h, w = int(reference_shape[0]), int(reference_shape[1])
    flag = cv2.INTER_NEAREST if image.dtype == bool else _INTERPOLATION[interpolation]
    # Valid where the whole interpolation footprint was inside: interpolating a field of
    # ones with zeros outside gives exactly 1 there and less (or more) near the edge.
    support = _warp(np.ones(image.shape[:2], np.float32), matrix, (w, h), flag)
    valid = np.abs(support - 1.0) < 1e-3
    return warp_image(image, matrix, reference_shape, interpolation=interpolation), valid


def warp_image(
    image: np.ndarray, matrix: np.ndarray, reference_shape: tuple[int, ...], *, interpolation: str = "linear"
) -> np.ndarray:
    """:func:`warp_to_reference` without the validity mask: for more images of the same shape under
    the same warp, whose mask one call has given already (each mask is a warp of its own)."""
    h, w = int(reference_shape[0]), int(reference_shape[1])
    is_bool = image.dtype == bool
    flag = cv2.INTER_NEAREST if is_bool else _INTERPOLATION[interpolation]
    src = np.ascontiguousarray(image).view(np.uint8) if is_bool else image  # 0/1 bytes stay 0/1 (nearest)
    if src.ndim == 3 and src.shape[2] > 4:
        warped = np.stack([_warp(src[:, :, c], matrix, (w, h), flag) for c in range(src.shape[2])], axis=2)
    else:
        warped = _warp(src, matrix, (w, h), flag)
        if src.ndim == 3 and warped.ndim == 2:
            warped = warped[:, :, None]
    return warped.view(bool) if is_bool else warped


# --- internals ---------------------------------------------------------------------------------

_DIFFERENT = "could not match this photo to the baseline: different area or patient, or too different a pose?"


def _turned_camera(
    mov: PreparedReference, ref: PreparedReference, src: np.ndarray, dst: np.ndarray, threshold: float,
    affine_inliers: int, n_matches: int,
) -> Alignment | None:
    """The homography alignment when the camera turned between the photos, else None (the affine stands).

    Adopted only when it holds clearly more matches than the affine and passes every check
    the affine must pass (see :mod:`tracker.analysis.perspective`).
    """
    fit = _perspective.fit_homography(src, dst, threshold, affine_inliers, seed=RANSAC_SEED)
    if fit is None:
        return None
    coarse, held = fit
    h, similarity = _perspective.refine_homography(
        ref.ecc_image, mov.ecc_image, ref.ecc_mask, mov.ecc_mask, ref.ecc_to_full, mov.ecc_to_full, coarse
    )
    if h is None or similarity < MIN_SIMILARITY:
        return None
    residual = float(np.sqrt(np.mean(np.sum((_perspective.transfer(h, src[held]) - dst[held]) ** 2, axis=1))))
    mh, mw = mov.shape
    local = _perspective.local_affine(h, ((mw - 1) / 2.0, (mh - 1) / 2.0))
    if residual > MAX_FINE_RESIDUAL * threshold or _implausible(local, mov.shape, ref.shape) is not None:
        return None
    overlap = _overlap(h, mov.shape, ref)
    if overlap < MIN_OVERLAP:
        return None
    scale, rotation = _scale_rotation(local)
    return Alignment(ok=True, reason=None, matrix=local, residual_px=residual, similarity=similarity,
                     inliers=int(held.sum()), matches=n_matches, scale=scale, rotation_deg=rotation,
                     overlap=overlap, homography=h)


def _confirmed(mov: PreparedReference, ref: PreparedReference, m: np.ndarray) -> float | None:
    """The band-pass correlation under ``m`` when the skin confirms the warp (see lesion_align.confirm)."""
    if ref.lesion is None or mov.lesion is None:
        return None
    view = mov.lesion
    to_small = np.diag([view.factor, view.factor, 1.0]) @ np.linalg.inv(mov.ecc_to_full)
    ref_small = np.diag([ref.lesion.factor, ref.lesion.factor, 1.0]) @ np.linalg.inv(ref.ecc_to_full)
    m_small = (ref_small @ _as3(m) @ np.linalg.inv(to_small))[:2].astype(np.float32)
    own, rival = _lesion.confirm(_lesion.band(view.log_grey), _lesion.band(ref.lesion.log_grey), m_small,
                                 ref.lesion.usable)
    if not np.isfinite(own) or own < _lesion.MIN_TEXTURE_NCC or own < rival - _lesion.CONFIRM_MARGIN:
        return None
    return own


def _by_lesion(mov: PreparedReference, ref: PreparedReference, refusal: Alignment) -> Alignment:
    """Line the photos up by the lesion when skin features did not match; else keep ``refusal``."""
    if ref.lesion is None or mov.lesion is None:
        return refusal
    found = _lesion.align_by_lesion(mov.lesion, ref.lesion)
    if not found.ok or found.matrix is None:
        return refusal
    # Lesion matrices map ECC-level pixels; bring them to the callers' pixels.
    moving_shape = mov.shape
    fine = (ref.ecc_to_full @ _as3(found.matrix) @ np.linalg.inv(mov.ecc_to_full))[:2]
    if _implausible(fine, moving_shape, ref.shape) is not None:
        return refusal
    scale, rotation = _scale_rotation(fine)
    overlap = _overlap(fine, moving_shape, ref)
    if overlap < MIN_OVERLAP:
        return refusal
    return Alignment(ok=True, reason=None, matrix=fine, residual_px=None, similarity=found.texture_ncc,
                     inliers=refusal.inliers, matches=refusal.matches, scale=scale, rotation_deg=rotation,
                     overlap=overlap)


def _refuse(reason: str, inliers: int, matches: int, *, similarity: float | None = None) -> Alignment:
    return Alignment(ok=False, reason=reason, matrix=None, residual_px=None, similarity=similarity,
                     inliers=inliers, matches=matches)


def _check_image(srgb: object, name: str) -> np.ndarray:
    if not isinstance(srgb, np.ndarray):
        raise TypeError(f"{name} must be a numpy array; got {type(srgb).__name__}")
    if srgb.ndim != 3 or srgb.shape[2] != 3 or min(srgb.shape[:2]) < 32:
        raise ValueError(f"{name} must have shape (h, w, 3) with h, w >= 32; got {srgb.shape}")
    if not np.issubdtype(srgb.dtype, np.floating):
        raise TypeError(f"{name} must be float sRGB in [0, 1]; got dtype {srgb.dtype}")
    return srgb


def _check_mask(mask: object, shape: tuple[int, int], name: str) -> np.ndarray | None:
    if mask is None:
        return None
    if not isinstance(mask, np.ndarray) or mask.shape != shape:
        raise ValueError(f"{name} must be a bool array of shape {shape}; got {getattr(mask, 'shape', type(mask))}")
    if mask.dtype != bool:
        raise TypeError(f"{name} must be a bool array; got dtype {mask.dtype}")
    return mask  # an (almost) empty mask is an expected failure: it ends as "not enough detail"


def _bandpass(grey_small: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Band-passed log luminance: exposure and colour-cast changes become a removed constant.

    With a mask, both blurs are normalised convolutions over the valid pixels only,
    so a masked-out chart (black frame, saturated patches) does not bleed its
    edges into the skin around it; masked-out pixels come out as 0.
    """
    log = np.log(grey_small + np.float32(1.0 / 255.0))
    if valid is None:
        return (cv2.GaussianBlur(log, (0, 0), _BAND[0]) - cv2.GaussianBlur(log, (0, 0), _BAND[1])).astype(np.float32)
    w = valid.astype(np.float32)
    logw = log * w
    out = np.zeros_like(log)
    fine = cv2.GaussianBlur(logw, (0, 0), _BAND[0]) / np.maximum(cv2.GaussianBlur(w, (0, 0), _BAND[0]), 1e-3)
    coarse = cv2.GaussianBlur(logw, (0, 0), _BAND[1]) / np.maximum(cv2.GaussianBlur(w, (0, 0), _BAND[1]), 1e-3)
    np.subtract(fine, coarse, out=out, where=valid)
    return out.astype(np.float32)


def _ecc_level(levels: _keypoints.Levels, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    small, to_full = levels.ecc, levels.ecc_to_full
    m = _keypoints.resize_mask(mask, small.shape)
    image = _bandpass(small, None if m is None else m > 0)
    if m is None:
        m = np.full(small.shape, 255, np.uint8)
    else:
        m = cv2.erode(m, np.ones((5, 5), np.uint8))  # ECC's own smoothing spreads across the edge
    # Keep away from the frame border where the band-pass sees replicated pixels.
    border = np.zeros_like(m)
    border[8:-8, 8:-8] = 255
    return image, cv2.bitwise_and(m, border), to_full


def _refine_ecc(mov: PreparedReference, ref: PreparedReference, coarse: np.ndarray) -> tuple[np.ndarray | None, float]:
    mov_img, mov_mask, mov_to_full = mov.ecc_image, mov.ecc_mask, mov.ecc_to_full
    ref_to_full = ref.ecc_to_full
    # Coarse warp at the ECC scales: moving-small -> reference-small.
    m_small = np.linalg.inv(ref_to_full) @ _as3(coarse) @ mov_to_full
    warp: np.ndarray = np.linalg.inv(m_small)[:2].astype(np.float32)  # ECC wants reference -> moving
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-6)
    try:
        rho, warp = cv2.findTransformECCWithMask(
            ref.ecc_image, mov_img, ref.ecc_mask, mov_mask, warp, cv2.MOTION_AFFINE, criteria, 3
        )
    except cv2.error:
        return None, 0.0
    if not np.isfinite(warp).all() or not np.isfinite(rho):
        return None, 0.0
    fine_small = np.linalg.inv(_as3(warp.astype(np.float64)))
    fine = (ref_to_full @ fine_small @ np.linalg.inv(mov_to_full))[:2]
    return fine, float(np.clip(rho, 0.0, 1.0))


def _as3(m: np.ndarray) -> np.ndarray:
    return np.vstack([np.asarray(m, dtype=np.float64), [0.0, 0.0, 1.0]])


def _scale_rotation(m: np.ndarray) -> tuple[float, float]:
    a = m[:, :2]
    scale = float(np.sqrt(abs(np.linalg.det(a))))
    rotation = float(np.degrees(np.arctan2(a[1, 0] - a[0, 1], a[0, 0] + a[1, 1])))
    return scale, rotation


def _implausible(m: np.ndarray, moving_shape: tuple[int, ...], reference_shape: tuple[int, ...]) -> str | None:
    a = m[:, :2]
    if np.linalg.det(a) <= 0:
        return "the match is mirrored: different photo or area?"
    # The zoom between the two views: the pixel scale corrected for the photos' pixel counts
    # (a 300 px copy of a 1300 px photo is the same view at 4.3x fewer pixels).
    scale = _scale_rotation(m)[0] * max(moving_shape[:2]) / max(reference_shape[:2])
    if not SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
        return f"the photo is at {scale:.2f}x the baseline's zoom: take it from the baseline distance"
    s = np.linalg.svd(a, compute_uv=False)
    if s[0] / s[1] > MAX_ANISOTROPY:
        return "the photo is taken from a different angle (strong perspective or shear): retake it square to the skin"
    return None


def _overlap(m: np.ndarray, moving_shape: tuple[int, int], ref: PreparedReference) -> float:
    """Share of the reference mask (at the ECC scale) covered by the warped moving frame (``m``: 2x3 or 3x3)."""
    mh, mw = moving_shape
    corners = np.array([[0, 0], [mw - 1, 0], [mw - 1, mh - 1], [0, mh - 1]], np.float64)
    to_small = np.linalg.inv(ref.ecc_to_full) @ (m if m.shape == (3, 3) else _as3(m))
    poly = _perspective.transfer(to_small, corners)
    frame = np.zeros(ref.ecc_mask.shape, np.uint8)
    cv2.fillConvexPoly(frame, np.round(poly * 16).astype(np.int32), 1, lineType=cv2.LINE_8, shift=4)
    mask = ref.ecc_mask > 0
    return float(int(np.count_nonzero(frame.astype(bool) & mask)) / max(1, int(np.count_nonzero(mask))))


def _warp(image: np.ndarray, matrix: np.ndarray, size_wh: tuple[int, int], flag: int) -> np.ndarray:
    m = np.asarray(matrix, np.float64)
    if m.shape == (3, 3):
        return cv2.warpPerspective(image, m, size_wh, flags=flag, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return cv2.warpAffine(image, m, size_wh, flags=flag, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
