"""Colour correction fitted to a chart's patches, by fit method and tone model chosen by name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from scipy.optimize import least_squares

from tracker.analysis.colour import delta_e_2000, linear_to_lab_unclipped, srgb_to_linear

from .patches import (
    N_PATCHES,
    REFERENCE_LAB,
    REFERENCE_LINEAR,
    ChartDetection,
    check_image,
    normalised_coordinates,
    patch_uv,
)

# Below this linear value the tone curve is flat (log of noise).
_TONE_FLOOR = 1e-4

# |a| + |b| at or above this would make the illumination term vanish inside the frame.
_MAX_GRADIENT = 0.8


def _rgb(rgb: np.ndarray) -> np.ndarray:
    return rgb


def _root_polynomial(rgb: np.ndarray) -> np.ndarray:
    """R, G, B, sqrt(RG), sqrt(GB), sqrt(RB) (Finlayson et al. 2015): exposure-invariant degree 2."""
    pos = np.maximum(rgb, 0.0)
    r, g, b = pos[:, 0], pos[:, 1], pos[:, 2]
    return np.stack([rgb[:, 0], rgb[:, 1], rgb[:, 2], np.sqrt(r * g), np.sqrt(g * b), np.sqrt(r * b)], axis=1)


# Whole images: OpenCV's per-pixel matrix product (cv2.transform) instead of an (N, 6)
# feature table and a numpy matmul: a tenth of the time and no 12 MP float64 copies.
def _rgb_image(cam: np.ndarray, matrix: np.ndarray, root: np.ndarray | None = None) -> np.ndarray:
    return cv2.transform(cam, matrix)


# Channel rotation (G, B, R) as a matrix: cv2.transform copies exactly and faster than fancy indexing.
_NEXT_CHANNEL = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=np.float32)


def _root_polynomial_image(cam: np.ndarray, matrix: np.ndarray, root: np.ndarray | None = None) -> np.ndarray:
    """``matrix @ [cam, cross terms]``; given ``root`` (the square root of ``cam``), both are used up as scratch."""
    out: np.ndarray = cv2.transform(cam, np.ascontiguousarray(matrix[:, :3]))
    scratch = root is not None
    if root is None:
        root = cv2.sqrt(np.maximum(cam, np.float32(0.0)))
    # Intermediates go into buffers already made: a fresh 3 MP float image costs its page faults too.
    cross = cv2.transform(root, _NEXT_CHANNEL, dst=cam if scratch else None)
    cv2.multiply(root, cross, dst=cross)  # sqrt(RG), sqrt(GB), sqrt(BR)
    cv2.transform(cross, np.ascontiguousarray(matrix[:, 3:]), dst=root)
    cv2.add(out, root, dst=out)
    return out


@dataclass(frozen=True)
class FitMethod:
    """How camera colours enter the fit: their feature expansion, and whether a planar light term is fitted.

    Attributes
    ----------
    name : str
        The key in :data:`FIT_METHODS`, stored with every correction.
    features : callable
        Camera linear RGB, shape (N, 3), to the fit's features, shape (N, ``n_features``).
    n_features : int
        Columns of the correction matrix.
    planar : bool
        Also fit the illumination term (1 + a*u + b*v).
    without_planar : str or None
        The method to fall back to when the planar term is implausibly steep.
    apply_image : callable
        ``matrix @ features`` for a whole (H, W, 3) float32 image and a float32
        matrix, computed without the feature table (optionally given the image's
        square root, when a lookup table already made it: both images are then
        scratch, overwritten).
    """

    name: str
    features: Callable[[np.ndarray], np.ndarray]
    n_features: int
    planar: bool
    without_planar: str | None = None
    apply_image: Callable[[np.ndarray, np.ndarray, np.ndarray | None], np.ndarray] = _rgb_image


#: Fit methods by name; see :func:`fit_colour_correction`.
FIT_METHODS: dict[str, FitMethod] = {
    m.name: m
    for m in (
        FitMethod("linear", _rgb, 3, planar=False),
        FitMethod("linear_planar", _rgb, 3, planar=True, without_planar="linear"),
        FitMethod("root_poly", _root_polynomial, 6, planar=False, apply_image=_root_polynomial_image),
        FitMethod("root_poly_planar", _root_polynomial, 6, planar=True, without_planar="root_poly",
                  apply_image=_root_polynomial_image),
    )
}
FIT_MODELS: tuple[str, ...] = tuple(FIT_METHODS)
DEFAULT_FIT_MODEL = "root_poly_planar"


@dataclass(frozen=True)
class ToneModel:
    """A linearising tone curve exp(g*t + k*t**2), t = ln x, with the parameters it frees and their bounds.

    ``start``, ``lower`` and ``upper`` hold (g,) or (g, k); an empty tuple fixes the identity curve.
    """

    name: str
    start: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]

    @property
    def n_params(self) -> int:
        return len(self.start)


#: Linearising tone curves by name; see :func:`fit_colour_correction`.
TONE_METHODS: dict[str, ToneModel] = {
    t.name: t
    for t in (
        ToneModel("none", (), (), ()),
        ToneModel("gamma", (1.0,), (0.25,), (3.0,)),
        ToneModel("curve", (1.0, 0.0), (0.25, -0.15), (3.0, 0.15)),
    )
}
TONE_MODELS: tuple[str, ...] = tuple(TONE_METHODS)
DEFAULT_TONE_MODEL = "curve"

#: Objectives of the fit; see :func:`fit_colour_correction`.
OBJECTIVES: tuple[str, ...] = ("least_squares", "delta_e")


def validate_method(name: str, methods: Mapping[str, object] | tuple[str, ...], *, argument: str) -> str:
    """``name`` if it is one of ``methods``, else a ValueError naming the argument and the choices.

    >>> validate_method("linear", FIT_METHODS, argument="model")
    'linear'
    """
    choices = tuple(methods)
    if name not in choices:
        raise ValueError(f"{argument}: {name!r} is not one of {choices}")
    return name


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

    def apply(self, linear: np.ndarray | None, *, codes: np.ndarray | None = None) -> np.ndarray:
        """Corrected linear RGB of a whole image of the fitted size.

        Parameters
        ----------
        linear : ndarray, shape (H, W, 3), or None
            Camera linear RGB in [0, 1], the same (H, W) as ``image_shape``; None
            when ``codes`` are given (they hold the same pixels).
        codes : ndarray, shape (H, W, 3), uint8 or uint16, optional
            The sRGB code values ``linear`` was decoded from: the tone curve of each
            code (and its square root) is then looked up (65 536 values at most)
            instead of computed per pixel.

        Returns
        -------
        ndarray, shape (H, W, 3), float32
            ``M @ f(camera) / (1 + a*u + b*v)``, negatives set to 0 (values above 1 are kept).
        """
        if codes is not None and (codes.dtype not in (np.uint8, np.uint16) or codes.ndim != 3
                                  or (linear is not None and codes.shape != linear.shape)):
            codes = None  # not the code values of these pixels: work from ``linear``
        if codes is not None:
            h, w = codes.shape[:2]
        elif linear is not None:
            linear = check_image(linear, "linear")
            h, w = linear.shape[:2]
        else:
            raise ValueError("linear: None needs codes (uint8 or uint16, shape (H, W, 3))")
        if (h, w) != tuple(self.image_shape):
            raise ValueError(f"linear: shape {(h, w)} differs from the fitted image_shape {tuple(self.image_shape)}")
        method = FIT_METHODS[self.model]
        root = None
        if codes is not None:
            table = _tone_image(srgb_to_linear(np.arange(256 if codes.dtype == np.uint8 else 65536, dtype=codes.dtype)),
                                self.tone)
            cam = _look_up(codes, table)
            if method.n_features == 6:  # the square root of each code's value, looked up too
                root = _look_up(codes, np.sqrt(np.maximum(table, np.float32(0.0))))
        elif linear is not None:
            cam = _tone_image(linear, self.tone)
        out = method.apply_image(np.ascontiguousarray(cam, dtype=np.float32), self.matrix.astype(np.float32), root)
        rows = out.reshape(h, w * 3)  # a view: channels side by side, one light value each
        a, b = self.illumination
        if a != 0.0 or b != 0.0:
            u, v = normalised_coordinates((h, w))
            # The light field, summed in float64 and stored in float32, built at the image's
            # (H, 3W) layout so one division serves all channels.
            # The root image, used up by then, holds it when there is one.
            light = root.reshape(h, w * 3) if root is not None else np.empty((h, w * 3), dtype=np.float32)
            np.add(np.repeat(1.0 + a * u, 3)[None, :], (b * v)[:, None], out=light, casting="unsafe")
            np.maximum(light, np.float32(0.05), out=light)
            cv2.divide(rows, light, dst=rows)
        np.maximum(rows, np.float32(0.0), out=rows)
        return out

    def apply_to_patches(self, patch_linear: np.ndarray, centres_px: np.ndarray) -> np.ndarray:
        """Corrected linear RGB of individual colours at given image positions, shape (N, 3)."""
        patch_linear = np.asarray(patch_linear, dtype=np.float64).reshape(-1, 3)
        out = _features(_tone(patch_linear, self.tone), self.model) @ self.matrix.T
        u, v = patch_uv(np.asarray(centres_px, dtype=np.float64), self.image_shape)
        a, b = self.illumination
        return out / np.maximum(1.0 + a * u + b * v, 0.05)[:, None]


# ----------------------------------------------------------------------------- fit


def _features(rgb: np.ndarray, model: str) -> np.ndarray:
    return FIT_METHODS[model].features(rgb)


def _look_up(codes: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``table[codes]`` (float32), with OpenCV's table look-up for 8-bit codes."""
    return cv2.LUT(codes, table) if codes.dtype == np.uint8 else table[codes]


