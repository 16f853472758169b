"""Pigment spots: find local melanin excesses and outline each at half its own contrast.

Pipeline: melanin map -> small Gaussian ->
grey opening that removes structures thinner than a spot (pores, hairs, fine
lines) -> contrast against the skin background (a median over twice the
largest spot, at reduced scale: a top-hat) -> hysteresis seeds, each local peak
examined in turn -> each spot grown to half of its own contrast above the ring
of skin around it (FWHM; core and ring medians, re-estimated until the outline
settles) -> filters for contrast against the skin's mottling, shape (size,
elongation, solidity, spills along lines cut off) and blob-ness. Outlining each
spot at half *its own* contrast (instead of one absolute threshold) keeps a
fading spot's area while its contrast falls, so fading and shrinking stay
distinguishable.

Measured on the simulator's close-ups (20 px/mm, a dozen 1-4 mm spots of
0.4-0.8 OD, Fitzpatrick II and IV, redness patches, vessels, lines, pores):
count exact, total area +0.5 to +6 % (MI saturates slightly with melanin, so
its half-contrast line sits a little outside the half-OD truth), Dice
0.95-0.98; the same at 15 px/mm; no spot on spot-free skin or after a JPEG
q92 4:2:0 round trip; a spot fading to half its darkness keeps its area within
2-8 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from scipy import ndimage as ndi

from tracker.analysis.checks import check_region
from tracker.analysis.order_stats import median

#: Scale assumed when the caller does not know it, px per mm. Recorded by the
#: pipeline with the result; footprint sizes are derived from it.
ASSUMED_PX_PER_MM: float = 15.0

#: Smoothing of the melanin map before anything else, mm (suppresses pixel noise
#: and JPEG blocking; small against a 0.5 mm spot).
SMOOTH_SIGMA_MM: float = 0.06

#: A grey opening with a disc of this radius, mm, removes dark structures
#: narrower than twice it before spots are sought: pores, hairs, fine lines and
#: the skin's furrows all read as melanin in MI but are thinner than a spot.
CLEAN_RADIUS_MM: float = 0.2

#: Hysteresis thresholds on the melanin contrast above the background, MI units
#: (1 MI ~ 0.02 melanin OD at 500 nm). A spot needs a peak of ``SEED_HIGH_MI``;
#: ``SEED_LOW_MI`` links its body. Raised with the photo's fine noise
#: (``NOISE_K_*`` x the robust noise) so that grain does not seed.
SEED_HIGH_MI: float = 6.0
SEED_LOW_MI: float = 3.0
NOISE_K_HIGH: float = 6.0
NOISE_K_LOW: float = 3.0

#: A spot's plateau must stand this far above the ring of skin around it, MI
#: units, and a multiple of the skin's own mottling (robust std of the
#: contrast map): a "spot" is what stands out of the skin's normal unevenness.
#: The multiple falls from ``MOTTLE_K_SMALL`` for spots up to 1 mm across to
#: ``MOTTLE_K_LARGE`` from 2 mm: chance blobs of mottling are about a mottling
#: cell (~1 mm) wide, and a field holds thousands of cells (on the simulator's
#: type IV skin a 0.94 mm, 3.7 sigma blob was the one false spot at a flat 3.2,
#: while a flat 4.0 lost 2-3 mm spots of 0.41 OD).
MIN_LOCAL_CONTRAST_MI: float = 8.0
MOTTLE_K_SMALL: float = 4.0
MOTTLE_K_LARGE: float = 3.2

#: A spot stands above the *brighter part* of its ring too: its plateau minus
#: the ring's 90th percentile must keep this share of its contrast. Guards
#: against bumps on wide lines and folds (0.57-0.58 in an early simulator);
#: true spots, lines touching them included, score 0.64-0.91 on the
#: simulator's close-ups, the hairy seborrhoeic keratosis PAT_354_1814_619 0.58.
MIN_RING_PROMINENCE: float = 0.5

#: Shape limits: a spot is compact. Hairs and lines are long and thin.
MAX_ELONGATION: float = 3.0     # major / minor axis of the equivalent ellipse
MIN_SOLIDITY: float = 0.7       # area / convex hull area

#: Every outline is opened by a disc of this fraction of the spot's inscribed
#: radius: spills along a line or hair that touches the spot are cut off.
SPILL_FRACTION: float = 0.35

#: A spot is a peak of contrast in both directions: the smaller over the
#: larger curvature at its own scale (see ``_blobness``). Bumps on lines score
#: ~0.1 on the simulator's skin, true spots 0.49 and up, a 3:1 oval ~0.5, the
#: 7 x 3 mm naevus of PAD-UFES-20 PAT_100_393_595 0.62.
MIN_BLOBNESS: float = 0.25

#: Ring of skin around a spot that gives its local background: starts this far
#: out, mm, and is at least ``RING_WIDTH_MM`` wide (or half the spot's radius).
RING_GAP_MM: float = 0.15
RING_WIDTH_MM: float = 0.5

#: Safety bound on the peaks examined in one connected component.
_MAX_PEAKS_PER_COMPONENT = 64

#: Working size of the top-hat background, px across the footprint.
_BACKGROUND_FOOTPRINT_PX = 15


@dataclass(frozen=True)
class SpotProps:
    """One detected spot (for reports and tests).

    Attributes
    ----------
    label : int
        Label in the spot label image, >= 1.
    area_px : int
        Area in working pixels.
    contrast_mi : float
        The spot's contrast: median of its core minus the median of the ring
        of skin around it, MI units.
    mean_contrast_mi : float
        Mean contrast over the spot, MI units.
    centroid_rc : tuple of float
        Centroid (row, column), px.
    """

    label: int
    area_px: int
    contrast_mi: float
    mean_contrast_mi: float
    centroid_rc: tuple[float, float]


def _check_map(melanin_map: np.ndarray) -> np.ndarray:
    if not isinstance(melanin_map, np.ndarray):
        raise TypeError(f"melanin_map must be a numpy array, got {type(melanin_map).__name__}")
    if melanin_map.ndim != 2:
        raise ValueError(f"melanin_map must have shape (H, W), got {melanin_map.shape}")
    if not np.issubdtype(melanin_map.dtype, np.floating):
        raise TypeError(f"melanin_map must be a float array, got dtype {melanin_map.dtype}")
    return melanin_map.astype(np.float32, copy=False)


def _check_scale(px_per_mm: float | None, min_diameter_mm: float, max_diameter_mm: float) -> float:
    if px_per_mm is not None and not (np.isfinite(px_per_mm) and px_per_mm > 0):
        raise ValueError(f"px_per_mm must be positive or None, got {px_per_mm}")
    if not 0 < min_diameter_mm < max_diameter_mm:
        raise ValueError(
            f"min_diameter_mm ({min_diameter_mm}) must be positive and below max_diameter_mm ({max_diameter_mm})"
        )
    return ASSUMED_PX_PER_MM if px_per_mm is None else float(px_per_mm)


def _fill_outside(values: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Replace NaN and out-of-region values by the region median (neutral for a top-hat)."""
    inside = region & np.isfinite(values)
    fill = float(median(values[inside])) if inside.any() else 0.0
    out = np.full(values.shape, fill, np.float32)
    np.copyto(out, values, where=inside)
    return out


