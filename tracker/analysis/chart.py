"""Find a 24-patch ColorChecker in a photo and fit a colour correction to it.

Detection uses OpenCV 5's ``cv2.mcc`` detector on a reduced copy of the photo
(it is slow and sometimes wrong at full resolution), then refines the patch
grid on the full-resolution image, works out the chart's orientation from the
patch colours, and samples each patch's inner area in linear light. A chart is
accepted only when its patches fit the reference colours well after
correction: a false chart fits badly.

The correction is fitted in linear RGB against :data:`chart_reference.REFERENCE_SRGB`
(decoded to linear light) with a planar illumination term, because a light
gradient across the frame also falls across the chart::

    (1 + a*u + b*v) * reference = M @ f(camera)

where ``f`` is the identity ("linear") or the degree-2 root-polynomial
expansion (Finlayson et al. 2015) and ``u, v`` are the normalised image
coordinates of each patch. The equation is linear in ``M``, ``a`` and ``b``,
so it is one least-squares solve. Camera values first pass through a shared,
fitted linearising tone curve (two parameters, variable projection): phone and
machine-vision JPEGs are not sRGB-linear, and without it one real photo fitted
at 9 CIEDE2000 instead of 1.7.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from scipy.optimize import least_squares

from tracker.analysis.chart_reference import CHART_COLS, CHART_ROWS, REFERENCE_SRGB
from tracker.analysis.colour import srgb_to_linear

__all__ = [
    "ChartDetection",
    "ColourCorrection",
    "FIT_MODELS",
    "DEFAULT_FIT_MODEL",
    "TONE_MODELS",
    "DEFAULT_TONE_MODEL",
    "REFERENCE_LINEAR",
    "REFERENCE_LAB",
    "MAX_ACCEPTED_DELTA_E",
    "detect_chart",
    "fit_colour_correction",
    "normalised_coordinates",
]

N_PATCHES = CHART_ROWS * CHART_COLS

#: Reference patch colours in linear light, shape (24, 3).
REFERENCE_LINEAR: np.ndarray = srgb_to_linear(REFERENCE_SRGB).astype(np.float64)
# Linear sRGB (D65) to CIE XYZ, as scikit-image's rgb2xyz uses it.
_XYZ_FROM_LINEAR = np.array(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]]
)


_WHITE_D65 = _XYZ_FROM_LINEAR.sum(axis=1)


def _lab(linear: np.ndarray) -> np.ndarray:
    """Linear sRGB (D65) to CIELAB in float64, unclipped: smooth enough to optimise."""
    xyz = np.maximum(np.asarray(linear, dtype=np.float64) @ _XYZ_FROM_LINEAR.T, 0.0) / _WHITE_D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def _ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 (Sharma, Wu & Dalal 2005), vectorised; equals colour.delta_e_2000 without its overhead."""
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dlp, dcp = l2 - l1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dhp = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    lbp, cbp = (l1 + l2) / 2, (c1p + c2p) / 2
    hsum = h1p + h2p
    hbp = np.where(np.abs(h1p - h2p) > 180, np.where(hsum < 360, hsum + 360, hsum - 360), hsum) / 2
    hbp = np.where(c1p * c2p == 0, hsum, hbp)
    t = (
        1 - 0.17 * np.cos(np.radians(hbp - 30)) + 0.24 * np.cos(np.radians(2 * hbp))
        + 0.32 * np.cos(np.radians(3 * hbp + 6)) - 0.20 * np.cos(np.radians(4 * hbp - 63))
    )
    sl = 1 + 0.015 * (lbp - 50) ** 2 / np.sqrt(20 + (lbp - 50) ** 2)
    sc = 1 + 0.045 * cbp
    sh = 1 + 0.015 * cbp * t
    rt = -2 * np.sqrt(cbp**7 / (cbp**7 + 25.0**7)) * np.sin(np.radians(60 * np.exp(-(((hbp - 275) / 25) ** 2))))
    return np.sqrt(
        (dlp / sl) ** 2 + (dcp / sc) ** 2 + (dhp / sh) ** 2 + rt * (dcp / sc) * (dhp / sh)
    )


