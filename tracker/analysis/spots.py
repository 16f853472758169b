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
distinguishable. The per-spot outline and its tests are in
:mod:`tracker.analysis.spot_outline`.

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
from tracker.analysis.spot_outline import (  # noqa: F401  (the outline limits are documented with the spots)
    MAX_ELONGATION,
    MIN_BLOBNESS,
    MIN_SOLIDITY,
    RING_GAP_MM,
    RING_WIDTH_MM,
    SPILL_FRACTION,
    Grown,
    blobness,
    cut_by_window,
    drop_arms,
    outline_peak,
)

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

#: Safety bound on the peaks examined in one connected component.
_MAX_PEAKS_PER_COMPONENT = 64

#: Spots are sought on the melanin map area-reduced by the whole factor that
#: brings it nearest this scale, px per mm (20 px/mm is halved, 15 px/mm too:
#: a 1 mm spot stays 7-13 px across); each spot's outline comes back to full
#: scale by interpolating its mask, and the contrast map by interpolation. On
#: the simulator's close-ups at 20 and 15 px/mm: same counts, Dice within 0.01
#: and total area within 1.5 % of outlining at full scale, for a quarter of the work.
DETECT_PX_PER_MM: float = 10.0

#: Working size of the top-hat background, px across the footprint.
_BACKGROUND_FOOTPRINT_PX = 15

