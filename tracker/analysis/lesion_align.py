"""Align two close-ups of one lesion by the lesion itself, when skin features do not match.

Under another light, white balance, zoom or focus the skin's fine features
(pores, hairs) often give SIFT nothing consistent, yet a person lines the two
photos up at a glance by the lesion's shape. This does the same:

1. Find the lesion in each photo: the largest compact patch darker than its
   surroundings (log-luminance below a wide median background, Otsu), favouring
   the centre of the frame. The log and the local background make it light-invariant.
2. Put one lesion on the other with a similarity from their moments (centre,
   area, orientation; both orientations, or a sweep for a round lesion).
3. Refine with ECC (affine) on the lesion-contrast images.
4. Confirm: the warp must be the best place for the skin's band-passed texture
   (:func:`confirm`): its correlation is not beaten by more than 0.05 by the same
   warp shifted 8 px or turned 4°, nor by no warp at all, and is high enough
   (different patients' close-ups score at most 0.11 here). The lesion outlines
   must overlap too.

Coordinates are working pixels of the images passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from skimage.filters import threshold_otsu

from tracker.analysis.holes import fill_holes

__all__ = ["LesionAlignment", "LesionView", "align_by_lesion", "band", "confirm", "lesion_view"]

_WORK_SIDE = 400  # px: the lesion and its outline are large; texture at this scale suffices
_BAND = (1.5, 8.0)  # band-pass sigmas at the work scale (skin texture, lesion rim)
#: ECC correlation of the lesion-contrast images below which the shapes do not match.
MIN_SHAPE_ECC = 0.88
#: Band-passed skin correlation below which the skin is not the same (different patients: <= 0.11).
MIN_TEXTURE_NCC = 0.17
#: Overlap (intersection over union) of the two lesion outlines after the warp.
MIN_LESION_IOU = 0.6
#: The confirmation margin, shift and turn of the issue's rule.
CONFIRM_MARGIN = 0.05
CONFIRM_SHIFT_PX = 8.0
CONFIRM_TURN_DEG = 4.0


@dataclass(frozen=True)
class LesionAlignment:
    """A lesion-based warp (moving -> reference, 2x3, full working pixels) and why it holds or not."""

    ok: bool
    reason: str | None
    matrix: np.ndarray | None
    shape_ecc: float
    texture_ncc: float
    lesion_iou: float


@dataclass(frozen=True, eq=False)
class LesionView:
    """A photo reduced for lesion alignment: log-grey at about 400 px, and its scale."""

    log_grey: np.ndarray
    factor: float  # small px per caller px
    usable: np.ndarray  # bool: skin to use (the colour chart and the background left out)


def lesion_view(grey: np.ndarray, mask: np.ndarray | None = None) -> LesionView:
    """Reduce a grey (h, w) float image in [0, 1] for :func:`align_by_lesion` (done once per baseline).

    ``mask`` (bool, same size) is where to look: a chart is a perfect dark blob with perfect texture.
    """
    h, w = grey.shape[:2]
    f = min(1.0, _WORK_SIDE / max(h, w))
    size = (max(8, round(w * f)), max(8, round(h * f)))
    if f < 1.0:
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    usable = np.ones(grey.shape[:2], bool)
    if mask is not None:
        usable = cv2.resize(mask.astype(np.uint8), (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_AREA) > 0
        usable = cv2.erode(usable.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0  # off the mask's edge
    return LesionView(np.log(np.asarray(grey, np.float32) + np.float32(1.0 / 255.0)), f, usable)


def _contrast(log_grey: np.ndarray) -> np.ndarray:
    """How much darker than its wide surroundings each pixel is (ln units)."""
    smooth = cv2.GaussianBlur(log_grey, (0, 0), 2.0)
    lo, span = float(smooth.min()), float(np.ptp(smooth)) or 1.0
    tiny = cv2.resize(smooth, (100, 100), interpolation=cv2.INTER_AREA)
    u8 = np.clip((tiny - lo) / span * 255.0, 0, 255).astype(np.uint8)
    background = cv2.medianBlur(u8, 61).astype(np.float32) / 255.0 * span + lo
    background = cv2.resize(cv2.GaussianBlur(background, (0, 0), 4.0), (smooth.shape[1], smooth.shape[0]))
    return (background - smooth).astype(np.float32)


def _lesion(contrast: np.ndarray) -> np.ndarray | None:
    try:
        level = threshold_otsu(contrast)
    except ValueError:
        return None
    mask = cv2.morphologyEx((contrast > level).astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    count, labels, stats, centres = cv2.connectedComponentsWithStats(mask)
    if count < 2:
        return None
    h, w = mask.shape
    off = np.hypot(centres[1:, 0] - w / 2, centres[1:, 1] - h / 2) / max(h, w)
    score = stats[1:, cv2.CC_STAT_AREA] * np.exp(-((off / 0.3) ** 2))
    best = 1 + int(np.argmax(score))
    if stats[best, cv2.CC_STAT_AREA] < 0.002 * mask.size:
        return None
    return fill_holes(labels == best)


def _moments(mask: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    ys, xs = np.nonzero(mask)
    centre = np.array([xs.mean(), ys.mean()])
    values, vectors = np.linalg.eigh(np.cov(np.stack([xs - centre[0], ys - centre[1]])))
    angle = float(np.arctan2(vectors[1, 1], vectors[0, 1]))
    return centre, float(mask.sum()), angle, float(values[0] / max(values[1], 1e-9))


def band(log_grey: np.ndarray) -> np.ndarray:
    return (cv2.GaussianBlur(log_grey, (0, 0), _BAND[0]) - cv2.GaussianBlur(log_grey, (0, 0), _BAND[1])).astype(np.float32)


def _warp(image: np.ndarray, m: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return cv2.warpAffine(image, m, (shape[1], shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def _ncc(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    if int(np.count_nonzero(mask)) < 100:
        return float("nan")
    x, y = a[mask].astype(np.float64), b[mask].astype(np.float64)
    x -= x.mean()
    y -= y.mean()
    return float((x * y).sum() / max(np.sqrt((x * x).sum() * (y * y).sum()), 1e-12))


def confirm(
    moving_band: np.ndarray, reference_band: np.ndarray, m: np.ndarray, usable: np.ndarray | None = None
) -> tuple[float, float]:
    """Band-pass correlation under the warp ``m``, and the best of its rivals.

    Rivals: the same warp shifted 8 px in each direction, turned 4° either way about
    the frame centre, and no warp (the photo stretched onto the baseline's frame).
    A confirmed warp's correlation is not beaten by more than 0.05. ``usable`` limits
    the comparison to the baseline's skin.
    """
    shape = reference_band.shape
    h, w = shape
    valid = _warp(np.ones(moving_band.shape, np.float32), m, shape) > 0.999
    if usable is not None:
        valid &= usable
    edge = int(CONFIRM_SHIFT_PX) + 2
    valid[:edge], valid[-edge:], valid[:, :edge], valid[:, -edge:] = False, False, False, False
    own = _ncc(_warp(moving_band, m, shape), reference_band, valid)
    rivals = []
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        shifted = m.copy()
        shifted[:, 2] += (dx * CONFIRM_SHIFT_PX, dy * CONFIRM_SHIFT_PX)
        rivals.append(_ncc(_warp(moving_band, shifted, shape), reference_band, valid))
    for turn in (-CONFIRM_TURN_DEG, CONFIRM_TURN_DEG):
        r = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), turn, 1.0), [0, 0, 1]])
        rivals.append(_ncc(_warp(moving_band, (r @ np.vstack([m, [0, 0, 1]]))[:2], shape), reference_band, valid))
    stretch = np.array([[w / moving_band.shape[1], 0, 0], [0, h / moving_band.shape[0], 0]])
    rivals.append(_ncc(_warp(moving_band, stretch, shape), reference_band,
                       usable if usable is not None else np.ones(shape, bool)))
    finite = [r for r in rivals if np.isfinite(r)]
    return own, max(finite) if finite else float("nan")


def _candidates(m_mov: tuple, m_ref: tuple) -> list[np.ndarray]:
    (cm, am, tm, em), (cr, ar, tr, er) = m_mov, m_ref
    scale = float(np.sqrt(ar / am))
    round_shape = min(em, er) > 0.6  # nearly round: the orientation says nothing
    angles = np.radians(np.arange(0, 360, 20)) if round_shape else [tr - tm, tr - tm + np.pi]
    out = []
    for a in angles:
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * scale
        out.append(np.hstack([rot, (cr - rot @ cm)[:, None]]).astype(np.float32))
    return out


def _best_ecc(source: np.ndarray, target: np.ndarray, starts: list[np.ndarray]) -> tuple[float, np.ndarray] | None:
    """ECC from every start at half size (cheap), then the best one refined at full size."""
    half = (max(8, target.shape[1] // 2), max(8, target.shape[0] // 2))
    s_half = cv2.resize(source, (max(8, source.shape[1] // 2), max(8, source.shape[0] // 2)), interpolation=cv2.INTER_AREA)
    t_half = cv2.resize(target, half, interpolation=cv2.INTER_AREA)
    to_half = np.diag([0.5, 0.5, 1.0])
    best: tuple[float, np.ndarray] | None = None
    for criteria, src, tgt, starts_here in (
        ((cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 40, 1e-4), s_half, t_half,
         [(to_half @ np.vstack([m, [0, 0, 1]]) @ np.linalg.inv(to_half))[:2] for m in starts]),
    ):
        for start in starts_here:
            try:
                rho, inverse = cv2.findTransformECC(  # type: ignore[call-overload]  # stubs omit a None mask
                    tgt, src, cv2.invertAffineTransform(start).astype(np.float32), cv2.MOTION_AFFINE, criteria, None, 3
                )
            except cv2.error:
                continue
            if np.isfinite(rho) and (best is None or rho > best[0]):
                best = (float(rho), cv2.invertAffineTransform(inverse))
    if best is None:
        return None
    start = (np.linalg.inv(to_half) @ np.vstack([best[1], [0, 0, 1]]) @ to_half)[:2]
    try:
        rho, inverse = cv2.findTransformECC(  # type: ignore[call-overload]  # stubs omit a None mask
            target, source, cv2.invertAffineTransform(start).astype(np.float32), cv2.MOTION_AFFINE,
            (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-5), None, 5,
        )
    except cv2.error:
        return None
    return (float(rho), cv2.invertAffineTransform(inverse)) if np.isfinite(rho) else None


def _nearest_similarity(affine: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Rotation and uniform scale nearest to the affine's, mapping ``anchor`` where the affine does."""
    a = np.asarray(affine, np.float64)
    u, _, vt = np.linalg.svd(a[:, :2])
    rotation = u @ vt
    scale = float(np.sqrt(abs(np.linalg.det(a[:, :2]))))
    linear = scale * rotation
    target = a[:, :2] @ anchor + a[:, 2]
    return np.hstack([linear, (target - linear @ anchor)[:, None]]).astype(np.float32)


def align_by_lesion(moving: LesionView, reference: LesionView) -> LesionAlignment:
    """Align ``moving`` onto ``reference`` by their lesions (see the module notes)."""
    lm, fm = moving.log_grey, moving.factor
    lr, fr = reference.log_grey, reference.factor
    cm_, cr_ = _contrast(lm), _contrast(lr)
    # No lesion outside the skin to use (the chart, the background).
    cm_[~moving.usable] = min(0.0, float(cm_.min()))
    cr_[~reference.usable] = min(0.0, float(cr_.min()))
    mask_m, mask_r = _lesion(cm_), _lesion(cr_)
    if mask_m is None or mask_r is None:
        return LesionAlignment(False, "no lesion stands out in both photos to line them up by", None, 0.0, 0.0, 0.0)
    target = cv2.GaussianBlur(cr_, (0, 0), 2.0)
    source = cv2.GaussianBlur(cm_, (0, 0), 2.0)
    moments_m = _moments(mask_m)
    found = _best_ecc(source, target, _candidates(moments_m, _moments(mask_r)))
    if found is None:
        return LesionAlignment(False, "the lesions could not be put on one another", None, 0.0, 0.0, 0.0)
    rho, affine = found
    # Outlines differ with the light, so ECC's affine picks up a little shear; the skin
    # does not shear between two photos, so keep the nearest similarity about the lesion.
    m_small = _nearest_similarity(affine, moments_m[0])
    warped = _warp(mask_m.astype(np.float32), m_small, mask_r.shape) > 0.5
    iou = float((warped & mask_r).sum() / max(1, (warped | mask_r).sum()))
    own, rival = confirm(band(lm), band(lr), m_small, reference.usable)
    # Back to the callers' pixels: moving px -> small -> reference small -> reference px.
    to_small_m = np.diag([fm, fm, 1.0])
    from_small_r = np.diag([1.0 / fr, 1.0 / fr, 1.0])
    matrix = (from_small_r @ np.vstack([m_small, [0, 0, 1]]) @ to_small_m)[:2]
    if rho < MIN_SHAPE_ECC or iou < MIN_LESION_IOU:
        return LesionAlignment(False, "the lesion's outline does not match the baseline's", None, rho, own, iou)
    if not np.isfinite(own) or own < MIN_TEXTURE_NCC or own < rival - CONFIRM_MARGIN:
        return LesionAlignment(False, "the skin around the lesion does not match the baseline's", None, rho, own, iou)
    return LesionAlignment(True, None, matrix, rho, own, iou)