#: Reference patch colours in CIELAB (D65), shape (24, 3).
REFERENCE_LAB: np.ndarray = _lab(REFERENCE_LINEAR)

#: Fit models by name; see :func:`fit_colour_correction`.
FIT_MODELS: tuple[str, ...] = ("linear", "linear_planar", "root_poly", "root_poly_planar")
DEFAULT_FIT_MODEL = "root_poly_planar"
#: Linearising tone curves; see :func:`fit_colour_correction`.
TONE_MODELS: tuple[str, ...] = ("none", "gamma", "curve")
DEFAULT_TONE_MODEL = "curve"
# Below this linear value the tone curve is flat (log of noise).
_TONE_FLOOR = 1e-4

#: A detection whose mean CIEDE2000 after correction exceeds this is not a chart.
MAX_ACCEPTED_DELTA_E = 6.0

# Patch side / patch pitch when nothing better is known (Classic ~0.9, Mini ~0.83);
# refined from the image for every chart.
_DEFAULT_PATCH_FRACTION = (0.86, 0.86)
# Sample this fraction of each patch's side: keeps clear of edges, bevels and blur.
_SAMPLE_FRACTION = 0.5
# sRGB code values treated as clipped / crushed, and the share of a patch's pixels that flags it
# (below a quarter, the interquartile mean is unaffected; see _sample_patches).
_CLIP_HIGH = 0.99
_CLIP_LOW = 0.002
_CLIP_SHARE = 0.2
# Working size (long side, px) for cv2.mcc, then fallbacks.
_DETECT_LONG_SIDES = (1200, 800, 1600, 600)
# The chart body (frame, logo, ruler) beyond the patch grid, in patch pitches along the
# 6-patch and the 4-patch direction (Mini: about 0.9 and 0.45; Classic: 0.25 and 0.5).
_FRAME_MARGIN_PITCH = (1.0, 0.6)
# |a| + |b| at or above this would make the illumination term vanish inside the frame.
_MAX_GRADIENT = 0.8


@dataclass(frozen=True, eq=False)
class ChartDetection:
    """A ColorChecker found in (or marked on) a photo.

    Attributes
    ----------
    corners : ndarray, shape (4, 2), float64
        Image pixel coordinates (x, y) of the patch grid's outer edge in the order
        TL, TR, BR, BL of the upright chart: TL is the "dark skin" patch's outer
        corner, the greys run along BL-BR.
    patch_linear : ndarray, shape (24, 3), float64
        Robust (trimmed) mean linear RGB of each patch's inner area, in
        reference order (``chart_reference.PATCH_NAMES``); 0 for patches out of frame.
    patch_clipped : ndarray, shape (24,), bool
        Patch has clipped or crushed pixels or lies (partly) out of frame: exclude from fits.
    patch_centres : ndarray, shape (24, 2), float64
        Patch centres, image px.
    chart_mask : ndarray, shape (H, W), bool
        The whole chart including its frame, dilated a little.
    source : str
        "detected" (found by ``cv2.mcc``) or "corners" (caller-supplied corners).
    patch_fraction : tuple of float
        Patch width and height as fractions of the patch pitch, measured on the image (0.5-1).
    pitch_px : float
        Mean patch pitch in image px.
    orientation_margin : float
        Mean CIEDE2000 of the second-best orientation minus the best (large = unambiguous).
    """

    corners: np.ndarray
    patch_linear: np.ndarray
    patch_clipped: np.ndarray
    patch_centres: np.ndarray
    chart_mask: np.ndarray
    source: str
    patch_fraction: tuple[float, float] = _DEFAULT_PATCH_FRACTION
    pitch_px: float = 0.0
    orientation_margin: float = 0.0


