"""Find a 24-patch ColorChecker in a photo (``cv2.mcc`` on a reduced copy, then refined on
the full image), orient it from the patch colours and sample its patches in linear light.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from tracker.analysis.chart_reference import CHART_COLS, CHART_ROWS
from tracker.analysis.colour import srgb_to_linear

from .correction import fit_patches
from .patches import DEFAULT_PATCH_FRACTION, N_PATCHES, ChartDetection, check_image
from .presence import might_hold_chart

#: A detection whose mean CIEDE2000 after correction exceeds this is not a chart.
MAX_ACCEPTED_DELTA_E = 6.0

# Sample this fraction of each patch's side: keeps clear of edges, bevels and blur.
_SAMPLE_FRACTION = 0.5
# sRGB code values treated as clipped / crushed, and the share of a patch's pixels that flags it
# (below a quarter, the interquartile mean is unaffected; see _sample_patches).
_CLIP_HIGH = 0.99
_CLIP_LOW = 0.002
_CLIP_SHARE = 0.2
# Working size (long side, px) for cv2.mcc, then fallbacks.
_DETECT_LONG_SIDES = (1200, 800, 1600, 600)
# Photos worked at 1600 px or more try 800 px first: their charts are large enough, and
# cv2.mcc costs about three times less there than at 1200 px (the largest single step).
_DETECT_LONG_SIDES_LARGE = (800, 1200, 1600, 600)
# cv2.mcc enlarges images whose short side is smaller than this (px) before detecting:
# small photos' charts need it, the 800 px copy of a large photo (600 px high) does not.
_MCC_MIN_SHORT_SIDE = 600
# The chart body (frame, logo, ruler) beyond the patch grid, in patch pitches along the
# 6-patch and the 4-patch direction (Mini: about 0.9 and 0.45; Classic: 0.25 and 0.5).
_FRAME_MARGIN_PITCH = (1.0, 0.6)


def _check_corners(corners: np.ndarray, name: str = "corners") -> np.ndarray:
    arr = np.asarray(corners, dtype=np.float64)
    if arr.shape != (4, 2):
        raise ValueError(f"{name}: expected shape (4, 2) (x, y per corner), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains non-finite values")
    if abs(_polygon_area(arr)) < 16.0:
        raise ValueError(f"{name}: the four corners enclose (almost) no area")
    return arr


def _polygon_area(pts: np.ndarray) -> float:
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


# ----------------------------------------------------------------------------- geometry
# Canonical chart coordinates: one unit = the patch pitch, patch (col i, row j) centred
# at (i, j), i in 0..5, j in 0..3, reference order k = 6 j + i.

_GRID_XY = np.array([(k % CHART_COLS, k // CHART_COLS) for k in range(N_PATCHES)], dtype=np.float64)


def _outer_corners(s: tuple[float, float], grow: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Canonical corners of the patch grid's outer edge (patch side / pitch ``s`` = (sx, sy)), grown by ``grow``."""
    hx, hy = s[0] / 2.0 + grow[0], s[1] / 2.0 + grow[1]
    return np.array(
        [[-hx, -hy], [CHART_COLS - 1 + hx, -hy], [CHART_COLS - 1 + hx, CHART_ROWS - 1 + hy], [-hx, CHART_ROWS - 1 + hy]]
    )


def _project(hom: np.ndarray, pts: np.ndarray) -> np.ndarray:
    p = np.c_[pts, np.ones(len(pts))] @ hom.T
    return p[:, :2] / p[:, 2:3]


def _homography_from_corners(corners: np.ndarray, s: tuple[float, float]) -> np.ndarray:
    return cv2.getPerspectiveTransform(_outer_corners(s).astype(np.float32), corners.astype(np.float32)).astype(
        np.float64
    )


# The four symmetries of a 6x4 grid, as permutations: sampled[perm[k]] is reference patch k.
def _grid_symmetries() -> list[np.ndarray]:
    i, j = _GRID_XY[:, 0].astype(int), _GRID_XY[:, 1].astype(int)
    perms = []
    for flip_x, flip_y in ((False, False), (True, True), (True, False), (False, True)):
        ii = CHART_COLS - 1 - i if flip_x else i
        jj = CHART_ROWS - 1 - j if flip_y else j
        perms.append(jj * CHART_COLS + ii)
    return perms


_SYMMETRIES = _grid_symmetries()

# ----------------------------------------------------------------------------- sampling


@dataclass(frozen=True)
class _Samples:
    linear: np.ndarray  # (24, 3)
    clipped: np.ndarray  # (24,) bool
    centres: np.ndarray  # (24, 2)


