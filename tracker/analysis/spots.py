"""Pigment spots: find local melanin excesses and outline each at half its own peak.

Pipeline (SCIENCE.md "Pigment spots"): melanin map -> small Gaussian -> white
top-hat against a background estimated at reduced scale -> hysteresis seeds ->
each spot grown to half of its own peak contrast (FWHM) -> shape filters that
drop tiny objects, hairs and lines. Outlining each spot at half *its own* peak
(instead of one absolute threshold) keeps a fading spot's area while its
contrast falls, so fading and shrinking stay distinguishable.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage as ndi

#: Scale assumed when the caller does not know it, px per mm. Recorded by the
#: pipeline with the result; footprint sizes are derived from it.
ASSUMED_PX_PER_MM: float = 15.0

#: Smoothing of the melanin map before anything else, mm (suppresses pixel noise
#: and JPEG blocking; small against a 0.5 mm spot).
SMOOTH_SIGMA_MM: float = 0.06

#: Hysteresis thresholds on top-hat contrast, MI units. A spot needs a peak of at
#: least ``SEED_HIGH_MI`` above its surroundings; ``SEED_LOW_MI`` links its body.
#: Also scaled by the local noise (see ``NOISE_K_*``) so that grainy photos do
#: not seed on noise.
SEED_HIGH_MI: float = 3.0
SEED_LOW_MI: float = 1.5
NOISE_K_HIGH: float = 5.0
NOISE_K_LOW: float = 2.5

#: Shape limits: a spot is compact. Hairs and lines are long and thin.
MAX_ELONGATION: float = 3.0     # major / minor axis of the equivalent ellipse
MIN_SOLIDITY: float = 0.6       # area / convex hull area
#: Thin structures (hairs, fine lines) are opened away with a disc of this radius, mm.
THIN_RADIUS_MM: float = 0.12

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
    peak_contrast_mi : float
        Peak melanin contrast above the local background, MI units.
    mean_contrast_mi : float
        Mean contrast over the spot, MI units.
    centroid_rc : tuple of float
        Centroid (row, column), px.
    """

    label: int
    area_px: int
    peak_contrast_mi: float
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