@dataclass(frozen=True, eq=False)
class ColourCorrection:
    """A colour correction fitted to a chart, for one image size.

    Attributes
    ----------
    matrix : ndarray, shape (3, 3) or (3, 6), float64
        Maps camera linear RGB (or its root-polynomial expansion R, G, B,
        sqrt(RG), sqrt(GB), sqrt(RB) for the "root_poly*" models) to reference linear RGB.
    illumination : tuple of float
        Planar illumination term (a, b): the light at normalised coordinates
        (u, v) is proportional to 1 + a*u + b*v. (0, 0) for models without it.
    delta_e_mean, delta_e_max : float
        CIEDE2000 of the used patches after correction vs the reference.
    patches_used : int
        Patches in the fit (not clipped, crushed or out of frame).
    model : str
        One of :data:`FIT_MODELS`.
    image_shape : tuple of int
        (H, W) of the image the fit was made for; :meth:`apply` needs the same.
    tone : tuple of float
        (g, k) of the linearising curve applied to camera values first:
        exp(g*t + k*t**2) with t = ln x; (1, 0) is the identity.
    patch_delta_e : ndarray, shape (24,)
        CIEDE2000 of every patch after correction (NaN for excluded patches).
    """

    matrix: np.ndarray
    illumination: tuple[float, float]
    delta_e_mean: float
    delta_e_max: float
    patches_used: int
    model: str = DEFAULT_FIT_MODEL
    image_shape: tuple[int, int] = (0, 0)
    patch_delta_e: np.ndarray = field(default_factory=lambda: np.full(N_PATCHES, np.nan))
    tone: tuple[float, float] = (1.0, 0.0)

    def apply(self, linear: np.ndarray) -> np.ndarray:
        """Corrected linear RGB of a whole image of the fitted size.

        Parameters
        ----------
        linear : ndarray, shape (H, W, 3)
            Camera linear RGB in [0, 1], the same (H, W) as ``image_shape``.

        Returns
        -------
        ndarray, shape (H, W, 3), float32
            ``M @ f(camera) / (1 + a*u + b*v)``, negatives set to 0 (values above 1 are kept).
        """
        linear = _check_image(linear, "linear")
        if linear.shape[:2] != tuple(self.image_shape):
            raise ValueError(
                f"linear: shape {linear.shape[:2]} differs from the fitted image_shape {tuple(self.image_shape)}"
            )
        h, w = linear.shape[:2]
        features = _features(_tone(linear.reshape(-1, 3), self.tone), self.model)
        out = (features @ self.matrix.T.astype(np.float32)).reshape(h, w, 3)
        a, b = self.illumination
        if a != 0.0 or b != 0.0:
            u, v = normalised_coordinates((h, w))
            light = (1.0 + a * u[None, :] + b * v[:, None]).astype(np.float32)
            out /= np.maximum(light, 0.05)[:, :, None]
        return np.maximum(out, 0.0).astype(np.float32, copy=False)

    def apply_to_patches(self, patch_linear: np.ndarray, centres_px: np.ndarray) -> np.ndarray:
        """Corrected linear RGB of individual colours at given image positions, shape (N, 3)."""
        patch_linear = np.asarray(patch_linear, dtype=np.float64).reshape(-1, 3)
        out = _features(_tone(patch_linear, self.tone), self.model) @ self.matrix.T
        u, v = _patch_uv(np.asarray(centres_px, dtype=np.float64), self.image_shape)
        a, b = self.illumination
        return out / np.maximum(1.0 + a * u + b * v, 0.05)[:, None]


# ----------------------------------------------------------------------------- inputs


def _check_image(image: np.ndarray, name: str) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{name}: expected shape (H, W, 3), got {image.shape}")
    if not np.issubdtype(image.dtype, np.floating):
        raise TypeError(f"{name}: expected float RGB in [0, 1], got dtype {image.dtype}")
    if image.shape[0] < 16 or image.shape[1] < 16:
        raise ValueError(f"{name}: image too small ({image.shape[1]}x{image.shape[0]} px)")
    return image.astype(np.float32, copy=False)


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


