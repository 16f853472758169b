"""Skin texture from colour-corrected linear RGB: roughness, lines and pores.

Everything works on a log high-pass image, ln(luminance) minus a large blur of
it: a multiplicative light or exposure change becomes an additive constant and
cancels, and slow shading across the face is removed. Sizes are in mm and
converted with the working scale, so a photo resampled to a slightly different
scale reads the same.

Lines are dark valleys of the log image. Their strength comes from the
scale-normalised Hessian, sigma^2 * (lambda_1 - |lambda_2|), minus the
scale-normalised slope sigma * |grad|: linear in the valley's depth (so a
shallower line reads lower, not only "fewer lines"), zero on round blobs such
as pores and on the foot of a step such as a spot's rim, and the maximum over
a few scales makes it insensitive to a few percent of scale change. The skin's
micro-relief also has valleys, short and in every direction; weighting by the
orientation coherence of the structure tensor (about 1 along a line, 0.2-0.4
on micro-relief) to the power 1.5 keeps line density about lines. On the
simulator's close-ups with its default five lines, 30 % shallower lines read
26-37 % lower (15-28 % with two short lines, where the micro-relief floor
weighs more; 35-41 % with nine), repeat captures (other noise and exposure)
move it by < 1 % and a 0.95x rescale by ~1.5 %. Without the coherence weight
the micro-relief swamped the lines (-4 %).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from tracker.analysis.boxes import region_box
from tracker.analysis.checks import check_linear_rgb, check_px_per_mm, check_region
from tracker.analysis.hair import without_hair

#: Scale assumed when the caller does not know it, px per mm (as for spots).
ASSUMED_PX_PER_MM: float = 15.0

#: Below this share of the region free of hair, texture is read over the whole region (hair filled).
MIN_HAIRLESS_SHARE: float = 0.25

#: Texture is computed at no more than this scale, px per mm: fine enough for
#: 0.1 mm lines and pores, and it bounds the cost on large photos.
MAX_WORK_PX_PER_MM: float = 12.0

#: Below this scale pores (0.1-0.5 mm) are not resolved: pore_count is None.
MIN_PORE_PX_PER_MM: float = 8.0

#: The high-pass keeps detail smaller than this, mm (Gaussian sigma of the removed blur).
HIGHPASS_SIGMA_MM: float = 1.5

#: Line scales, Gaussian sigma in mm (fine lines to shallow wrinkles; finer
#: valleys are the skin's micro-relief, which roughness reports).
LINE_SIGMAS_MM: tuple[float, ...] = (0.15, 0.22, 0.33)

#: Structure tensor for the orientation coherence: gradient and integration sigma, mm.
COHERENCE_GRADIENT_MM: float = 0.15
COHERENCE_WINDOW_MM: float = 0.5
COHERENCE_POWER: float = 1.5

#: Margin kept around the region's bounding box, mm: beyond the reach of the widest
#: filter (the coherence window, 4 sigma = 2 mm) the frame is not looked at.
BOX_MARGIN_MM: float = 2.5

#: Pores are sought at no more than this scale, px per mm (0.1 mm pits need it).
MAX_PORE_PX_PER_MM: float = 16.0

#: Pore scales, Gaussian sigma in mm (pits of about 0.1-0.4 mm across).
PORE_SIGMAS_MM: tuple[float, ...] = (0.04, 0.06, 0.09)

#: A pore is a dark round dip at least this deep in scale-normalised LoG, ln
#: units (~10 % darker at its centre). Micro-relief stays below it: on the
#: simulator's skin at 20 px/mm this finds ~95 % of the pits, 70 % precision.
PORE_MIN_RESPONSE: float = 0.1

#: A pore is round: smaller / larger Hessian eigenvalue at its centre.
PORE_MIN_ROUNDNESS: float = 0.3


@dataclass(frozen=True)
class TextureMeasure:
    """Texture of the skin inside a region.

    Attributes
    ----------
    roughness : float
        Standard deviation of the log high-pass image (detail finer than
        ~1.5 mm: relief, pores, lines, fine pigment) inside the region at 12
        px/mm, ln units (0.01 ~ 1 % luminance contrast). Exposure-independent.
    line_density : float
        Mean line strength over the region, ln units (about 0.0005-0.003
        on close-ups): the scale-normalised valley curvature
        (proportional to line depth) weighted by orientation coherence, averaged over all region pixels, so fewer *or* shallower
        lines both read lower. Skin without lines keeps a floor from its
        micro-relief (about 0.3-0.5e-3 on the simulator's skin).
    pore_count : int or None
        Number of dark round pits (about 0.1-0.4 mm) in the region, found at
        min(px_per_mm, 16) px/mm; None when the scale is unknown or coarser
        than 8 px/mm. Small pits fall below resolution at coarse scales, so
        counts are comparable only at a common scale.
    pore_reason : str or None
        Why ``pore_count`` is None.
    line_map : ndarray, shape (H, W), float32
        Line strength per pixel (the quantity ``line_density`` averages), ln
        units, at the input size (for the overlay); 0 outside the region.
    pores_per_cm2 : float or None
        Pore density over the region, per cm^2; None with ``pore_count``.
    px_per_mm_used : float
        Scale the sizes were derived from (15 when ``px_per_mm`` was None).
    hair_mask : ndarray, shape (H, W), bool, or None
        Hair found on the skin (:mod:`tracker.analysis.hair`), filled with the skin around it
        before roughness and lines were measured, at the input size; None when not sought.
    """

    roughness: float
    line_density: float
    pore_count: int | None
    pore_reason: str | None
    line_map: np.ndarray = field(repr=False)
    pores_per_cm2: float | None = None
    px_per_mm_used: float = ASSUMED_PX_PER_MM
    hair_mask: np.ndarray | None = field(default=None, repr=False)


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
    low: np.ndarray = blur_v / np.maximum(blur_w, 1e-6)
    low = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR)
    highpass = np.subtract(log_lum, low, out=low)
    highpass[~region] = 0.0
    return highpass


_D2 = np.array([1.0, -2.0, 1.0], np.float32)
_D1 = np.array([-0.5, 0.0, 0.5], np.float32)
_ONE = np.array([1.0], np.float32)


def _eigen(dxx: np.ndarray, dyy: np.ndarray, dxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hessian eigenvalues, larger first."""
    half_tr = 0.5 * (dxx + dyy)
    root = np.sqrt(0.25 * (dxx - dyy) ** 2 + dxy**2)
    return half_tr + root, half_tr - root


def ridge_strength(highpass: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Depth-weighted dark-line strength, max over :data:`LINE_SIGMAS_MM`, ln units."""
    border = cv2.BORDER_REFLECT
    best = np.zeros_like(highpass)
    # One set of whole-image buffers for every scale: in the worker each fresh one is
    # mapped and page-faulted in (glibc's 4 MB mmap threshold), which cost more than the filters.
    smooth, dxx, dyy, dxy, gx, gy, trace = (np.empty_like(highpass) for _ in range(7))
    for sigma_mm in LINE_SIGMAS_MM:
        sigma = sigma_mm * px_per_mm
        cv2.GaussianBlur(highpass, (0, 0), sigma, dst=smooth, borderType=border)
        cv2.sepFilter2D(smooth, cv2.CV_32F, _D2, _ONE, dst=dxx, borderType=border)
        cv2.sepFilter2D(smooth, cv2.CV_32F, _ONE, _D2, dst=dyy, borderType=border)
        cv2.sepFilter2D(smooth, cv2.CV_32F, _D1, _D1, dst=dxy, borderType=border)
        cv2.sepFilter2D(smooth, cv2.CV_32F, _D1, _ONE, dst=gx, borderType=border)
        cv2.sepFilter2D(smooth, cv2.CV_32F, _ONE, _D1, dst=gy, borderType=border)
        grad = cv2.magnitude(gx, gy, magnitude=smooth)
        # Dark valley: strong positive curvature across, little along. The
        # slope term cancels the foot of a step (a spot's rim, a shadow's
        # edge), where curvature comes with a slope; a valley floor is flat.
        # With eigenvalues l1 >= l2, l1 - |l2| = min(l1 - l2, l1 + l2): no eigen split needed.
        np.add(dxx, dyy, out=trace)
        spread = cv2.magnitude(np.subtract(dxx, dyy, out=dxx), np.multiply(dxy, 2.0, out=dxy), magnitude=gx)  # l1 - l2
        response = np.minimum(spread, trace, out=spread)
        response *= np.float32(sigma**2)
        response -= np.multiply(grad, np.float32(sigma), out=grad)
        np.maximum(best, response, out=best)
    return best


def orientation_coherence(highpass: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Structure-tensor coherence in [0, 1]: 1 where all gradients share one direction.

    The tensor's integration window (:data:`COHERENCE_WINDOW_MM`, several px) is smooth,
    so when it is wide enough the tensor is averaged 2x2, integrated at half size and
    the coherence brought back bilinearly: three wide blurs on a quarter of the pixels.
    """
    border = cv2.BORDER_REFLECT
    smooth = cv2.GaussianBlur(highpass, (0, 0), max(0.5, COHERENCE_GRADIENT_MM * px_per_mm), borderType=border)
    gx = cv2.sepFilter2D(smooth, cv2.CV_32F, _D1, _ONE, borderType=border)
    gy = cv2.sepFilter2D(smooth, cv2.CV_32F, _ONE, _D1, borderType=border)
    window = COHERENCE_WINDOW_MM * px_per_mm
    h, w = highpass.shape
    half = window >= 4.0 and min(h, w) >= 16
    products = [gx * gx, gy * gy, np.multiply(gx, gy, out=smooth)]
    if half:
        size = ((w + 1) // 2, (h + 1) // 2)
        products = [cv2.resize(p, size, interpolation=cv2.INTER_AREA) for p in products]
        window /= 2.0
    # Blurred in place (see ridge_strength on fresh buffers).
    jxx, jyy, jxy = (cv2.GaussianBlur(p, (0, 0), window, dst=p, borderType=border) for p in products)
    energy = np.maximum(jxx + jyy, np.float32(1e-12))
    spread = cv2.magnitude(np.subtract(jxx, jyy, out=jxx), np.multiply(jxy, 2.0, out=jxy))
    coherence = np.divide(spread, energy, out=spread)
    if half:
        return cv2.resize(coherence, (w, h), interpolation=cv2.INTER_LINEAR)
    return coherence


def line_strength(highpass: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Ridge strength weighted by orientation coherence ** :data:`COHERENCE_POWER`, ln units."""
    coherence = orientation_coherence(highpass, px_per_mm)
    if COHERENCE_POWER == 1.5:  # as c * sqrt(c): OpenCV's pow goes through exp and log, four times slower
        weight = np.multiply(coherence, cv2.sqrt(coherence), out=coherence)
    else:
        weight = cv2.pow(coherence, COHERENCE_POWER)
    return np.multiply(ridge_strength(highpass, px_per_mm), weight, out=weight)


def _hessian_at(smooth: np.ndarray, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dxx, dyy, dxy of a smoothed image at a few pixels (flat indices), mirrored at the edge."""
    h, w = smooth.shape
    y, x = np.divmod(flat, w)
    up, down = np.maximum(y - 1, 0), np.minimum(y + 1, h - 1)
    left, right = np.maximum(x - 1, 0), np.minimum(x + 1, w - 1)
    centre = smooth[y, x]
    dxx = smooth[y, left] - 2.0 * centre + smooth[y, right]
    dyy = smooth[up, x] - 2.0 * centre + smooth[down, x]
    dxy = 0.25 * ((smooth[down, right] - smooth[down, left]) - (smooth[up, right] - smooth[up, left]))
    return dxx, dyy, dxy


def count_pores(highpass: np.ndarray, region: np.ndarray, px_per_mm: float) -> int:
    """Dark round blobs of 0.1-0.5 mm: scale-normalised LoG maxima that are round enough."""
    border = cv2.BORDER_REFLECT
    smooths = [cv2.GaussianBlur(highpass, (0, 0), sigma_mm * px_per_mm, borderType=border) for sigma_mm in PORE_SIGMAS_MM]
    # LoG response per scale (one 3x3 Laplacian pass each); the full Hessian is needed
    # only at the few candidate pixels below.
    responses = [cv2.Laplacian(smooth, cv2.CV_32F, ksize=1, borderType=border) for smooth in smooths]
    for sigma_mm, response in zip(PORE_SIGMAS_MM, responses, strict=True):
        np.multiply(response, np.float32((sigma_mm * px_per_mm) ** 2), out=response)
    best = np.maximum(responses[0], responses[1])
    for response in responses[2:]:
        np.maximum(best, response, out=best)
    radius = max(1, int(round(min(PORE_SIGMAS_MM) * px_per_mm * 1.5)))
    local_max = best >= cv2.dilate(best, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2))
    # The winning scale and the roundness (l2 / l1 there) only where a pore is still
    # possible: a few thousand pixels instead of every pixel at every scale. argmax
    # takes the finest of equal responses.
    where = np.flatnonzero(local_max & (best >= PORE_MIN_RESPONSE) & region)
    scale_of = np.argmax(np.stack([r.reshape(-1)[where] for r in responses]), axis=0)
    round_enough = 0
    for k, smooth in enumerate(smooths):
        l1, l2 = _eigen(*_hessian_at(smooth, where[scale_of == k]))
        round_enough += int(np.count_nonzero(l2 / np.maximum(l1, 1e-12) >= PORE_MIN_ROUNDNESS))
    return round_enough


def _at_scale(log_lum: np.ndarray, region: np.ndarray, px_per_mm: float, target_px_per_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """The log image (area average) and region resampled to ``target_px_per_mm`` when coarser."""
    if target_px_per_mm >= px_per_mm:
        return log_lum, region
    h, w = region.shape
    size = (max(1, round(w * target_px_per_mm / px_per_mm)), max(1, round(h * target_px_per_mm / px_per_mm)))
    small = cv2.resize(log_lum, size, interpolation=cv2.INTER_AREA)
    # A pixel belongs to the region when it is mostly inside, the mask sampled bilinearly
    # (an area average of a whole-frame mask cost as much as the image's).
    mask = region.view(np.uint8) * np.uint8(255)
    small_region = cv2.resize(mask, size, interpolation=cv2.INTER_LINEAR) >= 128
    if not small_region.any():
        small_region = cv2.resize(mask, size, interpolation=cv2.INTER_AREA) > 0
    return small, small_region


def measure_texture(
    linear: np.ndarray, region: np.ndarray, *, px_per_mm: float | None, fill_hair: bool = True
) -> TextureMeasure:
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
    fill_hair : bool
        Find dark hair in the region and fill it with the skin around it before measuring
        (:mod:`tracker.analysis.hair`); its pixels are left out of the figures.

    Returns
    -------
    TextureMeasure
        Roughness and lines are computed at ``min(px_per_mm, 12)`` px/mm,
        pores at ``min(px_per_mm, 16)``; ``line_map`` is returned at the
        input size.
    """
    linear = check_linear_rgb(linear)
    region = check_region(region, linear.shape[:2])
    check_px_per_mm(px_per_mm)
    full_region = region
    ppm = ASSUMED_PX_PER_MM if px_per_mm is None else float(px_per_mm)
    # Only the region's bounding box, with a margin beyond every filter's reach, is
    # worked on: a face's area or a treated patch is often a small part of the frame.
    box = region_box(region, margin_px=BOX_MARGIN_MM * ppm)
    linear, region = linear[box], region[box]
    h, w = region.shape

    lum = cv2.transform(linear, np.array([[0.2126, 0.7152, 0.0722]], np.float32))
    log_lum = cv2.log(np.maximum(lum, np.float32(1e-4), out=lum), dst=lum).reshape(h, w)

    line_ppm = min(ppm, MAX_WORK_PX_PER_MM)
    log_line, region_line = _at_scale(log_lum, region, ppm, line_ppm)
    # Hair is a thin dark line too: filled with the skin around it, it reads as neither lines nor roughness.
    hair = None
    if fill_hair:
        log_line, hair = without_hair(log_line, line_ppm, inside=region_line)
    highpass = log_highpass(log_line, region_line, HIGHPASS_SIGMA_MM * line_ppm)
    # The skin under a hair is unseen: its filled pixels are left out of the figures (counted in,
    # they would dilute lines and roughness by the hair's share), unless hair hides most of the skin.
    measured = region_line
    if hair is not None and hair.any():
        hairless = region_line & ~hair
        if np.count_nonzero(hairless) >= MIN_HAIRLESS_SHARE * np.count_nonzero(region_line):
            measured = hairless
    _, std = cv2.meanStdDev(highpass, mask=measured.view(np.uint8))
    roughness = float(std[0, 0])
    lines = line_strength(highpass, line_ppm)
    lines[~region_line] = 0.0
    line_density = float(cv2.mean(lines, mask=measured.view(np.uint8))[0])

    pores_per_cm2 = None
    if px_per_mm is None:
        pore_count, reason = None, "scale unknown: pores need a known px_per_mm"
    elif ppm < MIN_PORE_PX_PER_MM:
        pore_count = None
        reason = f"scale {ppm:.1f} px/mm is below {MIN_PORE_PX_PER_MM:.0f} px/mm: pores are not resolved"
    else:
        pore_ppm = min(ppm, MAX_PORE_PX_PER_MM)
        log_pore, region_pore = _at_scale(log_lum, region, ppm, pore_ppm)
        pore_highpass = log_highpass(log_pore, region_pore, HIGHPASS_SIGMA_MM * pore_ppm)
        pore_count, reason = count_pores(pore_highpass, region_pore, pore_ppm), None
        pores_per_cm2 = pore_count / (float(np.count_nonzero(region_pore)) / pore_ppm**2 / 100.0)

    if lines.shape != (h, w):
        lines = cv2.resize(lines, (w, h), interpolation=cv2.INTER_LINEAR)
        lines[~region] = 0.0
    if lines.shape == full_region.shape:
        line_map = lines  # already 0 outside the region
    else:
        line_map = np.zeros(full_region.shape, np.float32)
        line_map[box] = lines
    hair_mask = None
    if hair is not None:  # sought (close-ups): the mask at the input size
        if hair.shape != (h, w):
            hair = cv2.resize(hair.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).view(bool)
        hair_mask = np.zeros(full_region.shape, bool)
        hair_mask[box] = hair & region  # (hair is already inside the region at the line scale)
    return TextureMeasure(
        roughness=roughness,
        line_density=line_density,
        pore_count=pore_count,
        pore_reason=reason,
        line_map=line_map,
        pores_per_cm2=pores_per_cm2,
        px_per_mm_used=ppm,
        hair_mask=hair_mask,
    )
