"""Redness (erythema) of skin from colour-corrected linear RGB.

The erythema index EI = 100 * log10(R / G) (Dawson 1980, Diffey 1984) is what
a Mexameter-style reflectance meter reports. It is a ratio of two channels, so
an exposure change cancels; CIELAB a* is kept as a secondary figure only (it
moves with exposure).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tracker.analysis.boxes import region_box
from tracker.analysis.checks import check_linear_rgb, check_region
from tracker.analysis.colour import linear_to_lab

#: Fixed EI above which a pixel counts towards ``red_area_pct``, in EI units
#: (100 * log10(R/G), linear light). Versioned with the pipeline; never a
#: per-image percentile, so that a redness fall shows as a smaller red area.
#:
#: Why 32: on the simulator's calm skin (no redness patches), EI sits at 24-31
#: for Fitzpatrick I-VI (95th percentile <= 31.3; melanin raises EI a little
#: because it absorbs more in green than in red), while post-laser erythema
#: (haemoglobin OD +0.3) sits at 32-40 (5th percentile >= 32.2 for every
#: type). In the real PAD-UFES-20 close-ups (not colour corrected) normal skin
#: reads about 15-30 and the red BCC lesions 35-60. 32 therefore separates
#: "visibly red" from normal skin of every type, with calm dark skin not
#: flagged.
RED_AREA_EI_THRESHOLD: float = 32.0

#: Channel values below this (linear light) carry no usable ratio: EI is NaN.
MIN_CHANNEL_LINEAR: float = 1e-4

#: Pixels sampled for the CIELAB a* mean; a deterministic stride keeps the
#: Lab conversion (the slowest step) bounded on large images.
_LAB_SAMPLE_PIXELS = 50_000


@dataclass(frozen=True)
class RednessMeasure:
    """Redness of the skin inside a region.

    Attributes
    ----------
    erythema_index_mean : float
        Mean EI over the measurable region pixels, EI units (about 0-60 on skin).
    red_area_pct : float
        Share of measurable region pixels with EI above
        :data:`RED_AREA_EI_THRESHOLD`, percent in [0, 100].
    a_star_mean : float
        Mean CIELAB a* (D65) over the region, CIELAB units. Exposure-dependent.
    measured_pct : float
        Share of the region where EI could be computed (R and G not ~0),
        percent in [0, 100]. NaN figures above mean nothing was measurable.
    ei_threshold : float
        The red-area threshold used, EI units (recorded with the result).
    """

    erythema_index_mean: float
    red_area_pct: float
    a_star_mean: float
    measured_pct: float = 100.0
    ei_threshold: float = RED_AREA_EI_THRESHOLD


def erythema_index(linear: np.ndarray) -> np.ndarray:
    """Erythema index map, EI = 100 * log10(R / G).

    Parameters
    ----------
    linear : ndarray, shape (H, W, 3), float
        Colour-corrected linear-light RGB in [0, 1].

    Returns
    -------
    ndarray, shape (H, W), float32
        EI in EI units (normal skin about 15-30, inflamed 35-50); NaN where R
        or G is below :data:`MIN_CHANNEL_LINEAR` (no usable ratio).

    Examples
    --------
    >>> px = np.array([[[0.5, 0.05, 0.1], [0.0, 0.2, 0.2]]], dtype=np.float32)
    >>> erythema_index(px).round(3).tolist()
    [[100.0, nan]]
    """
    linear = check_linear_rgb(linear)
    # Own contiguous copies of the two channels, worked on in place: in the worker every
    # fresh whole-image buffer is mmapped and page-faulted in.
    r = np.array(linear[..., 0], dtype=np.float32, order="C")
    g = np.array(linear[..., 1], dtype=np.float32, order="C")
    floor = np.float32(MIN_CHANNEL_LINEAR)
    unusable = ~((r >= MIN_CHANNEL_LINEAR) & (g >= MIN_CHANNEL_LINEAR))
    ratio = np.divide(np.maximum(r, floor, out=r), np.maximum(g, floor, out=g), out=r)
    # OpenCV's vectorised log: several times numpy's on a 3 MP map.
    ei: np.ndarray = cv2.log(ratio, dst=g).reshape(g.shape)
    ei *= np.float32(100.0 / np.log(10.0))
    ei[unusable] = np.nan
    return ei


def _grid_sample(linear: np.ndarray, region: np.ndarray, limit: int) -> np.ndarray:
    """Region pixels on a regular grid, about ``limit`` of them at most, shape (N, 3)."""
    step = max(1, int(np.sqrt(np.count_nonzero(region) / limit)))
    sample = linear[::step, ::step][region[::step, ::step]]
    return sample if len(sample) else linear[region]


def measure_redness(linear: np.ndarray, region: np.ndarray, *, ei_map: np.ndarray | None = None) -> RednessMeasure:
    """Mean erythema index, red area and mean a* of the skin in ``region``.

    Parameters
    ----------
    linear : ndarray, shape (H, W, 3), float
        Colour-corrected linear-light RGB in [0, 1].
    region : ndarray, shape (H, W), bool
        Pixels to measure (the skin region of interest); must not be empty.
    ei_map : ndarray, shape (H, W), float32, optional, keyword-only
        :func:`erythema_index` of ``linear`` when the caller already has it
        (for the overlay); computed on the region's bounding box otherwise.

    Returns
    -------
    RednessMeasure
        Pixels outside ``region`` and pixels without a usable R/G ratio are
        ignored; ``measured_pct`` says how much of the region was usable.

    Examples
    --------
    >>> img = np.full((4, 4, 3), [0.5, 0.2, 0.2], dtype=np.float32)
    >>> m = measure_redness(img, np.ones((4, 4), bool))
    >>> round(m.erythema_index_mean, 2), m.red_area_pct
    (39.79, 100.0)
    """
    linear = check_linear_rgb(linear)
    region = check_region(region, linear.shape[:2])
    if ei_map is None:
        rows, cols = region_box(region)
        ei_map, ei_region = erythema_index(linear[rows, cols]), region[rows, cols]
    elif ei_map.shape != region.shape:
        raise ValueError(f"ei_map must have shape {region.shape} like the region; got {ei_map.shape}")
    else:
        ei_region = region
    finite = ei_region & np.isfinite(ei_map)
    n_region = int(np.count_nonzero(region))
    n_finite = int(np.count_nonzero(finite))
    measured_pct = 100.0 * n_finite / n_region
    if n_finite == 0:
        return RednessMeasure(float("nan"), float("nan"), float("nan"), measured_pct=0.0)
    ei_mean = float(cv2.mean(ei_map, mask=finite.view(np.uint8))[0])  # accumulated in float64
    red_pct = 100.0 * int(np.count_nonzero(finite & (ei_map > RED_AREA_EI_THRESHOLD))) / n_finite
    sample = _grid_sample(linear, region, _LAB_SAMPLE_PIXELS)
    a_star = float(linear_to_lab(sample[:, None, :])[..., 1].astype(np.float64).mean())
    return RednessMeasure(
        erythema_index_mean=ei_mean,
        red_area_pct=red_pct,
        a_star_mean=a_star,
        measured_pct=measured_pct,
    )