def _sample_patches(srgb: np.ndarray, hom: np.ndarray, s: tuple[float, float]) -> _Samples:
    """Trimmed-mean linear RGB of each patch's inner area (canonical grid order)."""
    h, w = srgb.shape[:2]
    hx, hy = 0.5 * _SAMPLE_FRACTION * s[0], 0.5 * _SAMPLE_FRACTION * s[1]
    square = np.array([[-hx, -hy], [hx, -hy], [hx, hy], [-hx, hy]])
    linear = np.zeros((N_PATCHES, 3))
    clipped = np.zeros(N_PATCHES, dtype=bool)
    centres = _project(hom, _GRID_XY)
    for k in range(N_PATCHES):
        poly = _project(hom, square + _GRID_XY[k])
        x0, y0 = np.floor(poly.min(axis=0)).astype(int)
        x1, y1 = np.ceil(poly.max(axis=0)).astype(int) + 1
        if x0 < 0 or y0 < 0 or x1 > w or y1 > h:
            clipped[k] = True  # (partly) out of frame: never guess its colour
            continue
        mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        cv2.fillPoly(mask, [np.round((poly - [x0, y0]) * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
        pix = srgb[y0:y1, x0:x1][mask.astype(bool)]
        if len(pix) < 9:
            clipped[k] = True
            continue
        bad = np.any(pix >= _CLIP_HIGH, axis=1) | np.any(pix <= _CLIP_LOW, axis=1)
        clipped[k] = bool(bad.mean() > _CLIP_SHARE)
        # Interquartile mean: averages noise and 8-bit steps, yet a noisy patch whose darkest
        # (or brightest) pixels were clipped keeps an unbiased value, since those fall in the trimmed tail.
        lin = np.sort(srgb_to_linear(pix).astype(np.float64), axis=0)
        cut = len(lin) // 4
        linear[k] = lin[cut : len(lin) - cut].mean(axis=0)
    return _Samples(linear, clipped, centres)


def _permute(samples: _Samples, perm: np.ndarray) -> _Samples:
    return _Samples(samples.linear[perm], samples.clipped[perm], samples.centres[perm])


# ----------------------------------------------------------------------------- refinement


def _refine_grid(
    srgb: np.ndarray, hom: np.ndarray, s: tuple[float, float], *, iterations: int = 1
) -> tuple[np.ndarray, tuple[float, float]]:
    """Snap the grid to the patches' visible edges.

    One pass is enough: a second moved the corners by 0.2-1.6 px on the real charts,
    no more than a third moved them again (the measurement's own noise), and the
    charts' mean CIEDE2000 by under 0.01.

    Rectifies the chart with the current homography, finds each patch's edges
    where it meets the dark frame, and refits the homography to the measured
    patch centres. Returns the homography and the patch side / pitch ratio.
    """
    for _ in range(iterations):
        pitch_px = _pitch_px(hom)
        res = float(np.clip(pitch_px, 24.0, 64.0))  # rectified px per pitch
        margin = 0.75
        x_min, y_min = -margin, -margin
        width = int(round((CHART_COLS - 1 + 2 * margin) * res)) + 1
        height = int(round((CHART_ROWS - 1 + 2 * margin) * res)) + 1
        to_canon = np.array([[1 / res, 0, x_min], [0, 1 / res, y_min], [0, 0, 1]])
        rect = cv2.warpPerspective(
            srgb, hom @ to_canon, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT, borderValue=(np.nan, np.nan, np.nan),
        )
        found = _measure_patches(rect, res, margin)
        good = ~np.isnan(found[:, 0])
        if good.sum() < 12:
            break
        centres_canon = found[good, :2]
        centres_img = _project(hom, centres_canon)
        new_hom, inliers = cv2.findHomography(
            _GRID_XY[good].astype(np.float32), centres_img.astype(np.float32), cv2.RANSAC, 0.08 * pitch_px
        )
        if new_hom is None or inliers is None or inliers.sum() < 12:
            break
        keep = inliers.ravel().astype(bool)
        new_hom, _ = cv2.findHomography(_GRID_XY[good][keep].astype(np.float32), centres_img[keep].astype(np.float32), 0)
        if new_hom is None:
            break
        sizes = np.clip(np.median(found[good][keep, 2:4], axis=0), 0.5, 0.98)
        s = (float(sizes[0]), float(sizes[1]))
        hom = new_hom
    return hom, s


def _pitch_px(hom: np.ndarray) -> float:
    c = _project(hom, _GRID_XY)
    grid = c.reshape(CHART_ROWS, CHART_COLS, 2)
    dx = np.linalg.norm(np.diff(grid, axis=1), axis=2).mean()
    dy = np.linalg.norm(np.diff(grid, axis=0), axis=2).mean()
    return float((dx + dy) / 2.0)


def _measure_patches(rect: np.ndarray, res: float, margin: float) -> np.ndarray:
    """Per patch: centre x, y and size w, h in canonical units (NaN where not measurable)."""
    out = np.full((N_PATCHES, 4), np.nan)
    h, w = rect.shape[:2]
    cx = np.arange(w) / res - margin  # canonical coordinates of the columns and of the rows
    cy = np.arange(h) / res - margin
    # The frame colour: pixels on the gap mid-lines between patches.
    gap = ((np.abs((cx + 0.5) - np.round(cx + 0.5)) < 0.04) & (cx > 0) & (cx < CHART_COLS - 1))[None, :] & (
        (cy > -0.3) & (cy < CHART_ROWS - 0.7))[:, None]
    gap |= ((np.abs((cy + 0.5) - np.round(cy + 0.5)) < 0.04) & (cy > 0) & (cy < CHART_ROWS - 1))[:, None] & (
        (cx > -0.3) & (cx < CHART_COLS - 0.7))[None, :]
    gap_pix = rect[gap]
    gap_pix = gap_pix[~np.isnan(gap_pix[:, 0])]
    if len(gap_pix) < 10:
        return out
    frame = np.median(gap_pix, axis=0)
    half_win = int(round(0.55 * res))
    core = max(int(round(0.15 * res)), 1)
    band = max(int(round(0.22 * res)), 1)
    for k, (i, j) in enumerate(_GRID_XY):
        px = (i + margin) * res
        py = (j + margin) * res
        xi, yi = int(round(px)), int(round(py))
        win = rect[max(yi - half_win, 0) : yi + half_win + 1, max(xi - half_win, 0) : xi + half_win + 1]
        ox, oy = max(xi - half_win, 0), max(yi - half_win, 0)
        centre_pix = rect[yi - core : yi + core + 1, xi - core : xi + core + 1].reshape(-1, 3)
        if np.isnan(win).any() or np.isnan(centre_pix).any():
            continue
        colour = np.median(centre_pix, axis=0)
        contrast = float(np.linalg.norm(colour - frame))
        if contrast < 0.08:
            continue  # too close to the frame (e.g. "black 2") to see its edges
        is_patch = np.linalg.norm(win - colour, axis=2) < np.linalg.norm(win - frame, axis=2)
        ly, lx = yi - oy, xi - ox
        col_prof = is_patch[max(ly - band, 0) : ly + band + 1].mean(axis=0)
        row_prof = is_patch[:, max(lx - band, 0) : lx + band + 1].mean(axis=1)
        x_lo, x_hi = _edges(col_prof, lx)
        y_lo, y_hi = _edges(row_prof, ly)
        if x_lo is None or x_hi is None or y_lo is None or y_hi is None:
            continue
        out[k] = [
            (ox + (x_lo + x_hi) / 2) / res - margin,
            (oy + (y_lo + y_hi) / 2) / res - margin,
            (x_hi - x_lo) / res,
            (y_hi - y_lo) / res,
        ]
    return out


def _edges(profile: np.ndarray, centre: int) -> tuple[float | None, float | None]:
    """Sub-pixel positions where a 1-D patch profile falls below 0.5, walking out from centre."""
    if not (0 <= centre < len(profile)) or profile[centre] < 0.5:
        return None, None
    lo = hi = None
    for t in range(centre, 0, -1):
        if profile[t - 1] < 0.5 <= profile[t]:
            lo = t - 1 + (0.5 - profile[t - 1]) / (profile[t] - profile[t - 1]) + 0.5
            break
    for t in range(centre, len(profile) - 1):
        if profile[t + 1] < 0.5 <= profile[t]:
            hi = t + (profile[t] - 0.5) / (profile[t] - profile[t + 1]) + 0.5
            break
    return lo, hi


# ----------------------------------------------------------------------------- orientation


def _score(samples: _Samples, shape: tuple[int, int], *, tone: str = "curve") -> float:
    """Mean CIEDE2000 of a quick 3x3 (+ tone-curve) fit: the orientation and sanity score."""
    try:
        fit = fit_patches(samples.linear, samples.centres, ~samples.clipped, shape, model="linear", tone=tone,
                   objective="least_squares")
    except ValueError:
        return np.inf
    return fit.delta_e_mean


def _best_orientation(samples: _Samples, shape: tuple[int, int]) -> tuple[np.ndarray, float, float]:
    """The grid symmetry that makes the sampled patches match the reference best.

    A plain 3x3 fit ranks the four symmetries (a wrong one fits tens of CIEDE2000 worse);
    the two best are then scored with the tone curve, for the score and the margin.
    """
    quick = [_score(_permute(samples, p), shape, tone="none") for p in _SYMMETRIES]
    pair = [int(k) for k in np.argsort(quick, kind="stable")[:2]]
    scores = [_score(_permute(samples, _SYMMETRIES[k]), shape) for k in pair]
    first = int(np.argmin(scores))
    best, second = scores[first], scores[1 - first]
    margin = second - best if np.isfinite(second) else np.inf
    return _SYMMETRIES[pair[first]], float(best), float(margin)


# A grid symmetry as a change of canonical coordinates, so corners follow the patches.
def _symmetry_matrix(perm: np.ndarray) -> np.ndarray:
    k = int(perm[0])  # where "dark skin" sat in the old grid coordinates
    flip_x = (k % CHART_COLS) == CHART_COLS - 1
    flip_y = (k // CHART_COLS) == CHART_ROWS - 1
    sx, tx = (-1.0, CHART_COLS - 1.0) if flip_x else (1.0, 0.0)
    sy, ty = (-1.0, CHART_ROWS - 1.0) if flip_y else (1.0, 0.0)
    return np.array([[sx, 0, tx], [0, sy, ty], [0, 0, 1.0]])


# ----------------------------------------------------------------------------- detection


def _finish(srgb: np.ndarray, hom: np.ndarray, s: tuple[float, float], source: str) -> tuple[ChartDetection, float]:
    """Refine a grid hypothesis, orient it and sample it; returns the detection and its quick ΔE."""
    hom, s = _refine_grid(srgb, hom, s)
    samples = _sample_patches(srgb, hom, s)
    perm, score, margin = _best_orientation(samples, srgb.shape[:2])
    # Re-express the homography so that canonical patch k is reference patch k.
    hom = hom @ _symmetry_matrix(perm)
    samples = _permute(samples, perm)
    corners = _project(hom, _outer_corners(s))
    mask = _chart_mask(srgb.shape[:2], hom, s)
    det = ChartDetection(
        corners=corners,
        patch_linear=samples.linear,
        patch_clipped=samples.clipped,
        patch_centres=samples.centres,
        chart_mask=mask,
        source=source,
        patch_fraction=s,
        pitch_px=_pitch_px(hom),
        orientation_margin=margin,
    )
    return det, score


def _chart_mask(shape: tuple[int, int], hom: np.ndarray, s: tuple[float, float]) -> np.ndarray:
    # Grow the polygon rather than dilate the mask: a large dilation costs seconds at 12 MP.
    pad = max(0.005 * max(shape), 2.0) / max(_pitch_px(hom), 1e-6)
    grow = (_FRAME_MARGIN_PITCH[0] + pad, _FRAME_MARGIN_PITCH[1] + pad)
    poly = _project(hom, _outer_corners(s, grow))
    mask = np.zeros(shape, dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


def _mcc_candidates(srgb: np.ndarray, codes: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """Initial grid homographies (canonical -> image px) from cv2.mcc at a few working scales.

    A photo whose colours could not make a chart (:mod:`.presence`: most close-ups of skin)
    is not searched. The first scale finds most charts. When it finds none (most often: there
    is no chart), the other scales run two at a time on a small pool, and their candidates
    still come out in the scales' order, so the detection is the same as one scale after another.
    """
    h, w = srgb.shape[:2]
    long_side = max(h, w)
    order = _DETECT_LONG_SIDES_LARGE if long_side >= 1600 else _DETECT_LONG_SIDES
    sides = [side for side in dict.fromkeys(min(t, long_side) if t >= 1200 else t for t in order)
             if side <= 1.5 * long_side]  # upsampling a small photo only invents detail
    # 8-bit codes are the rounded image already; resizing works channel by channel, so the
    # reduced copy is converted to BGR after resizing, not the whole image before.
    rgb = codes if codes is not None and codes.dtype == np.uint8 and codes.shape == srgb.shape else (
        np.clip(srgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if not sides or not might_hold_chart(rgb):
        return  # no hue spread a chart would make: the search would find nothing
    yield from _mcc_at(rgb, sides[0])
    if len(sides) == 1:
        return
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mcc")
    try:
        for job in [pool.submit(_mcc_at, rgb, side) for side in sides[1:]]:
            yield from job.result()
    finally:
        # A chart found at one scale leaves the later ones unread: they are not waited for.
        pool.shutdown(wait=False, cancel_futures=True)


def _mcc_at(rgb: np.ndarray, side: int) -> list[np.ndarray]:
    """The grid homographies ``cv2.mcc`` finds on a copy of ``rgb`` reduced to ``side`` px."""
    h, w = rgb.shape[:2]
    long_side = max(h, w)
    scale = side / long_side
    if abs(scale - 1.0) < 1e-3:
        small = rgb
    else:
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        size = (max(int(round(w * scale)), 1), max(int(round(h * scale)), 1))
        small = cv2.resize(rgb, size, interpolation=interp)
    sx, sy = w / small.shape[1], h / small.shape[0]
    small = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
    try:
        detector = cv2.mcc.CCheckerDetector.create()
        detector.setColorChartType(cv2.mcc.MCC24)
        # cv2.mcc enlarges any image whose short side is under minImageSize (1000 px by
        # default) to that size: an 800 px copy would cost as much as a 1333 px one.
        params = detector.getDetectionParams()
        params.minImageSize = _MCC_MIN_SHORT_SIDE
        detector.setDetectionParams(params)
        if not detector.process(small, 1):
            return []
        checkers = list(detector.getListColorChecker())
    except cv2.error:
        return []  # the detector throws on some inputs: the caller tries another scale
    found = []
    for checker in checkers:
        quads = np.asarray(checker.getColorCharts(), dtype=np.float64).reshape(-1, 4, 2)
        if len(quads) != N_PATCHES:
            continue
        # Pixel centres: (x + 0.5) * scale - 0.5 maps the reduced image back to full size.
        centres = (quads.mean(axis=1) + 0.5) * [sx, sy] - 0.5
        hom, _ = cv2.findHomography(_GRID_XY.astype(np.float32), centres.astype(np.float32), 0)
        if hom is not None:
            found.append(hom)
    return found


def detect_chart(
    srgb: np.ndarray, *, corners: np.ndarray | None = None, codes: np.ndarray | None = None
) -> ChartDetection | None:
    """Find a 24-patch ColorChecker and read its patches.

    Parameters
    ----------
    srgb : ndarray, shape (H, W, 3)
        Display-encoded RGB in [0, 1] (float).
    corners : ndarray, shape (4, 2), optional
        The patch grid's outer corners (x, y image px), TL, TR, BR, BL with "dark
        skin" at TL, e.g. marked by a technician when detection fails. The grid is
        refined to the visible patch edges; if the colours show the order was
        wrong (rotated or mirrored), the order is corrected.
    codes : ndarray, shape (H, W, 3), uint8, optional
        The same pixels as 8-bit code values (``DecodedImage.codes``): the
        detector's reduced copies are made from them directly.

    Returns
    -------
    ChartDetection or None
        None when no chart was found whose patches fit the reference (mean
        CIEDE2000 after a 3x3 fit <= :data:`MAX_ACCEPTED_DELTA_E`). With
        ``corners`` a detection is always returned; judge it by its fit.

    Notes
    -----
    ``cv2.mcc`` runs on a copy reduced to about 1200 px on the long side (800 px
    first for images of 1600 px or more), which it enlarges only when its short
    side is under 600 px (retrying at other scales, catching its exceptions);
    the grid is then refined once and sampled at full resolution.
    """
    srgb = check_image(srgb, "srgb")
    if corners is not None:
        corners = _check_corners(corners)
        best: tuple[ChartDetection, float] | None = None
        for start in range(4):  # the corner order's rotation: which side is the 6-patch side
            order = np.roll(np.arange(4), -start)
            hom = _homography_from_corners(corners[order], DEFAULT_PATCH_FRACTION)
            det, score = _finish(srgb, hom, DEFAULT_PATCH_FRACTION, "corners")
            if best is None or score < best[1] - 1e-9:
                best = (det, score)
            if start == 0 and score < 3.0 and det.orientation_margin > 3.0:
                break  # the given order fits clearly: no need to second-guess it
        return best[0] if best is not None else None

    best = None
    for hom in _mcc_candidates(srgb, codes):
        det, score = _finish(srgb, hom, DEFAULT_PATCH_FRACTION, "detected")
        if score <= MAX_ACCEPTED_DELTA_E and (best is None or score < best[1]):
            best = (det, score)
            if score <= 3.0:
                break
    return best[0] if best is not None else None