def _check_region(region: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if not isinstance(region, np.ndarray):
        raise TypeError(f"region must be a numpy array, got {type(region).__name__}")
    if region.shape != shape:
        raise ValueError(f"region must have shape {shape}, got {region.shape}")
    if region.dtype != bool:
        raise TypeError(f"region must be a boolean mask, got dtype {region.dtype}")
    if not region.any():
        raise ValueError("region is empty: no pixel to measure")
    return region


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
    fill = float(np.median(values[inside])) if inside.any() else 0.0
    return np.where(inside, values, fill).astype(np.float32)


def smooth_map(melanin_map: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Gaussian smoothing at :data:`SMOOTH_SIGMA_MM` (map with NaN-free values)."""
    sigma = max(0.6, SMOOTH_SIGMA_MM * px_per_mm)
    return cv2.GaussianBlur(melanin_map, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def tophat_background(smoothed: np.ndarray, px_per_mm: float, max_diameter_mm: float) -> np.ndarray:
    """Skin background under the spots: a grey opening at reduced scale.

    The opening footprint is twice the largest spot. Running it on a copy
    downsampled to ~15 px per footprint keeps it fast at any resolution; the
    area-averaged copy also averages noise, so the opening's lower envelope sits
    close to the true background level.
    """
    h, w = smoothed.shape
    footprint_px = 2.0 * max_diameter_mm * px_per_mm
    factor = max(1.0, footprint_px / _BACKGROUND_FOOTPRINT_PX)
    small_size = (max(1, round(w / factor)), max(1, round(h / factor)))
    small = cv2.resize(smoothed, small_size, interpolation=cv2.INTER_AREA)
    k = int(round(footprint_px / factor)) | 1
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    opened = cv2.morphologyEx(small, cv2.MORPH_OPEN, disc, borderType=cv2.BORDER_REPLICATE)
    # The opening is a staircase of flat plateaus; a blur of the same size smooths it.
    opened = cv2.blur(opened, (k, k), borderType=cv2.BORDER_REPLICATE)
    return cv2.resize(opened, (w, h), interpolation=cv2.INTER_LINEAR)


def _noise_mi(contrast: np.ndarray, region: np.ndarray) -> float:
    """Robust noise level of the contrast map inside the region, MI units."""
    values = contrast[region][:: max(1, int(region.sum()) // 200_000)]
    med = np.median(values)
    return float(1.4826 * np.median(np.abs(values - med)))


def _disc(radius_px: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius_px + 1, 2 * radius_px + 1))


def _shape_ok(mask: np.ndarray, min_area_px: float, max_area_px: float) -> bool:
    area = int(mask.sum())
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
    return area >= MIN_SOLIDITY * hull_area


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
        Top-hat melanin contrast (smoothed MI minus background), MI units;
        0 outside the region.
    """
    melanin_map = _check_map(melanin_map)
    region = _check_region(region, melanin_map.shape)
    ppm = _check_scale(px_per_mm, min_diameter_mm, max_diameter_mm)

    filled = _fill_outside(melanin_map, region)
    smoothed = smooth_map(filled, ppm)
    contrast = smoothed - tophat_background(smoothed, ppm, max_diameter_mm)
    contrast[~region] = 0.0

    noise = _noise_mi(contrast, region)
    high = max(SEED_HIGH_MI, NOISE_K_HIGH * noise)
    low = max(SEED_LOW_MI, NOISE_K_LOW * noise)
    low_labels, n_low = ndi.label(contrast > low)
    labels = np.zeros(melanin_map.shape, np.int32)
    props: list[SpotProps] = []
    if n_low == 0:
        return labels, props, contrast

    peaks = ndi.maximum(contrast, low_labels, index=np.arange(1, n_low + 1))
    min_area = np.pi * (0.5 * min_diameter_mm * ppm) ** 2
    max_area = np.pi * (0.5 * max_diameter_mm * ppm) ** 2
    thin = _disc(max(1, int(round(THIN_RADIUS_MM * ppm))))
    slices = ndi.find_objects(low_labels)
    margin = int(np.ceil(0.5 * max_diameter_mm * ppm))
    h, w = contrast.shape
    for idx, (peak, sl) in enumerate(zip(peaks, slices), start=1):
        if peak < high or sl is None:
            continue
        r0, r1 = max(0, sl[0].start - margin), min(h, sl[0].stop + margin)
        c0, c1 = max(0, sl[1].start - margin), min(w, sl[1].stop + margin)
        crop = contrast[r0:r1, c0:c1]
        seed = low_labels[r0:r1, c0:c1] == idx
        # Half of this spot's own peak: the spot's full width at half maximum.
        above = (crop >= 0.5 * peak).astype(np.uint8)
        above = cv2.morphologyEx(above, cv2.MORPH_OPEN, thin)
        grown_labels, _ = ndi.label(above)
        keep = np.unique(grown_labels[seed & (grown_labels > 0)])
        spot = np.isin(grown_labels, keep[keep > 0])
        spot &= labels[r0:r1, c0:c1] == 0
        if not _shape_ok(spot, min_area, max_area):
            continue
        label = len(props) + 1
        labels[r0:r1, c0:c1][spot] = label
        rows, cols = np.nonzero(spot)
        values = crop[spot]
        props.append(
            SpotProps(
                label=label,
                area_px=int(spot.sum()),
                peak_contrast_mi=float(peak),
                mean_contrast_mi=float(values.mean()),
                centroid_rc=(float(rows.mean() + r0), float(cols.mean() + c0)),
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
    >>> yy, xx = np.mgrid[:200, :200]
    >>> mi = 40 + 20 * np.exp(-((yy - 100) ** 2 + (xx - 100) ** 2) / (2 * 10.0 ** 2))
    >>> mask, n = detect_spots(mi.astype(np.float32), np.ones((200, 200), bool), px_per_mm=15)
    >>> n, abs(int(mask.sum()) - round(np.pi * (1.1774 * 10) ** 2)) < 30
    (1, True)
    """
    labels, props, _ = detect_spots_props(
        melanin_map,
        region,
        px_per_mm=px_per_mm,
        min_diameter_mm=min_diameter_mm,
        max_diameter_mm=max_diameter_mm,
    )
    return labels > 0, len(props)
