"""Align a face photo to its baseline: landmarks first, then dense refinement in the regions.

1. *Landmarks*: a RANSAC homography from the photo's 468 landmarks to the
   baseline's. It tolerates a few degrees of head turn and a change of
   expression (moving mouth or eye points fall out as outliers).
2. *Identity*: landmarks line up any two faces, so the skin decides. After the
   landmark warp the band-passed log-luminance of the two photos must correlate
   inside the rigid regions (forehead, cheeks, nose): freckles, pores, moles and
   fine lines are a person's own, and a change of light is a constant that the
   log and the band-pass remove. No face embedding is computed or kept.
3. *Dense refinement*: DIS optical flow (fast preset) between the two band-passed
   images corrects what a plane cannot (the nose and cheeks stand out of it),
   used inside the regions only and faded to the refitted homography outside.

Expression is compared from the landmarks after the warp: when the mouth or the
eyes moved relative to the rest of the face, perioral or periorbital texture is
marked not comparable.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tracker.analysis.boxes import region_box
from tracker.analysis.face import Face
from tracker.analysis.face.pose import FRONT_MAX_YAW_DEG

__all__ = ["FaceAlignment", "align_faces", "band_pass", "expression_figures"]

#: Images are reduced so the baseline face's eye span is about this many pixels for the
#: identity check and the flow: pores and freckles are still resolved, and DIS is fast.
WORK_EYE_SPAN_PX = 240.0
#: Band of the identity and flow images, as shares of the eye span (Gaussian sigmas).
BAND = (0.006, 0.03)
#: Below this band-pass correlation in the rigid regions the skin is another person's.
MIN_IDENTITY_NCC = 0.4
#: Largest difference of head turn (yaw) between photo and baseline accepted.
MAX_YAW_DIFFERENCE_DEG = FRONT_MAX_YAW_DEG
#: Dense refinement passes (each: DIS flow, then the homography refitted to it).
REFINE_PASSES = 2
#: Room kept around the regions for the band-pass and the flow's fade, as a share of the eye
#: span: beyond three sigmas of the coarse band (0.03) and of the fade (0.04).
FLOW_MARGIN_SHARE = 0.15
#: RANSAC tolerance for the landmark homography, as a share of the eye span.
RANSAC_SHARE = 0.03
#: Changes of :func:`expression_figures` (shares of the eye span) beyond which the expression differs.
#: Pose, scale, light and JPEG alone moved them by at most 0.021 (mouth width), 0.014 (mouth
#: opening), 0.008 (corner lift), 0.007 (eye opening) and 0.010 (brow) on the shared portraits.
EXPRESSION_LIMITS = {
    "mouth_width": 0.04,
    "mouth_opening": 0.04,
    "corner_lift": 0.015,
    "eye_opening": 0.02,
    "brow_height": 0.03,
}

_RIGID_REGIONS = ("forehead", "cheek_left", "cheek_right", "nose")


@dataclass(frozen=True)
class FaceAlignment:
    """Result of aligning a face photo to its baseline (working-scale pixels of each).

    Attributes
    ----------
    ok : bool
    reason : str or None
        Why refused, naming it (another person, another view, no face).
    homography : np.ndarray or None
        3x3 photo px -> baseline px, refitted after the dense refinement.
    map_xy : np.ndarray or None
        (h, w, 2) float32 on the baseline grid: for every baseline pixel, the photo
        pixel to sample (``cv2.remap``). Dense inside the regions, the homography outside.
    identity_ncc : float or None
        Band-pass correlation of the skin in the rigid regions after the landmark warp.
    landmark_residual_px : float or None
        RMS of the landmark inliers under the homography, baseline px.
    not_comparable : dict of str to str
        Region keys whose texture cannot be compared, with the reason.
    """

    ok: bool
    reason: str | None
    homography: np.ndarray | None = None
    map_xy: np.ndarray | None = None
    identity_ncc: float | None = None
    landmark_residual_px: float | None = None
    not_comparable: dict[str, str] | None = None

    def affine(self) -> np.ndarray | None:
        """The best 2x3 affine approximation of the homography over the baseline's face."""
        return None if self.homography is None else _affine_of(self.homography)


def _affine_of(h: np.ndarray) -> np.ndarray:
    h = np.asarray(h, dtype=np.float64)
    return (h / h[2, 2])[:2].copy()


