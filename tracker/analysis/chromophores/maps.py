"""Chromophore maps of a photo and their figures over a region.

:func:`chromophore_maps` turns a photo's linear camera image and its chart into
per-pixel melanin and blood maps (the spectral inversion of :mod:`inversion`,
through the response of :mod:`response`); :func:`measure_chromophores` gives the
region's figures. Pixels the skin model cannot describe (shine, hair, a colour
outside the skin gamut) are excluded and their share reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.analysis.checks import check_linear_rgb, check_region
from tracker.analysis.chromophores import inversion, response

#: Blood oxygen saturation assumed for every photo. Three channels cannot tell it
#: apart from blood and melanin once brightness is free (the pixel's two colour
#: ratios are already used by melanin and blood), and in the spectral harness a
#: saturation anywhere in 0.5-0.9 moved a recovered blood change by under 1 %.
#: Both photos of a pair share it.
BLOOD_SATURATION = 0.75
#: A pixel brighter than this multiple of the region's median brightness (relative
#: to the model's diffuse skin) is shine: surface reflection, not the diffuse model.
SPECULAR_BRIGHTNESS = 1.3


@dataclass(frozen=True)
class ChromophoreMaps:
    """Per-pixel chromophores of one image, shape (H, W) each.

    Attributes
    ----------
    melanin_pct : numpy.ndarray
        float32, epidermal melanosome volume fraction, percent; NaN where not measured.
    blood_pct : numpy.ndarray
        float32, dermal blood volume fraction, percent; NaN where not measured.
    valid : numpy.ndarray
        bool, pixels the model describes (in the skin gamut, not specular).
    specular : numpy.ndarray
        bool, pixels excluded as shine.
    calibrated : bool
        True when the response came from a chart in the frame.
    light : LightCheck
        The chart's verdict on the light (always ok without a chart: nothing to judge by).
    saturation : float
        Blood oxygen saturation used.
    """

    melanin_pct: np.ndarray
    blood_pct: np.ndarray
    valid: np.ndarray
    specular: np.ndarray
    calibrated: bool
    light: response.LightCheck
    saturation: float = BLOOD_SATURATION


def chromophore_maps(
    linear: np.ndarray,
    *,
    region: np.ndarray | None = None,
    patch_linear: np.ndarray | None = None,
    patch_usable: np.ndarray | None = None,
) -> ChromophoreMaps:
    """Melanin and blood maps of a photo, calibrated from its chart when it has one.

    Parameters
    ----------
    linear : numpy.ndarray
        (H, W, 3) float, the camera's linear values (sRGB-decoded, not colour
        corrected; divided by the chart fit's illumination field when there is one).
    region : numpy.ndarray, optional
        (H, W) bool, the skin whose median brightness defines "shine"; the whole image if None.
    patch_linear : numpy.ndarray, optional
        (24, 3), the chart's patch values on the same scale as ``linear``. Without
        them the default sRGB camera response is used (``calibrated=False``).
    patch_usable : numpy.ndarray, optional
        (24,) bool, the patches to trust.

    Returns
    -------
    ChromophoreMaps

    Examples
    --------
    >>> img = np.full((4, 4, 3), [0.45, 0.25, 0.17], dtype=np.float32)
    >>> maps = chromophore_maps(img)
    >>> maps.calibrated, bool(maps.valid.all()), round(float(maps.blood_pct[0, 0]), 1)
    (False, True, 1.8)
    """
    linear = check_linear_rgb(linear)
    if region is not None:
        region = check_region(region, linear.shape[:2])
    if patch_linear is None:
        resp = response.default_response()
        light = response.LightCheck(True, float("nan"))
    else:
        resp = response.fit_response(patch_linear, usable=patch_usable)
        light = response.light_check(patch_linear, usable=patch_usable)
    table = inversion.build_inverse_table(resp, saturation=BLOOD_SATURATION)
    solution = inversion.solve_pixels(linear, table)
    inside = solution.in_gamut if region is None else solution.in_gamut & region
    bright = solution.brightness[inside]
    median = float(np.median(bright)) if bright.size else float("nan")
    specular = solution.brightness > SPECULAR_BRIGHTNESS * median
    valid = solution.in_gamut & ~specular
    if region is not None:
        specular &= region
    nan = np.float32(np.nan)
    return ChromophoreMaps(
        melanin_pct=np.where(valid, solution.melanin_pct, nan),
        blood_pct=np.where(valid, solution.blood_pct, nan),
        valid=valid,
        specular=specular,
        calibrated=resp.calibrated,
        light=light,
    )


@dataclass(frozen=True)
class ChromophoreMeasure:
    """Chromophore figures over a region.

    Attributes
    ----------
    haemoglobin_index : float
        Mean dermal blood volume fraction over the measured pixels, percent:
        proportional to dermal blood volume (a 40 % blood reduction lowers it by 40 %).
    melanin_density : float
        Mean epidermal melanosome volume fraction, percent: proportional to epidermal melanin.
    background_melanin_density : float
        The same outside pigment spots (NaN when no ``spot_mask`` was given).
    measured_pct : float
        Share of the region measured, percent (the rest is shine or not skin-coloured).
    specular_excluded_pct : float
        Share of the region excluded as shine (brighter than the diffuse skin around it), percent.
    """

    haemoglobin_index: float
    melanin_density: float
    background_melanin_density: float
    measured_pct: float
    specular_excluded_pct: float


def measure_chromophores(
    maps: ChromophoreMaps, region: np.ndarray, *, spot_mask: np.ndarray | None = None
) -> ChromophoreMeasure:
    """Mean blood and melanin over a region (and melanin outside spots).

    Parameters
    ----------
    maps : ChromophoreMaps
        From :func:`chromophore_maps`, in the frame of ``region``.
    region : numpy.ndarray
        (H, W) bool, pixels to measure; must not be empty.
    spot_mask : numpy.ndarray, optional
        (H, W) bool, pigment spots to leave out of the background figure.

    Returns
    -------
    ChromophoreMeasure
    """
    region = check_region(region, maps.valid.shape)
    use = region & maps.valid
    n_region = int(region.sum())
    nan = float("nan")

    def mean(values: np.ndarray, mask: np.ndarray) -> float:
        return float(values[mask].astype(np.float64).mean()) if mask.any() else nan

    background = nan if spot_mask is None else mean(maps.melanin_pct, use & ~spot_mask)
    return ChromophoreMeasure(
        haemoglobin_index=mean(maps.blood_pct, use),
        melanin_density=mean(maps.melanin_pct, use),
        background_melanin_density=background,
        measured_pct=100.0 * int(use.sum()) / n_region,
        specular_excluded_pct=100.0 * int((region & maps.specular).sum()) / n_region,
    )