def _tone_image(x: np.ndarray, tone: tuple[float, float]) -> np.ndarray:
    """:func:`_tone` in float32 with OpenCV's vectorised log and exp (any shape)."""
    gamma, curvature = tone
    if gamma == 1.0 and curvature == 0.0:
        return x
    flat = np.maximum(np.ascontiguousarray(x, dtype=np.float32).reshape(-1), np.float32(_TONE_FLOOR))
    t = cv2.log(flat).reshape(-1)
    exponent = t * np.float32(curvature)
    exponent += np.float32(gamma)
    exponent *= t
    return cv2.exp(exponent).reshape(np.shape(x))


def _tone(x: np.ndarray, tone: tuple[float, float]) -> np.ndarray:
    """Shared linearising curve exp(g*t + k*t^2), t = ln x: undoes a camera's tone curve."""
    gamma, curvature = tone
    if gamma == 1.0 and curvature == 0.0:
        return x
    t = np.log(np.maximum(x, _TONE_FLOOR))
    return np.exp(gamma * t + curvature * t * t).astype(x.dtype, copy=False)


class _Problem:
    """The weighted linear least squares for M (and a, b) of one set of patches, prepared once.

    The tone search solves it a hundred times or more with new camera values: the
    light-term columns, the right-hand side and the weights do not change.
    """

    def __init__(self, ref: np.ndarray, u: np.ndarray, v: np.ndarray, model: str, weights: np.ndarray) -> None:
        n = len(ref)
        self.model = model
        self.nf = FIT_METHODS[model].n_features
        self.planar = FIT_METHODS[model].planar
        self.rows = np.zeros((n * 3, 3 * self.nf + (2 if self.planar else 0)))
        self.rhs = np.zeros(n * 3)
        for c in range(3):
            r = slice(c * n, (c + 1) * n)
            if self.planar:
                self.rows[r, 3 * self.nf] = -u * ref[:, c]
                self.rows[r, 3 * self.nf + 1] = -v * ref[:, c]
            self.rhs[r] = ref[:, c]
        self.wt = np.tile(weights, 3)
        self.rhs_weighted = self.rhs * self.wt

    def solve(self, cam: np.ndarray) -> tuple[np.ndarray, tuple[float, float], np.ndarray]:
        """Matrix, (a, b) and weighted residuals for camera values ``cam``, shape (N, 3)."""
        feats = _features(cam, self.model)
        n, nf = len(cam), self.nf
        rows = self.rows
        for c in range(3):
            rows[c * n : (c + 1) * n, c * nf : (c + 1) * nf] = feats
        sol, *_ = np.linalg.lstsq(rows * self.wt[:, None], self.rhs_weighted, rcond=None)
        matrix = sol[: 3 * nf].reshape(3, nf)
        ab = (float(sol[3 * nf]), float(sol[3 * nf + 1])) if self.planar else (0.0, 0.0)
        return matrix, ab, (rows @ sol - self.rhs) * self.wt