#: Largest footprint gather (pixels x footprint values) the fast disc median makes (~16 MB).
_DISC_MEDIAN_MAX_VALUES = 4_000_000


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
    # A typical skin value is all the fill needs: every 4th row and column give it (else every pixel).
    typical = values[::4, ::4][inside[::4, ::4]]
    if typical.size == 0:
        typical = values[inside]
    fill = float(median(typical)) if typical.size else 0.0
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
    median = _disc_median(small, disc)
    # The median is piecewise flat at this scale; a blur of the footprint's size smooths it.
    median = cv2.GaussianBlur(median, (0, 0), k / 4.0, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(median, (w, h), interpolation=cv2.INTER_LINEAR)


def _disc_median(image: np.ndarray, disc: np.ndarray) -> np.ndarray:
    """``ndi.median_filter(image, footprint=disc, mode="reflect")``, the same values, faster when small.

    The footprint's values of every pixel are gathered at once and partitioned
    (the disc has an odd number of pixels, so the median is one of them); large
    inputs, where that would take too much memory, go to scipy.
    """
    n = int(np.count_nonzero(disc))
    if image.size * n > _DISC_MEDIAN_MAX_VALUES:
        return np.asarray(ndi.median_filter(image, footprint=disc, mode="reflect"))
    r = disc.shape[0] // 2
    padded = np.pad(image, r, mode="symmetric")  # scipy's "reflect"
    values = np.lib.stride_tricks.sliding_window_view(padded, disc.shape)[:, :, disc]
    return np.partition(values, n // 2, axis=-1)[..., n // 2]


def _min_contrast(area_px: float, mottling_mi: float, px_per_mm: float) -> float:
    """Least contrast, MI units, for a spot of this area to stand out of the skin's mottling."""
    diameter_mm = 2.0 * np.sqrt(area_px / np.pi) / px_per_mm
    k = float(np.interp(diameter_mm, [1.0, 2.0], [MOTTLE_K_SMALL, MOTTLE_K_LARGE]))
    return max(MIN_LOCAL_CONTRAST_MI, k * mottling_mi)


def _robust_std(values: np.ndarray) -> float:
    values = values[:: max(1, values.size // 200_000)]
    med = median(values)
    return float(1.4826 * median(np.abs(values - med)))


#: Flat pixels per block of :func:`_sample_index` (a block's indices stay in the CPU cache).
_SAMPLE_BLOCK = 1 << 16


def _sample_index(region: np.ndarray) -> np.ndarray:
    """Flat indices of the region pixels :func:`_robust_std` keeps, so only those are copied:
    every k-th pixel of the region, k = its size // 200 000 (at least 1).

    Found block by block: all the region's indices at once would be a 24 MB array at 3 MP,
    for the one in k of them kept (three times the time).
    """
    flat = region.reshape(-1)
    step = max(1, int(np.count_nonzero(flat)) // 200_000)
    if step == 1:
        return np.flatnonzero(flat)
    parts, seen = [], 0
    for start in range(0, flat.size, _SAMPLE_BLOCK):
        where = np.flatnonzero(flat[start:start + _SAMPLE_BLOCK])
        parts.append(where[(-seen) % step::step] + start)  # continuing the count of the blocks before
        seen += where.size
    return np.concatenate(parts)


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
    filled = _fill_outside(melanin_map, region)
    # Sought on a reduced map only when the scale is known: at an assumed scale the reduction
    # would be a guess, and on the real close-ups without one (PAD-UFES pairs) it merged and
    # dropped small spots, moving the same lesion's spot area between photos by up to 2.5 points.
    n = 1 if px_per_mm is None else max(1, round(ppm / DETECT_PX_PER_MM))
    if n > 1:
        reduced = _reduced(filled, region, n)
        if reduced is not None:
            small, small_region = reduced
            small_contrast, small_found = _find(small, small_region, ppm / n, min_diameter_mm, max_diameter_mm)
            # Whole-number factors keep OpenCV's resizing on its fast paths (5-20x the others).
            h, w = filled.shape
            up = cv2.resize(small_contrast, (n * small.shape[1], n * small.shape[0]), interpolation=cv2.INTER_LINEAR)
            contrast = np.ascontiguousarray(up[:h, :w])
            contrast[~region] = 0.0
            found = [(peak, *_upsampled(body, origin, n, region), grown) for peak, body, origin, grown in small_found]
            return (*_labelled(found, contrast), contrast)
    contrast, found = _find(filled, region, ppm, min_diameter_mm, max_diameter_mm)
    return (*_labelled(found, contrast), contrast)


def _reduced(filled: np.ndarray, region: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The map and the region area-reduced by a whole factor ``n`` (edges padded to a multiple), or None.

    None when no reduced pixel is mostly inside the region.
    """
    h, w = filled.shape
    pad_h, pad_w = -h % n, -w % n
    if pad_h or pad_w:
        filled = cv2.copyMakeBorder(filled, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
        region = np.pad(region, ((0, pad_h), (0, pad_w)))
    size = (filled.shape[1] // n, filled.shape[0] // n)
    # Half of the pixels or more inside the region (255 x the share, rounded).
    small_region = cv2.resize(region.view(np.uint8) * np.uint8(255), size, interpolation=cv2.INTER_AREA) >= 128
    if not small_region.any():
        return None
    return cv2.resize(filled, size, interpolation=cv2.INTER_AREA), small_region


def _upsampled(
    body: np.ndarray, origin: tuple[int, int], n: int, region: np.ndarray
) -> tuple[np.ndarray, tuple[int, int]]:
    """A spot found on the map reduced ``n`` times, outlined at full scale: its mask interpolated, cut at one half.

    ``body`` is the spot in the reduced map's window at ``origin`` (row,
    column). Returns the full-scale mask inside ``region`` and its origin.
    """
    pad = 2
    padded = np.pad(body.astype(np.float32), pad)
    r0, c0 = origin[0] - pad, origin[1] - pad
    h, w = region.shape
    # Full-scale x and reduced u share pixel centres: u = (x + 0.5) / n - 0.5, as in cv2.resize.
    x0, y0 = max(0, n * c0), max(0, n * r0)
    x1, y1 = min(w, n * (c0 + padded.shape[1])), min(h, n * (r0 + padded.shape[0]))
    to_reduced = np.array([[1 / n, 0, (x0 + 0.5) / n - 0.5 - c0], [0, 1 / n, (y0 + 0.5) / n - 0.5 - r0]])
    up = cv2.warpAffine(
        padded, to_reduced, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT, borderValue=0.0,
    )
    return (up >= 0.5) & region[y0:y1, x0:x1], (y0, x0)


def _find(
    filled: np.ndarray, region: np.ndarray, ppm: float, min_diameter_mm: float, max_diameter_mm: float
) -> tuple[np.ndarray, list[tuple[float, np.ndarray, tuple[int, int], Grown]]]:
    """The contrast map and the spots of a NaN-free map: (peak, body, window origin, outline) each."""
    smoothed = smooth_map(filled, ppm)
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
    found: list[tuple[float, np.ndarray, tuple[int, int], Grown]] = []
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
            seed, grown, (r0, r1, c0, c1) = outline_peak(contrast, region, done, (pr, pc), peak, ppm, max_diameter_mm)
            done[r0:r1, c0:c1] |= seed
            if grown is None or cut_by_window(grown.mask, (r0, r1, c0, c1), (h, w)):
                continue  # nothing, or wider than the largest spot: a patch or a lesion
            # The body is a part of the outline: an outline below the smallest spot has none
            # (most peaks on a face are pixel-sized mottling; drop_arms and the ring's
            # percentile would only say so slower).
            if np.count_nonzero(grown.mask) < min_area:
                continue
            spot_contrast = grown.plateau - grown.background
            if grown.plateau - grown.ring_high < MIN_RING_PROMINENCE * spot_contrast:
                continue
            body = drop_arms(grown.mask, seed, min_area, max_area)
            if body is None or spot_contrast < _min_contrast(body.sum(), mottling, ppm):
                continue
            if blobness(contrast, body, (r0, c0)) < MIN_BLOBNESS:
                continue
            done[r0:r1, c0:c1] |= body
            found.append((peak, body, (r0, c0), grown))
    return contrast, found


def _labelled(
    found: list[tuple[float, np.ndarray, tuple[int, int], Grown]], contrast: np.ndarray
) -> tuple[np.ndarray, list[SpotProps]]:
    """Label image and properties of the spots, darkest first; a pixel belongs to the first spot holding it."""
    labels = np.zeros(contrast.shape, np.int32)
    props: list[SpotProps] = []
    for _, body, (r0, c0), grown in sorted(found, key=lambda item: -item[0]):
        label = len(props) + 1
        rr, cc = np.nonzero(body)
        free = labels[rr + r0, cc + c0] == 0
        rr, cc = rr[free], cc[free]
        if rr.size == 0:
            continue
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
    return labels, props


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