def band_pass(srgb: np.ndarray, *, eye_span_px: float) -> np.ndarray:
    """Band-passed log-luminance: skin detail at the scale of freckles and pores.

    Light that changes smoothly (exposure, a gradient, a colour cast on luminance)
    is an additive term in the log and is removed by the band-pass.
    """
    y = cv2.cvtColor(np.ascontiguousarray(srgb, dtype=np.float32), cv2.COLOR_RGB2GRAY)
    log = np.log(np.maximum(y, 1.0 / 255.0))
    fine = cv2.GaussianBlur(log, (0, 0), max(0.5, BAND[0] * eye_span_px))
    coarse = cv2.GaussianBlur(log, (0, 0), BAND[1] * eye_span_px)
    return (fine - coarse).astype(np.float32)


def _eye_span(face: Face) -> float:
    assert face.landmarks is not None
    p = face.landmarks.xy
    return float(np.linalg.norm(p[263] - p[33]))


def _scaled(face_srgb: np.ndarray, factor: float) -> np.ndarray:
    if factor >= 1.0:
        return np.ascontiguousarray(face_srgb, dtype=np.float32)
    h, w = face_srgb.shape[:2]
    return cv2.resize(face_srgb, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)


def _ncc(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    if int(np.count_nonzero(mask)) < 100:
        return float("nan")
    x, y = a[mask].astype(np.float64), b[mask].astype(np.float64)
    x -= x.mean()
    y -= y.mean()
    return float((x * y).sum() / max(np.sqrt((x * x).sum() * (y * y).sum()), 1e-12))


def _to_uint8(band: np.ndarray, mask: np.ndarray) -> np.ndarray:
    spread = float(np.std(band[mask])) if mask.any() else float(np.std(band))
    return np.clip(128.0 + band * (40.0 / max(spread, 1e-6)), 0, 255).astype(np.uint8)


def expression_figures(face: Face) -> dict[str, float]:
    """Shape of the mouth and eyes as shares of the eye span (independent of scale and turn).

    ``eye_opening``: lid to lid; ``brow_height``: brow to upper lid; ``mouth_width``:
    corner to corner; ``mouth_opening``: lip to lip; ``corner_lift``: how far the mouth
    corners sit above the lips' centre (a smile).
    """
    assert face.landmarks is not None
    p = face.landmarks.xy.astype(np.float64)
    span = max(float(np.linalg.norm(p[263] - p[33])), 1e-6)
    # The face's own vertical: perpendicular to the line through the outer eye corners.
    across = (p[263] - p[33]) / span
    down = np.array([-across[1], across[0]])

    def dist(a: int, b: int) -> float:
        return float(np.linalg.norm(p[a] - p[b])) / span

    return {
        "eye_opening": (dist(159, 145) + dist(386, 374)) / 2,
        "brow_height": (dist(105, 159) + dist(334, 386)) / 2,
        "mouth_width": dist(61, 291),
        "mouth_opening": dist(13, 14),
        "corner_lift": float(np.dot((p[13] + p[14]) / 2 - (p[61] + p[291]) / 2, down)) / span,
    }


def _expression_changes(photo: Face, base: Face) -> dict[str, str]:
    """Regions whose texture is not comparable because the expression changed."""
    a, b = expression_figures(photo), expression_figures(base)
    note = "not comparable: expression differs"
    out = {}
    if any(abs(a[k] - b[k]) > EXPRESSION_LIMITS[k] for k in ("mouth_width", "mouth_opening", "corner_lift")):
        out["perioral"] = note
    if any(abs(a[k] - b[k]) > EXPRESSION_LIMITS[k] for k in ("eye_opening", "brow_height")):
        out["periorbital_left"] = note
        out["periorbital_right"] = note
    return out


def _view_name(view: str | None) -> str:
    return (view or "unknown view").replace("_", " ")


def align_faces(photo_srgb: np.ndarray, photo: Face, base_srgb: np.ndarray, base: Face) -> FaceAlignment:
    """Align a face photo to its baseline, or refuse with a reason that names the problem.

    Parameters
    ----------
    photo_srgb, base_srgb : np.ndarray
        (h, w, 3) float32 sRGB in [0, 1], at the working scale the faces were found at.
    photo, base : Face
        From :func:`tracker.analysis.face.find_face` on those images (with regions).

    Returns
    -------
    FaceAlignment
    """
    for label, face in (("this photo", photo), ("the baseline", base)):
        if not face.found or face.landmarks is None or face.pose is None:
            return FaceAlignment(False, f"no face found in {label}")
        if not face.reliable or face.regions is None:
            return FaceAlignment(False, f"the face in {label} is turned too far for landmarks: {face.reason}")
    assert photo.pose is not None and base.pose is not None and base.regions is not None
    assert photo.landmarks is not None and base.landmarks is not None and photo.regions is not None
    turn = abs(photo.pose.yaw_deg - base.pose.yaw_deg)
    if turn > MAX_YAW_DIFFERENCE_DEG:
        return FaceAlignment(
            False,
            f"different view: this photo is a {_view_name(photo.view)} (head turned {photo.pose.yaw_deg:+.0f}°),"
            f" the baseline a {_view_name(base.view)} ({base.pose.yaw_deg:+.0f}°)",
        )

    span = _eye_span(base)
    src = photo.landmarks.xy.astype(np.float64)
    dst = base.landmarks.xy.astype(np.float64)
    h0, inliers = cv2.findHomography(src, dst, cv2.RANSAC, RANSAC_SHARE * span, maxIters=2000, confidence=0.999)
    if h0 is None or inliers is None or int(inliers.sum()) < 100:
        return FaceAlignment(False, "the landmarks of the two faces do not fit one warp")
    keep = inliers.ravel().astype(bool)
    moved = cv2.perspectiveTransform(src[keep].reshape(-1, 1, 2), h0).reshape(-1, 2)
    residual = float(np.sqrt(np.mean(np.sum((moved - dst[keep]) ** 2, axis=1))))

    # Work on reduced copies: the baseline's eye span becomes WORK_EYE_SPAN_PX.
    k = min(1.0, WORK_EYE_SPAN_PX / span)
    kp = min(1.0, WORK_EYE_SPAN_PX / _eye_span(photo))
    base_small = _scaled(base_srgb, k)
    photo_small = _scaled(photo_srgb, kp)
    to_small = np.diag([k, k, 1.0])
    h0_small = to_small @ h0 @ np.linalg.inv(np.diag([kp, kp, 1.0]))
    sh, sw = base_small.shape[:2]
    valid = cv2.warpPerspective(np.ones(photo_small.shape[:2], np.uint8), h0_small, (sw, sh), flags=cv2.INTER_NEAREST) > 0

    def small_mask(masks: dict[str, np.ndarray], keys: tuple[str, ...], h: np.ndarray | None = None) -> np.ndarray:
        union = np.zeros(next(iter(masks.values())).shape, np.uint8)
        for key in keys:
            union |= masks[key].astype(np.uint8)
        if h is None:
            return cv2.resize(union, (sw, sh), interpolation=cv2.INTER_NEAREST) > 0
        return cv2.warpPerspective(union, h, (sw, sh), flags=cv2.INTER_NEAREST) > 0

    # Everything below is worked in the box of the baseline's regions (with room for the
    # filters): the rest of the frame takes the homography alone.
    span_small = span * k
    all_regions = small_mask(base.regions.masks, tuple(base.regions.masks)) & valid
    box = region_box(all_regions, margin_px=FLOW_MARGIN_SHARE * span_small)
    to_box = np.array([[1.0, 0.0, -box[1].start], [0.0, 1.0, -box[0].start], [0.0, 0.0, 1.0]])
    bh, bw = box[0].stop - box[0].start, box[1].stop - box[1].start
    warped = cv2.warpPerspective(photo_small, to_box @ h0_small, (bw, bh), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
    rigid = (
        small_mask(base.regions.masks, _RIGID_REGIONS)
        & small_mask(photo.regions.masks, _RIGID_REGIONS, to_small @ h0)
        & valid
    )[box]
    band_base = band_pass(base_small[box], eye_span_px=span_small)
    band_photo = band_pass(warped, eye_span_px=span_small)
    ncc = _ncc(band_base, band_photo, rigid)
    if not np.isfinite(ncc) or ncc < MIN_IDENTITY_NCC:
        shown = "too little skin in common" if not np.isfinite(ncc) else f"skin correlation {ncc:.2f} < {MIN_IDENTITY_NCC}"
        return FaceAlignment(
            False,
            f"different person: the skin does not match the baseline's ({shown}); is this the right patient?",
            identity_ncc=None if not np.isfinite(ncc) else ncc,
            landmark_residual_px=residual,
        )

    # Dense refinement inside the regions (DIS, fast preset) on the band-passed images,
    # twice: the second pass starts from the homography refitted to the first.
    regions = all_regions[box]
    weight = cv2.GaussianBlur(regions.astype(np.float32), (0, 0), 0.04 * span_small)
    base_u8 = _to_uint8(band_base, regions)
    dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    h_box = to_box @ h0_small  # photo (small) -> the box of the baseline (small)
    for _ in range(REFINE_PASSES):
        h_flow = h_box  # the flow below is relative to this warp
        moved = cv2.warpPerspective(photo_small, h_flow, (bw, bh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        moved_u8 = _to_uint8(band_pass(moved, eye_span_px=span_small), regions)
        flow = np.asarray(dis.calc(base_u8, moved_u8, None))  # type: ignore[call-overload]  # stubs omit None
        flow *= weight[..., None]
        h_box = _refit(h_flow, flow, regions)
    from_box = np.linalg.inv(to_box)
    to_full = np.linalg.inv(to_small)
    photo_scale = np.diag([kp, kp, 1.0])
    h1 = to_full @ from_box @ h_box @ photo_scale
    h1 /= h1[2, 2]
    h_flow_full = to_full @ from_box @ h_flow @ photo_scale

    map_xy = _dense_map(base_srgb.shape[:2], (sh, sw), box, flow, weight, h_flow_full, h1)
    return FaceAlignment(
        True,
        None,
        homography=h1,
        map_xy=map_xy,
        identity_ncc=ncc,
        landmark_residual_px=residual,
        not_comparable=_expression_changes(photo, base),
    )


def _refit(h_flow: np.ndarray, flow: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """The homography (photo -> baseline, small scale) that best explains ``h_flow`` plus the flow."""
    ys, xs = np.nonzero(regions)
    step = max(1, ys.size // 4000)
    ys, xs = ys[::step], xs[::step]
    base_pts = np.stack([xs, ys], axis=1).astype(np.float64)
    photo_pts = cv2.perspectiveTransform(
        (base_pts + flow[ys, xs]).reshape(-1, 1, 2), np.linalg.inv(h_flow)
    ).reshape(-1, 2)
    fitted, _ = cv2.findHomography(photo_pts, base_pts, cv2.RANSAC, 1.0, maxIters=2000, confidence=0.999)
    return h_flow if fitted is None else fitted / fitted[2, 2]


def _homography_map(shape: tuple[int, int], h: np.ndarray, *, offset: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """(rows, cols, 2) float32: where ``h`` sends the centre of every pixel of a grid whose
    first pixel sits at ``offset`` (x, y)."""
    rows, cols = shape
    xs = (np.arange(cols, dtype=np.float64) + offset[0])[None, :]
    ys = (np.arange(rows, dtype=np.float64) + offset[1])[:, None]
    den = h[2, 0] * xs + h[2, 1] * ys + h[2, 2]
    out = np.empty((rows, cols, 2), np.float32)
    out[..., 0] = (h[0, 0] * xs + h[0, 1] * ys + h[0, 2]) / den
    out[..., 1] = (h[1, 0] * xs + h[1, 1] * ys + h[1, 2]) / den
    return out


def _dense_map(
    shape: tuple[int, int], small_shape: tuple[int, int], box: tuple[slice, slice], flow: np.ndarray,
    weight: np.ndarray, h0: np.ndarray, h1: np.ndarray,
) -> np.ndarray:
    """Baseline grid -> photo pixels: warp ``h0`` plus the flow in the regions, ``h1`` outside.

    ``flow`` and ``weight`` cover ``box`` of the reduced grid (``small_shape``). The
    blend is made on that reduced box and sampled bilinearly onto the full-resolution
    pixels it covers (both parts are smooth); outside, the weight is nil and the map
    is ``h1``'s alone.
    """
    h, w = shape
    sy, sx = h / small_shape[0], w / small_shape[1]  # full pixels per reduced pixel
    out = _homography_map(shape, np.linalg.inv(h1))
    bh, bw = flow.shape[:2]
    ys, xs = np.mgrid[0:bh, 0:bw].astype(np.float32)
    # Centres of the reduced box's pixels in full-resolution baseline pixels.
    grid = np.stack([(xs + box[1].start + 0.5) * sx - 0.5, (ys + box[0].start + 0.5) * sy - 0.5], axis=-1)
    moved = grid + flow * np.array([sx, sy], np.float32)
    inside = cv2.perspectiveTransform(moved.reshape(-1, 1, 2), np.linalg.inv(h0)).reshape(bh, bw, 2)
    outside = cv2.perspectiveTransform(grid.reshape(-1, 1, 2), np.linalg.inv(h1)).reshape(bh, bw, 2)
    small: np.ndarray = (weight[..., None] * inside + (1.0 - weight[..., None]) * outside).astype(np.float32)
    # The full-resolution pixels whose centres fall inside the reduced box, sampled as a
    # bilinear resize of the whole reduced grid would sample them.
    y0, y1 = max(0, int(np.ceil(box[0].start * sy))), min(h, int(np.floor(box[0].stop * sy)))
    x0, x1 = max(0, int(np.ceil(box[1].start * sx))), min(w, int(np.floor(box[1].stop * sx)))
    to_small = np.array([[1 / sx, 0.0, (x0 + 0.5) / sx - 0.5 - box[1].start],
                         [0.0, 1 / sy, (y0 + 0.5) / sy - 0.5 - box[0].start]])
    out[y0:y1, x0:x1] = cv2.warpAffine(small, to_small, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                       borderMode=cv2.BORDER_REPLICATE)
    return out