def _fit_tone(
    cam: np.ndarray, problem: _Problem, tone_model: str
) -> tuple[float, float]:
    """Variable projection: the tone parameters outside, the linear solve inside."""
    curve = TONE_METHODS[tone_model]
    if curve.n_params == 0:
        return (1.0, 0.0)
    x0, lo, hi = list(curve.start), list(curve.lower), list(curve.upper)
    log_cam = np.log(np.maximum(cam, _TONE_FLOOR))  # what _tone takes the curve of, once

    def as_tone(p: np.ndarray) -> tuple[float, float]:
        return (float(p[0]), float(p[1]) if len(p) > 1 else 0.0)

    def residuals(p: np.ndarray) -> np.ndarray:
        gamma, curvature = as_tone(p)
        toned = cam if gamma == 1.0 and curvature == 0.0 else np.exp(
            gamma * log_cam + curvature * log_cam * log_cam).astype(cam.dtype, copy=False)
        return problem.solve(toned)[2]

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
    planar = FIT_METHODS[model].planar
    curve = TONE_METHODS[tone_model]
    n_tone = curve.n_params
    x0 = np.r_[matrix.ravel(), list(ab) if planar else [], list(tone)[:n_tone]]
    lo = np.r_[np.full(3 * nf, -np.inf), [-0.6, -0.6] if planar else [], list(curve.lower)]
    hi = np.r_[np.full(3 * nf, np.inf), [0.6, 0.6] if planar else [], list(curve.upper)]
    x0 = np.clip(x0, lo + 1e-9, hi - 1e-9)

    def unpack(x: np.ndarray) -> tuple[np.ndarray, tuple[float, float], tuple[float, float]]:
        m = x[: 3 * nf].reshape(3, nf)
        k = 3 * nf
        ab_ = (float(x[k]), float(x[k + 1])) if planar else (0.0, 0.0)
        k += 2 if planar else 0
        tone_ = (float(x[k]) if n_tone else 1.0, float(x[k + 1]) if n_tone == 2 else 0.0)
        return m, ab_, tone_

    def residuals(x: np.ndarray) -> np.ndarray:
        m, ab_, tone_ = unpack(x)
        pred = _features(_tone(cam, tone_), model) @ m.T
        pred /= np.maximum(1.0 + ab_[0] * u + ab_[1] * v, 0.05)[:, None]
        return delta_e_2000(linear_to_lab_unclipped(pred), ref_lab) * weights

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
    validate_method(model, FIT_METHODS, argument="model")
    validate_method(tone, TONE_METHODS, argument="tone")
    validate_method(objective, OBJECTIVES, argument="objective")
    if len(image_shape) < 2 or int(image_shape[0]) < 1 or int(image_shape[1]) < 1:
        raise ValueError(f"image_shape: expected (H, W) with positive sizes, got {image_shape}")
    shape = (int(image_shape[0]), int(image_shape[1]))
    return fit_patches(
        detection.patch_linear, detection.patch_centres, ~np.asarray(detection.patch_clipped, dtype=bool), shape,
        model=model, tone=tone, objective=objective,
    )


