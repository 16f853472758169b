"""Skin texture from colour-corrected linear RGB: roughness, lines and pores.

Everything works on a log high-pass image, ln(luminance) minus a large blur of
it: a multiplicative light or exposure change becomes an additive constant and
cancels, and slow shading across the face is removed. Sizes are in mm and
converted with the working scale, so a photo resampled to a slightly different
scale reads the same.

Lines are dark valleys of the log image. Their strength comes from the
scale-normalised Hessian, sigma^2 * (lambda_1 - |lambda_2|) where positive:
linear in the valley's depth (so a shallower line reads proportionally lower,
not only "fewer lines"), zero on round blobs such as pores, and the maximum
over a few scales makes it insensitive to a few percent of scale change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

#: Scale assumed when the caller does not know it, px per mm (as for spots).
ASSUMED_PX_PER_MM: float = 15.0

#: Texture is computed at no more than this scale, px per mm: fine enough for
#: 0.1 mm lines and pores, and it bounds the cost on large photos.
MAX_WORK_PX_PER_MM: float = 12.0

#: Below this scale pores (0.1-0.5 mm) are not resolved: pore_count is None.
MIN_PORE_PX_PER_MM: float = 8.0

#: The high-pass keeps detail smaller than this, mm (Gaussian sigma of the removed blur).
HIGHPASS_SIGMA_MM: float = 1.5

#: Line scales, Gaussian sigma in mm (fine lines to shallow wrinkles).
LINE_SIGMAS_MM: tuple[float, ...] = (0.08, 0.12, 0.18, 0.27)

#: Pore scales, Gaussian sigma in mm (pore radius ~ sigma * sqrt(2): 0.1-0.25 mm).
PORE_SIGMAS_MM: tuple[float, ...] = (0.07, 0.1, 0.14, 0.18)

#: A pore is a dark round dip at least this deep in scale-normalised LoG, ln units.
PORE_MIN_RESPONSE: float = 0.015

#: A pore is round: smaller / larger Hessian eigenvalue at its centre.
PORE_MIN_ROUNDNESS: float = 0.4


@dataclass(frozen=True)
class TextureMeasure:
    """Texture of the skin inside a region.

    Attributes
    ----------
    roughness : float
        Standard deviation of the log high-pass image inside the region, ln
        units (0.01 ~ 1 % luminance contrast). Exposure-independent.
    line_density : float
        Mean ridge strength over the region, ln units: the scale-normalised
        valley curvature, proportional to line depth, averaged over all
        region pixels (so fewer *or* shallower lines both read lower).
    pore_count : int or None
        Number of dark round blobs (0.1-0.5 mm) in the region; None when the
        scale is unknown or coarser than 8 px/mm.
    pore_reason : str or None
        Why ``pore_count`` is None.
    line_map : ndarray, shape (H, W), float32
        Ridge strength per pixel, ln units, at the input size (for the overlay);
        0 outside the region.
    pores_per_cm2 : float or None
        Pore density over the region, per cm^2; None with ``pore_count``.
    px_per_mm_used : float
        Scale the sizes were derived from (15 when ``px_per_mm`` was None).
    """

    roughness: float
    line_density: float
    pore_count: int | None
    pore_reason: str | None
    line_map: np.ndarray = field(repr=False)
    pores_per_cm2: float | None = None
    px_per_mm_used: float = ASSUMED_PX_PER_MM


def _check_inputs(linear: np.ndarray, region: np.ndarray, px_per_mm: float | None) -> None:
    if not isinstance(linear, np.ndarray):
        raise TypeError(f"linear must be a numpy array, got {type(linear).__name__}")
    if linear.ndim != 3 or linear.shape[2] != 3:
        raise ValueError(f"linear must have shape (H, W, 3), got {linear.shape}")
    if not np.issubdtype(linear.dtype, np.floating):
        raise TypeError(f"linear must be a float array in [0, 1], got dtype {linear.dtype}")
    if not isinstance(region, np.ndarray) or region.dtype != bool:
        raise TypeError("region must be a boolean numpy array")
    if region.shape != linear.shape[:2]:
        raise ValueError(f"region must have shape {linear.shape[:2]}, got {region.shape}")
    if not region.any():
        raise ValueError("region is empty: no pixel to measure")
    if px_per_mm is not None and not (np.isfinite(px_per_mm) and px_per_mm > 0):
        raise ValueError(f"px_per_mm must be positive or None, got {px_per_mm}")


def log_highpass(log_lum: np.ndarray, region: np.ndarray, sigma_px: float) -> np.ndarray:
    """ln-luminance minus its region-normalised large blur (estimated at reduced scale)."""
    h, w = log_lum.shape
    weight = region.astype(np.float32)
    factor = max(1.0, sigma_px / 4.0)
    size = (max(1, round(w / factor)), max(1, round(h / factor)))
    small_v = cv2.resize(log_lum * weight, size, interpolation=cv2.INTER_AREA)
    small_w = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
    s = sigma_px / factor
    # Normalised convolution: the blur of the region only, so the edge of the
    # region does not read as texture.
    blur_v = cv2.GaussianBlur(small_v, (0, 0), s, borderType=cv2.BORDER_REFLECT)
    blur_w = cv2.GaussianBlur(small_w, (0, 0), s, borderType=cv2.BORDER_REFLECT)
    low = blur_v / np.maximum(blur_w, 1e-6)
    low = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.where(region, log_lum - low, 0.0).astype(np.float32)


_D2 = np.array([1.0, -2.0, 1.0], np.float32)
_D1 = np.array([-0.5, 0.0, 0.5], np.float32)
_ONE = np.array([1.0], np.float32)


def _hessian(image: np.ndarray, sigma_px: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    smooth = cv2.GaussianBlur(image, (0, 0), sigma_px, borderType=cv2.BORDER_REFLECT)
    border = cv2.BORDER_REFLECT
    dxx = cv2.sepFilter2D(smooth, cv2.CV_32F, _D2, _ONE, borderType=border)
    dyy = cv2.sepFilter2D(smooth, cv2.CV_32F, _ONE, _D2, borderType=border)
    dxy = cv2.sepFilter2D(smooth, cv2.CV_32F, _D1, _D1, borderType=border)
    return dxx, dyy, dxy


def _eigen(dxx: np.ndarray, dyy: np.ndarray, dxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hessian eigenvalues, larger first."""
    half_tr = 0.5 * (dxx + dyy)
    root = np.sqrt(0.25 * (dxx - dyy) ** 2 + dxy**2)
    return half_tr + root, half_tr - root