def normalised_coordinates(image_shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Normalised coordinates of the pixel centres of an image.

    Returns ``u`` (W,) and ``v`` (H,), each running from -1 at the first pixel
    centre to +1 at the last: the coordinates of the illumination term.

    >>> u, v = normalised_coordinates((3, 5))
    >>> u.tolist(), v.tolist()
    ([-1.0, -0.5, 0.0, 0.5, 1.0], [-1.0, 0.0, 1.0])
    """
    h, w = int(image_shape[0]), int(image_shape[1])
    u = np.linspace(-1.0, 1.0, w) if w > 1 else np.zeros(1)
    v = np.linspace(-1.0, 1.0, h) if h > 1 else np.zeros(1)
    return u, v


def _patch_uv(centres: np.ndarray, image_shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    h, w = image_shape
    u = 2.0 * centres[:, 0] / max(w - 1, 1) - 1.0
    v = 2.0 * centres[:, 1] / max(h - 1, 1) - 1.0
    return u, v


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
    srgb: np.ndarray, hom: np.ndarray, s: tuple[float, float], *, iterations: int = 2
) -> tuple[np.ndarray, tuple[float, float]]:
    """Snap the grid to the patches' visible edges.

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
    ys, xs = np.mgrid[0:h, 0:w]
    cx = xs / res - margin
    cy = ys / res - margin
    # The frame colour: pixels on the gap mid-lines between patches.
    gap = (np.abs((cx + 0.5) - np.round(cx + 0.5)) < 0.04) & (cx > 0) & (cx < CHART_COLS - 1) & (cy > -0.3) & (
        cy < CHART_ROWS - 0.7
    )
    gap |= (np.abs((cy + 0.5) - np.round(cy + 0.5)) < 0.04) & (cy > 0) & (cy < CHART_ROWS - 1) & (cx > -0.3) & (
        cx < CHART_COLS - 0.7
    )
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
        if None in (x_lo, x_hi, y_lo, y_hi):
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


def _score(samples: _Samples, shape: tuple[int, int]) -> float:
    """Mean CIEDE2000 of a quick 3x3 + tone-curve fit: the orientation and sanity score."""
    try:
        fit = _fit(samples.linear, samples.centres, ~samples.clipped, shape, model="linear", tone="curve",
                   objective="least_squares")
    except ValueError:
        return np.inf
    return fit.delta_e_mean


def _best_orientation(samples: _Samples, shape: tuple[int, int]) -> tuple[np.ndarray, float, float]:
    """The grid symmetry that makes the sampled patches match the reference best."""
    scores = [_score(_permute(samples, p), shape) for p in _SYMMETRIES]
    order = np.argsort(scores)
    margin = scores[order[1]] - scores[order[0]] if np.isfinite(scores[order[1]]) else np.inf
    return _SYMMETRIES[int(order[0])], float(scores[order[0]]), float(margin)


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


def _mcc_candidates(srgb: np.ndarray) -> Iterator[np.ndarray]:
    """Initial grid homographies (canonical -> image px) from cv2.mcc at a few working scales."""
    h, w = srgb.shape[:2]
    long_side = max(h, w)
    sides = list(dict.fromkeys(min(t, long_side) if t >= 1200 else t for t in _DETECT_LONG_SIDES))
    bgr = cv2.cvtColor((np.clip(srgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR)
    for side in sides:
        if side > 1.5 * long_side:
            continue  # upsampling a small photo only invents detail
        scale = side / long_side
        if abs(scale - 1.0) < 1e-3:
            small = bgr
        else:
            interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
            size = (max(int(round(w * scale)), 1), max(int(round(h * scale)), 1))
            small = cv2.resize(bgr, size, interpolation=interp)
        sx, sy = w / small.shape[1], h / small.shape[0]
        try:
            detector = cv2.mcc.CCheckerDetector.create()
            detector.setColorChartType(cv2.mcc.MCC24)
            if not detector.process(small, 1):
                continue
            checkers = list(detector.getListColorChecker())
        except cv2.error:
            continue  # the detector throws on some inputs: try another scale
        for checker in checkers:
            quads = np.asarray(checker.getColorCharts(), dtype=np.float64).reshape(-1, 4, 2)
            if len(quads) != N_PATCHES:
                continue
            # Pixel centres: (x + 0.5) * scale - 0.5 maps the reduced image back to full size.
            centres = (quads.mean(axis=1) + 0.5) * [sx, sy] - 0.5
            hom, _ = cv2.findHomography(_GRID_XY.astype(np.float32), centres.astype(np.float32), 0)
            if hom is not None:
                yield hom


def detect_chart(srgb: np.ndarray, *, corners: np.ndarray | None = None) -> ChartDetection | None:
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

    Returns
    -------
    ChartDetection or None
        None when no chart was found whose patches fit the reference (mean
        CIEDE2000 after a 3x3 fit <= :data:`MAX_ACCEPTED_DELTA_E`). With
        ``corners`` a detection is always returned; judge it by its fit.

    Notes
    -----
    ``cv2.mcc`` runs on a copy reduced to about 1200 px on the long side
    (retrying at other scales, catching its exceptions); the grid is then
    refined and sampled at full resolution.
    """
    srgb = _check_image(srgb, "srgb")
    if corners is not None:
        corners = _check_corners(corners)
        best: tuple[ChartDetection, float] | None = None
        for start in range(4):  # the corner order's rotation: which side is the 6-patch side
            order = np.roll(np.arange(4), -start)
            hom = _homography_from_corners(corners[order], _DEFAULT_PATCH_FRACTION)
            det, score = _finish(srgb, hom, _DEFAULT_PATCH_FRACTION, "corners")
            if best is None or score < best[1] - 1e-9:
                best = (det, score)
            if start == 0 and score < 3.0 and det.orientation_margin > 3.0:
                break  # the given order fits clearly: no need to second-guess it
        return best[0] if best is not None else None

    best = None
    for hom in _mcc_candidates(srgb):
        det, score = _finish(srgb, hom, _DEFAULT_PATCH_FRACTION, "detected")
        if score <= MAX_ACCEPTED_DELTA_E and (best is None or score < best[1]):
            best = (det, score)
            if score <= 3.0:
                break
    return best[0] if best is not None else None


# ----------------------------------------------------------------------------- fit


def _features(rgb: np.ndarray, model: str) -> np.ndarray:
    if model.startswith("root_poly"):
        pos = np.maximum(rgb, 0.0)
        r, g, b = pos[:, 0], pos[:, 1], pos[:, 2]
        return np.stack([rgb[:, 0], rgb[:, 1], rgb[:, 2], np.sqrt(r * g), np.sqrt(g * b), np.sqrt(r * b)], axis=1)
    return rgb


def _tone(x: np.ndarray, tone: tuple[float, float]) -> np.ndarray:
    """Shared linearising curve exp(g*t + k*t^2), t = ln x: undoes a camera's tone curve."""
    gamma, curvature = tone
    if gamma == 1.0 and curvature == 0.0:
        return x
    t = np.log(np.maximum(x, _TONE_FLOOR))
    return np.exp(gamma * t + curvature * t * t).astype(x.dtype, copy=False)


def _design(
    cam: np.ndarray, ref: np.ndarray, u: np.ndarray, v: np.ndarray, model: str
) -> tuple[np.ndarray, np.ndarray, int]:
    feats = _features(cam, model)
    n, nf = feats.shape
    planar = model.endswith("_planar")
    rows = np.zeros((n * 3, 3 * nf + (2 if planar else 0)))
    rhs = np.zeros(n * 3)
    for c in range(3):
        r = slice(c * n, (c + 1) * n)
        rows[r, c * nf : (c + 1) * nf] = feats
        if planar:
            rows[r, 3 * nf] = -u * ref[:, c]
            rows[r, 3 * nf + 1] = -v * ref[:, c]
        rhs[r] = ref[:, c]
    return rows, rhs, nf


def _solve(
    cam: np.ndarray, ref: np.ndarray, u: np.ndarray, v: np.ndarray, model: str, weights: np.ndarray
) -> tuple[np.ndarray, tuple[float, float], np.ndarray]:
    """Weighted linear least squares for M (and a, b); returns matrix, (a, b), weighted residuals."""
    rows, rhs, nf = _design(cam, ref, u, v, model)
    wt = np.tile(weights, 3)
    sol, *_ = np.linalg.lstsq(rows * wt[:, None], rhs * wt, rcond=None)
    matrix = sol[: 3 * nf].reshape(3, nf)
    ab = (float(sol[3 * nf]), float(sol[3 * nf + 1])) if model.endswith("_planar") else (0.0, 0.0)
    return matrix, ab, (rows @ sol - rhs) * wt


def _fit_tone(
    cam: np.ndarray, ref: np.ndarray, u: np.ndarray, v: np.ndarray, model: str, weights: np.ndarray, tone_model: str
) -> tuple[float, float]:
    """Variable projection: the tone parameters outside, the linear solve inside."""
    if tone_model == "none":
        return (1.0, 0.0)
    x0 = [1.0] if tone_model == "gamma" else [1.0, 0.0]
    lo = [0.25] if tone_model == "gamma" else [0.25, -0.15]
    hi = [3.0] if tone_model == "gamma" else [3.0, 0.15]

    def as_tone(p):
        return (float(p[0]), float(p[1]) if len(p) > 1 else 0.0)

    def residuals(p):
        return _solve(_tone(cam, as_tone(p)), ref, u, v, model, weights)[2]

    res = least_squares(residuals, x0, bounds=(lo, hi), x_scale=0.1, xtol=1e-10, ftol=1e-10)
    tone = as_tone(res.x)
    # The curve must stay increasing over the patches' range, or it swaps colours.
    t = np.log(np.maximum(cam[cam > 0], _TONE_FLOOR)) if np.any(cam > 0) else np.zeros(1)
    if np.any(tone[0] + 2 * tone[1] * np.array([t.min(), t.max()]) <= 0.05):
        return (1.0, 0.0)
    return tone


def _polish(
    cam: np.ndarray,
    ref_lab: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    model: str,
    matrix: np.ndarray,
    ab: tuple[float, float],
    tone: tuple[float, float],
    tone_model: str,
    weights: np.ndarray,
) -> tuple[np.ndarray, tuple[float, float], tuple[float, float]]:
    """Refine the least-squares fit to minimise CIEDE2000 itself, what the eye and the gate judge."""
    nf = matrix.shape[1]
    planar = model.endswith("_planar")
    n_tone = {"none": 0, "gamma": 1, "curve": 2}[tone_model]
    x0 = np.r_[matrix.ravel(), list(ab) if planar else [], list(tone)[:n_tone]]
    lo = np.r_[np.full(3 * nf, -np.inf), [-0.6, -0.6] if planar else [], [0.25, -0.15][:n_tone]]
    hi = np.r_[np.full(3 * nf, np.inf), [0.6, 0.6] if planar else [], [3.0, 0.15][:n_tone]]
    x0 = np.clip(x0, lo + 1e-9, hi - 1e-9)

    def unpack(x):
        m = x[: 3 * nf].reshape(3, nf)
        k = 3 * nf
        ab_ = (float(x[k]), float(x[k + 1])) if planar else (0.0, 0.0)
        k += 2 if planar else 0
        tone_ = (float(x[k]) if n_tone else 1.0, float(x[k + 1]) if n_tone == 2 else 0.0)
        return m, ab_, tone_

    def residuals(x):
        m, ab_, tone_ = unpack(x)
        pred = _features(_tone(cam, tone_), model) @ m.T
        pred /= np.maximum(1.0 + ab_[0] * u + ab_[1] * v, 0.05)[:, None]
        return _ciede2000(_lab(pred), ref_lab) * weights

    res = least_squares(residuals, x0, bounds=(lo, hi), diff_step=1e-4, max_nfev=100)
    if not np.all(np.isfinite(res.x)):
        return matrix, ab, tone
    return unpack(res.x)


def fit_colour_correction(
    detection: ChartDetection,
    *,
    image_shape: tuple[int, int],
    model: str = DEFAULT_FIT_MODEL,
    tone: str = DEFAULT_TONE_MODEL,
    objective: str = "least_squares",
) -> ColourCorrection:
    """Fit the chart's patches to the reference colours in linear RGB.

    Parameters
    ----------
    detection : ChartDetection
        From :func:`detect_chart`; clipped, crushed and out-of-frame patches are excluded.
    image_shape : tuple of int
        (H, W) of the whole image: patch positions become normalised
        coordinates (u, v) in [-1, 1] for the illumination term.
    model : str
        "linear" (3x3), "linear_planar" (3x3 and a planar illumination term),
        "root_poly" (3x6 root-polynomial, Finlayson 2015) or "root_poly_planar"
        (the default: lowest chart error on the real photos, 1.7-2.3 mean, and
        skin changes recovered as well as any other model).
    tone : str
        Linearising curve fitted jointly, shared by the three channels:
        "none", "gamma" (x**g) or "curve" (exp(g*t + k*t**2), t = ln x),
        for cameras whose JPEGs are not sRGB-linear.
    objective : str
        "least_squares" (relative linear residuals; the default) or "delta_e"
        (then refined to minimise the patches' CIEDE2000: about 0.3 lower on
        the chart, but it chases patch noise and made repeat captures of the same
        skin differ by up to 0.19 EI against 0.04).

    Returns
    -------
    ColourCorrection
        With the CIEDE2000 of the used patches after correction. If the planar
        term is implausibly steep (|a| + |b| >= 0.8, the light would vanish inside
        the frame) the fit falls back to the model without it.

    Raises
    ------
    ValueError
        Too few usable patches for the model.
    """
    if not isinstance(detection, ChartDetection):
        raise TypeError(f"detection: expected ChartDetection, got {type(detection).__name__}")
    if model not in FIT_MODELS:
        raise ValueError(f"model: {model!r} is not one of {FIT_MODELS}")
    if tone not in TONE_MODELS:
        raise ValueError(f"tone: {tone!r} is not one of {TONE_MODELS}")
    if objective not in ("least_squares", "delta_e"):
        raise ValueError(f"objective: {objective!r} is not 'least_squares' or 'delta_e'")
    if len(image_shape) < 2 or int(image_shape[0]) < 1 or int(image_shape[1]) < 1:
        raise ValueError(f"image_shape: expected (H, W) with positive sizes, got {image_shape}")
    shape = (int(image_shape[0]), int(image_shape[1]))
    return _fit(
        detection.patch_linear, detection.patch_centres, ~np.asarray(detection.patch_clipped, dtype=bool), shape,
        model=model, tone=tone, objective=objective,
    )


def _fit(
    patch_linear: np.ndarray,
    centres: np.ndarray,
    use: np.ndarray,
    shape: tuple[int, int],
    *,
    model: str,
    tone: str,
    objective: str,
) -> ColourCorrection:
    nf = 6 if model.startswith("root_poly") else 3
    min_patches = nf + 3 + (2 if tone != "none" else 0)
    if use.sum() < min_patches:
        raise ValueError(
            f"detection: only {int(use.sum())} usable patches, the {model!r} fit needs at least {min_patches}"
        )
    cam = patch_linear[use]
    ref = REFERENCE_LINEAR[use]
    u, v = _patch_uv(centres[use], shape)
    # Relative (not absolute) residuals: dark patches matter as much to the eye as light ones.
    weights = 1.0 / np.sqrt(ref.mean(axis=1) + 0.05)
    tone_params = _fit_tone(cam, ref, u, v, model, weights, tone)
    matrix, ab, _ = _solve(_tone(cam, tone_params), ref, u, v, model, weights)
    if model.endswith("_planar") and abs(ab[0]) + abs(ab[1]) >= _MAX_GRADIENT:
        model = model.removesuffix("_planar")
        tone_params = _fit_tone(cam, ref, u, v, model, weights, tone)
        matrix, ab, _ = _solve(_tone(cam, tone_params), ref, u, v, model, weights)
    if objective == "delta_e":
        matrix, ab, tone_params = _polish(
            cam, REFERENCE_LAB[use], u, v, model, matrix, ab, tone_params, tone, np.ones(len(cam))
        )
    corr = ColourCorrection(
        matrix=matrix, illumination=ab, delta_e_mean=0.0, delta_e_max=0.0, patches_used=int(use.sum()),
        model=model, image_shape=shape, tone=tone_params,
    )
    pred = corr.apply_to_patches(patch_linear, centres)
    de = np.where(use, _ciede2000(_lab(pred), REFERENCE_LAB), np.nan)
    return replace(corr, delta_e_mean=float(np.nanmean(de)), delta_e_max=float(np.nanmax(de)), patch_delta_e=de)