def fit_patches(
    patch_linear: np.ndarray,
    centres: np.ndarray,
    use: np.ndarray,
    shape: tuple[int, int],
    *,
    model: str,
    tone: str,
    objective: str,
) -> ColourCorrection:
    nf = FIT_METHODS[model].n_features
    min_patches = nf + 3 + (2 if TONE_METHODS[tone].n_params else 0)
    if use.sum() < min_patches:
        raise ValueError(
            f"detection: only {int(use.sum())} usable patches, the {model!r} fit needs at least {min_patches}"
        )
    cam = patch_linear[use]
    ref = REFERENCE_LINEAR[use]
    u, v = patch_uv(centres[use], shape)
    # Relative (not absolute) residuals: dark patches matter as much to the eye as light ones.
    weights = 1.0 / np.sqrt(ref.mean(axis=1) + 0.05)
    problem = _Problem(ref, u, v, model, weights)
    tone_params = _fit_tone(cam, problem, tone)
    matrix, ab, _ = problem.solve(_tone(cam, tone_params))
    fallback = FIT_METHODS[model].without_planar
    if fallback is not None and abs(ab[0]) + abs(ab[1]) >= _MAX_GRADIENT:
        model = fallback
        problem = _Problem(ref, u, v, model, weights)
        tone_params = _fit_tone(cam, problem, tone)
        matrix, ab, _ = problem.solve(_tone(cam, tone_params))
    if objective == "delta_e":
        matrix, ab, tone_params = _polish(
            cam, REFERENCE_LAB[use], u, v, model, matrix, ab, tone_params, tone, np.ones(len(cam))
        )
    corr = ColourCorrection(
        matrix=matrix, illumination=ab, delta_e_mean=0.0, delta_e_max=0.0, patches_used=int(use.sum()),
        model=model, image_shape=shape, tone=tone_params,
    )
    pred = corr.apply_to_patches(patch_linear, centres)
    de = np.where(use, delta_e_2000(linear_to_lab_unclipped(pred), REFERENCE_LAB), np.nan)
    return replace(corr, delta_e_mean=float(np.nanmean(de)), delta_e_max=float(np.nanmax(de)), patch_delta_e=de)