def ridge_strength(highpass: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Depth-weighted dark-line strength, max over :data:`LINE_SIGMAS_MM`, ln units."""
    best = np.zeros_like(highpass)
    for sigma_mm in LINE_SIGMAS_MM:
        sigma = sigma_mm * px_per_mm
        l1, l2 = _eigen(*_hessian(highpass, sigma))
        # Dark valley: strong positive curvature across, little along.
        response = sigma**2 * np.maximum(l1 - np.abs(l2), 0.0)
        np.maximum(best, response, out=best)
    return best


def count_pores(highpass: np.ndarray, region: np.ndarray, px_per_mm: float) -> int:
    """Dark round blobs of 0.1-0.5 mm: scale-normalised LoG maxima that are round enough."""
    best = np.full(highpass.shape, -np.inf, np.float32)
    roundness = np.zeros_like(highpass)
    for sigma_mm in PORE_SIGMAS_MM:
        sigma = sigma_mm * px_per_mm
        dxx, dyy, dxy = _hessian(highpass, sigma)
        log_resp = sigma**2 * (dxx + dyy)
        l1, l2 = _eigen(dxx, dyy, dxy)
        better = log_resp > best
        best = np.where(better, log_resp, best)
        roundness = np.where(better, l2 / np.maximum(l1, 1e-12), roundness)
    radius = max(1, int(round(min(PORE_SIGMAS_MM) * px_per_mm * 1.5)))
    local_max = best >= cv2.dilate(best, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2))
    pores = local_max & (best >= PORE_MIN_RESPONSE) & (roundness >= PORE_MIN_ROUNDNESS) & region
    return int(pores.sum())


def measure_texture(linear: np.ndarray, region: np.ndarray, *, px_per_mm: float | None) -> TextureMeasure:
    """Roughness, line density and pore count of the skin in ``region``.

    Parameters
    ----------
    linear : ndarray, shape (H, W, 3), float
        Colour-corrected linear-light RGB in [0, 1].
    region : ndarray, shape (H, W), bool
        Pixels to measure; must not be empty.
    px_per_mm : float or None
        Working scale, px per mm. None assumes 15 px/mm for the filter sizes
        (the pipeline records it) and leaves ``pore_count`` None.

    Returns
    -------
    TextureMeasure
        Computed at ``min(px_per_mm, 12)`` px/mm; ``line_map`` is returned at
        the input size.
    """
    _check_inputs(linear, region, px_per_mm)
    linear = linear.astype(np.float32, copy=False)
    h, w = region.shape
    ppm = ASSUMED_PX_PER_MM if px_per_mm is None else float(px_per_mm)

    lum = linear @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    log_lum = np.log(np.maximum(lum, 1e-4))
    work_ppm = min(ppm, MAX_WORK_PX_PER_MM)
    if work_ppm < ppm:
        size = (max(1, round(w * work_ppm / ppm)), max(1, round(h * work_ppm / ppm)))
        log_lum = cv2.resize(log_lum, size, interpolation=cv2.INTER_AREA)
        region_w = cv2.resize(region.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
        if not region_w.any():
            region_w = cv2.resize(region.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
    else:
        region_w = region

    highpass = log_highpass(log_lum, region_w, HIGHPASS_SIGMA_MM * work_ppm)
    roughness = float(highpass[region_w].astype(np.float64).std())
    ridges = ridge_strength(highpass, work_ppm)
    ridges[~region_w] = 0.0
    line_density = float(ridges[region_w].astype(np.float64).mean())

    if px_per_mm is None:
        pore_count, reason = None, "scale unknown: pores need a known px_per_mm"
    elif ppm < MIN_PORE_PX_PER_MM:
        pore_count = None
        reason = f"scale {ppm:.1f} px/mm is below {MIN_PORE_PX_PER_MM:.0f} px/mm: pores are not resolved"
    else:
        pore_count, reason = count_pores(highpass, region_w, work_ppm), None
    pores_per_cm2 = None
    if pore_count is not None:
        pores_per_cm2 = pore_count / (float(region_w.sum()) / work_ppm**2 / 100.0)

    line_map = ridges if ridges.shape == (h, w) else cv2.resize(ridges, (w, h), interpolation=cv2.INTER_LINEAR)
    line_map = np.where(region, line_map, 0.0).astype(np.float32)
    return TextureMeasure(
        roughness=roughness,
        line_density=line_density,
        pore_count=pore_count,
        pore_reason=reason,
        line_map=line_map,
        pores_per_cm2=pores_per_cm2,
        px_per_mm_used=ppm,
    )