def smooth_map(melanin_map: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Gaussian smoothing at :data:`SMOOTH_SIGMA_MM` (map with NaN-free values)."""
    sigma = max(0.6, SMOOTH_SIGMA_MM * px_per_mm)
    return cv2.GaussianBlur(melanin_map, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def clean_map(smoothed: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Grey opening by a disc of :data:`CLEAN_RADIUS_MM`: drops pores, hairs and fine lines."""
    radius = max(1, int(round(CLEAN_RADIUS_MM * px_per_mm)))
    return cv2.morphologyEx(smoothed, cv2.MORPH_OPEN, _disc(radius), borderType=cv2.BORDER_REFLECT)


def tophat_background(cleaned: np.ndarray, px_per_mm: float, max_diameter_mm: float) -> np.ndarray:
    """Skin background under the spots: a median over twice the largest spot, at reduced scale.

    The footprint is twice the largest spot, so spots (a minority of any
    footprint) do not lift it. Running on a copy area-downsampled to ~15 px
    per footprint keeps it fast at any resolution. A median rather than an
    opening (the classic top-hat) puts the background at the typical skin
    level instead of its lowest, so mottling reads as +- contrast and the
    threshold-free pigment load has a small floor.
    """
    h, w = cleaned.shape
    footprint_px = 2.0 * max_diameter_mm * px_per_mm
    factor = max(1.0, footprint_px / _BACKGROUND_FOOTPRINT_PX)
    small_size = (max(1, round(w / factor)), max(1, round(h / factor)))
    small = cv2.resize(cleaned, small_size, interpolation=cv2.INTER_AREA)
    k = int(round(footprint_px / factor)) | 1
    yy, xx = np.mgrid[-(k // 2) : k // 2 + 1, -(k // 2) : k // 2 + 1]
    disc = (xx**2 + yy**2) <= (k // 2) ** 2
    median = ndi.median_filter(small, footprint=disc, mode="reflect")
    # The median is piecewise flat at this scale; a blur of the footprint's size smooths it.
    median = cv2.GaussianBlur(median, (0, 0), k / 4.0, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(median, (w, h), interpolation=cv2.INTER_LINEAR)


def _min_contrast(area_px: float, mottling_mi: float, px_per_mm: float) -> float:
    """Least contrast, MI units, for a spot of this area to stand out of the skin's mottling."""
    diameter_mm = 2.0 * np.sqrt(area_px / np.pi) / px_per_mm
    k = float(np.interp(diameter_mm, [1.0, 2.0], [MOTTLE_K_SMALL, MOTTLE_K_LARGE]))
    return max(MIN_LOCAL_CONTRAST_MI, k * mottling_mi)


def _robust_std(values: np.ndarray) -> float:
    values = values[:: max(1, values.size // 200_000)]
    med = median(values)
    return float(1.4826 * median(np.abs(values - med)))


def _sample_index(region: np.ndarray) -> np.ndarray:
    """Flat indices of the region pixels :func:`_robust_std` keeps, so only those are copied."""
    where = np.flatnonzero(region)
    return where[:: max(1, where.size // 200_000)]


def fine_noise_mi(
    smoothed: np.ndarray, region: np.ndarray, px_per_mm: float, *, sample: np.ndarray | None = None
) -> float:
    """Robust level of fine-scale noise (grain, JPEG) of the map inside the region, MI units."""
    blurred = cv2.GaussianBlur(smoothed, (0, 0), max(1.0, 0.2 * px_per_mm), borderType=cv2.BORDER_REFLECT)
    index = _sample_index(region) if sample is None else sample
    # The detail is needed at the sampled pixels only.
    return _robust_std(smoothed.reshape(-1)[index] - blurred.reshape(-1)[index])


def _disc(radius_px: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius_px + 1, 2 * radius_px + 1))


def _shape_ok(mask: np.ndarray, min_area_px: float, max_area_px: float) -> bool:
    area = np.count_nonzero(mask)
    if area < min_area_px or area > max_area_px:
        return False
    rows, cols = np.nonzero(mask)
    if area >= 5:
        cov = np.cov(np.stack([rows, cols]).astype(np.float64))
        eig = np.linalg.eigvalsh(cov)
        if eig[0] <= 0 or np.sqrt(eig[1] / eig[0]) > MAX_ELONGATION:
            return False
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    # Contour areas run through pixel centres, so small blobs read slightly above 1.
    hull_area = cv2.contourArea(cv2.convexHull(np.concatenate(contours)))
    return bool(area >= MIN_SOLIDITY * hull_area)


def _component_touching(mask: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Connected parts of ``mask`` (holes filled) that touch ``anchor``."""
    n, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(mask)
    keep = np.zeros(n, np.uint8)
    keep[labels[anchor & mask]] = 1
    keep[0] = 0
    if not keep.any():
        return np.zeros_like(mask)
    # Filling the outer contours fills the holes (pores or light flecks inside a spot).
    contours, _ = cv2.findContours(keep[labels], cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros(mask.shape, np.uint8)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled.astype(bool)


def _distance_inside(mask: np.ndarray) -> np.ndarray:
    return cv2.distanceTransform(mask.view(np.uint8), cv2.DIST_L2, 5)


def _around(mask: np.ndarray, margin: int) -> tuple[slice, slice]:
    """Bounding box of ``mask`` grown by ``margin`` px, clipped to the array.

    The 5x5 chamfer distance is at least the chessboard distance and its
    shortest paths stay within the box of their two ends, so distances up to
    ``margin`` from ``mask``, and inside it, are the same computed in this box.
    """
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    h, w = mask.shape
    return (
        slice(max(0, int(rows[0]) - margin), min(h, int(rows[-1]) + margin + 1)),
        slice(max(0, int(cols[0]) - margin), min(w, int(cols[-1]) + margin + 1)),
    )


@dataclass(frozen=True)
class _Grown:
    mask: np.ndarray
    plateau: float
    background: float
    ring_high: float


def _grow_fwhm(crop: np.ndarray, inside: np.ndarray, seed: np.ndarray, start_threshold: float, px_per_mm: float) -> _Grown | None:
    """Outline one spot at half its own peak above its own surroundings.

    The peak is the median of the spot's core (robust to pores and lines
    crossing it) and the surroundings the median of a ring just outside it
    (robust to neighbours and mottling), re-estimated until the outline settles.
    """
    anchor = seed
    threshold = start_threshold
    mask = np.zeros_like(seed)
    plateau = background = ring_high = float("nan")
    gap = max(2.0, RING_GAP_MM * px_per_mm)
    for _ in range(4):
        mask = _component_touching((crop >= threshold) & inside, anchor)
        if not mask.any():
            return None
        radius = np.sqrt(np.count_nonzero(mask) / np.pi)
        width = max(RING_WIDTH_MM * px_per_mm, 0.5 * radius)
        # Both distances are taken in a box just big enough for them (see _around).
        box = _around(mask, int(np.ceil(gap + width)) + 2)
        sub_mask, sub_crop = mask[box], crop[box]
        dist = _distance_inside(sub_mask)
        core = dist >= 0.6 * float(dist.max())
        plateau = float(np.median(sub_crop[core]))
        outside = cv2.distanceTransform((~sub_mask).view(np.uint8), cv2.DIST_L2, 5)
        ring = (outside > gap) & (outside <= gap + width) & inside[box]
        ring_values = sub_crop[ring]
        background = float(np.median(ring_values)) if ring_values.size >= 8 else 0.0
        ring_high = float(np.percentile(ring_values, 90)) if ring_values.size >= 8 else 0.0
        new_threshold = background + 0.5 * (plateau - background)
        settled = abs(new_threshold - threshold) <= 0.02 * max(plateau - background, 1e-6)
        threshold = new_threshold
        if settled:
            break
    # Holes are filled (pores inside a spot), but never over another spot.
    mask = _component_touching((crop >= threshold) & inside, anchor) & inside
    return _Grown(mask=mask, plateau=plateau, background=background, ring_high=ring_high)


def _blobness(contrast: np.ndarray, body: np.ndarray, origin: tuple[int, int]) -> float:
    """Smaller / larger curvature of the contrast at the spot's own scale, at its centre.

    About 1 for a round spot, 0.5 for a 3:1 oval, near 0 for a piece of a
    line: the Hessian of the contrast smoothed at the spot's equivalent radius
    sees whether the dark structure continues beyond the outline.
    """
    rows, cols = np.nonzero(body)
    radius = np.sqrt(rows.size / np.pi)
    sigma = max(1.0, radius)
    r, c = int(round(rows.mean())) + origin[0], int(round(cols.mean())) + origin[1]
    k = int(np.ceil(3 * sigma)) + 1
    r0, c0 = max(0, r - k), max(0, c - k)
    patch = contrast[r0 : r + k + 1, c0 : c + k + 1]
    y, x = r - r0, c - c0
    if not (1 <= y < patch.shape[0] - 1 and 1 <= x < patch.shape[1] - 1):
        return 1.0  # at the image edge: no room to tell, keep the spot
    smooth = cv2.GaussianBlur(patch, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    dxx = smooth[y, x + 1] - 2 * smooth[y, x] + smooth[y, x - 1]
    dyy = smooth[y + 1, x] - 2 * smooth[y, x] + smooth[y - 1, x]
    dxy = 0.25 * (smooth[y + 1, x + 1] - smooth[y + 1, x - 1] - smooth[y - 1, x + 1] + smooth[y - 1, x - 1])
    low, high = np.linalg.eigvalsh(np.array([[dxx, dxy], [dxy, dyy]], np.float64))
    # A dark spot is a peak of contrast: both curvatures negative.
    if low >= 0 or high > 0:
        return 0.0
    return float(high / low)


def _cut_by_window(mask: np.ndarray, window: tuple[int, int, int, int], shape: tuple[int, int]) -> bool:
    """True when ``mask`` reaches a side of its window that is not the image's edge."""
    r0, r1, c0, c1 = window
    return bool(
        (r0 > 0 and mask[0].any())
        or (r1 < shape[0] and mask[-1].any())
        or (c0 > 0 and mask[:, 0].any())
        or (c1 < shape[1] and mask[:, -1].any())
    )


def _open_by(mask: np.ndarray, dist: np.ndarray, radius: float) -> np.ndarray:
    """Binary opening by a disc of ``radius`` px, from the inside distance map."""
    centres = dist >= radius
    return (cv2.distanceTransform((~centres).astype(np.uint8), cv2.DIST_L2, 5) <= radius) & mask


def _drop_arms(mask: np.ndarray, anchor: np.ndarray, min_area: float, max_area: float) -> np.ndarray | None:
    """The compact body of a spot that a line or hair runs into, or None.

    Opening by a disc a fraction of the spot's inscribed radius cuts away
    arms and spills narrower than the spot (a line running into it); the
    body keeps its outline. A light opening always applies; stronger ones
    only when the shape is still not compact.
    """
    dist = _distance_inside(mask)
    inscribed = float(dist.max())
    for fraction in (SPILL_FRACTION, 0.5, 0.8):
        radius = fraction * inscribed
        if radius < 1.5:
            body = mask
        else:
            opened = _open_by(mask, dist, radius)
            hold = anchor & opened
            body = _component_touching(opened, hold if hold.any() else dist >= inscribed) & mask
        if body.any() and _shape_ok(body, min_area, max_area):
            return body
    return None


def _outline_peak(
    contrast: np.ndarray,
    region: np.ndarray,
    done: np.ndarray,
    peak_rc: tuple[int, int],
    peak: float,
    px_per_mm: float,
    max_diameter_mm: float,
) -> tuple[np.ndarray, _Grown | None, tuple[int, int, int, int]]:
    """Seed and FWHM outline of the spot at one peak, in a window around it.

    The window starts at room for a 4 mm spot and doubles while the outline
    reaches its side, up to room for the largest spot and its ring (most spots
    are far smaller than the largest, and the per-spot work scales with the
    window). Returns the seed and the outline in window coordinates, and the
    window (r0, r1, c0, c1).
    """
    h, w = contrast.shape
    pr, pc = peak_rc
    ring_mm = RING_GAP_MM + RING_WIDTH_MM
    reach = int(np.ceil((max_diameter_mm + ring_mm) * px_per_mm)) + 2
    half = min(reach, int(np.ceil((2.0 + ring_mm) * px_per_mm)))
    while True:
        window = (max(0, pr - half), min(h, pr + half + 1), max(0, pc - half), min(w, pc + half + 1))
        r0, r1, c0, c1 = window
        crop = contrast[r0:r1, c0:c1]
        inside = region[r0:r1, c0:c1] & ~done[r0:r1, c0:c1]
        point = np.zeros(crop.shape, bool)
        point[pr - r0, pc - c0] = True
        seed = _component_touching((crop >= 0.5 * peak) & inside, point)
        grown = _grow_fwhm(crop, inside, seed, 0.5 * peak, px_per_mm)
        if grown is None or half >= reach or not _cut_by_window(grown.mask, window, (h, w)):
            return seed, grown, window
        half = min(reach, 2 * half)


def _seed_components(
    contrast: np.ndarray, low: float, high: float, min_area: float
) -> tuple[list[int], dict[int, tuple[slice, slice]], dict[int, float], np.ndarray]:
    """Components of ``contrast > low`` that reach ``high`` and hold ``min_area`` px.

    Returns their labels (ascending), bounding boxes, peaks and the label image.
    Only components with a pixel near ``high`` get boxes and areas, so the
    whole-image work is one labelling and one pass for their boxes (OpenCV's
    per-component statistics cost five times the labelling).
    """
    _, labels = cv2.connectedComponents((contrast > low).view(np.uint8), connectivity=8)
    # A little below ``high`` so float32 rounding cannot drop a component; the exact test follows.
    hot = {int(i) for i in np.unique(labels[contrast >= high - 1e-3]) if i > 0}
    candidates: list[int] = []
    boxes: dict[int, tuple[slice, slice]] = {}
    peaks: dict[int, float] = {}
    if not hot:
        return candidates, boxes, peaks, labels
    for i, box in enumerate(ndi.find_objects(labels, max_label=max(hot)), start=1):
        if box is None or i not in hot:
            continue
        inside = labels[box] == i
        peak = float(contrast[box][inside].max())
        # Components too small to hold a spot are dropped before any per-spot work.
        if peak >= high and np.count_nonzero(inside) >= min_area:
            candidates.append(i)
            boxes[i] = box
            peaks[i] = peak
    return candidates, boxes, peaks, labels


def detect_spots_props(
    melanin_map: np.ndarray,
    region: np.ndarray,
    *,
    px_per_mm: float | None,
    min_diameter_mm: float = 0.5,
    max_diameter_mm: float = 8.0,
) -> tuple[np.ndarray, list[SpotProps], np.ndarray]:
    """Like :func:`detect_spots`, returning a label image, per-spot properties and the contrast map.

    Returns
    -------
    labels : ndarray, shape (H, W), int32
        0 outside spots, 1..N for the N spots.
    props : list of SpotProps
    contrast : ndarray, shape (H, W), float32
        Melanin contrast (cleaned, smoothed MI minus the skin background),
        MI units; 0 outside the region.
    """
    melanin_map = _check_map(melanin_map)
    region = check_region(region, melanin_map.shape)
    ppm = _check_scale(px_per_mm, min_diameter_mm, max_diameter_mm)

    smoothed = smooth_map(_fill_outside(melanin_map, region), ppm)
    cleaned = clean_map(smoothed, ppm)
    contrast = cleaned - tophat_background(cleaned, ppm, max_diameter_mm)
    contrast[~region] = 0.0

    sample = _sample_index(region)
    noise = fine_noise_mi(smoothed, region, ppm, sample=sample)
    mottling = _robust_std(contrast.reshape(-1)[sample])
    high = max(SEED_HIGH_MI, NOISE_K_HIGH * noise)
    low = max(SEED_LOW_MI, NOISE_K_LOW * noise)
    min_area = np.pi * (0.5 * min_diameter_mm * ppm) ** 2
    max_area = np.pi * (0.5 * max_diameter_mm * ppm) ** 2
    candidates, boxes, peaks, low_labels = _seed_components(contrast, low, high, 0.25 * min_area)
    h, w = contrast.shape
    done = np.zeros(contrast.shape, bool)
    found: list[tuple[float, np.ndarray, tuple[int, int], _Grown]] = []
    # Darkest first, so a faint neighbour never claims a dark spot's pixels.
    for i in sorted(candidates, key=lambda j: -peaks[j]):
        sl = boxes[i]
        top, left = sl[0].start, sl[1].start
        component = low_labels[sl] == i
        # One component can hold several spots (and mottling): take its peaks one by one.
        for _ in range(_MAX_PEAKS_PER_COMPONENT):
            values = np.where(component & ~done[sl], contrast[sl], -np.inf)
            flat = int(np.argmax(values))
            peak = float(values.flat[flat])
            if peak < high:
                break
            pr, pc = top + flat // values.shape[1], left + flat % values.shape[1]
            seed, grown, (r0, r1, c0, c1) = _outline_peak(contrast, region, done, (pr, pc), peak, ppm, max_diameter_mm)
            done[r0:r1, c0:c1] |= seed
            if grown is None or _cut_by_window(grown.mask, (r0, r1, c0, c1), (h, w)):
                continue  # nothing, or wider than the largest spot: a patch or a lesion
            spot_contrast = grown.plateau - grown.background
            if grown.plateau - grown.ring_high < MIN_RING_PROMINENCE * spot_contrast:
                continue
            body = _drop_arms(grown.mask, seed, min_area, max_area)
            if body is None or spot_contrast < _min_contrast(body.sum(), mottling, ppm):
                continue
            if _blobness(contrast, body, (r0, c0)) < MIN_BLOBNESS:
                continue
            done[r0:r1, c0:c1] |= body
            found.append((peak, body, (r0, c0), grown))

    labels = np.zeros(contrast.shape, np.int32)
    props: list[SpotProps] = []
    for _, body, (r0, c0), grown in sorted(found, key=lambda item: -item[0]):
        label = len(props) + 1
        rr, cc = np.nonzero(body)
        labels[rr + r0, cc + c0] = label
        values = contrast[rr + r0, cc + c0] - grown.background
        props.append(
            SpotProps(
                label=label,
                area_px=int(rr.size),
                contrast_mi=grown.plateau - grown.background,
                mean_contrast_mi=float(values.mean()),
                centroid_rc=(float(rr.mean() + r0), float(cc.mean() + c0)),
            )
        )
    return labels, props, contrast


def detect_spots(
    melanin_map: np.ndarray,
    region: np.ndarray,
    *,
    px_per_mm: float | None,
    min_diameter_mm: float = 0.5,
    max_diameter_mm: float = 8.0,
) -> tuple[np.ndarray, int]:
    """Find pigment spots in a melanin map and outline each at half its peak contrast.

    Parameters
    ----------
    melanin_map : ndarray, shape (H, W), float
        Melanin index map (MI units, see :func:`tracker.analysis.pigment.melanin_index`);
        NaN allowed (treated as background).
    region : ndarray, shape (H, W), bool
        Where to look; spots are clipped to it.
    px_per_mm : float or None
        Scale of the map. None assumes :data:`ASSUMED_PX_PER_MM` (15 px/mm) for
        every size below; the pipeline records that assumption.
    min_diameter_mm, max_diameter_mm : float
        Equivalent-diameter window of a spot, mm (default 0.5-8). The top-hat
        footprint is twice ``max_diameter_mm``.

    Returns
    -------
    spot_mask : ndarray, shape (H, W), bool
        Pixels inside a spot.
    count : int
        Number of spots.

    Examples
    --------
    A 2 mm disc 20 MI darker than the skin around it, at 15 px/mm:

    >>> yy, xx = np.mgrid[:200, :200]
    >>> mi = np.where(np.hypot(yy - 100, xx - 100) <= 15, 60.0, 40.0).astype(np.float32)
    >>> mask, n = detect_spots(mi, np.ones((200, 200), bool), px_per_mm=15)
    >>> n, round(float(mask.sum()) / (np.pi * 15**2), 1)
    (1, 1.0)
    """
    labels, props, _ = detect_spots_props(
        melanin_map,
        region,
        px_per_mm=px_per_mm,
        min_diameter_mm=min_diameter_mm,
        max_diameter_mm=max_diameter_mm,
    )
    return labels > 0, len(props)
