"""Chromophore maps of a photo and their figures over a region.

:func:`chromophore_maps` turns a photo's linear camera image and its chart into
per-pixel melanin and blood maps (the spectral inversion of :mod:`inversion`,
through the response of :mod:`response`); :func:`measure_chromophores` gives the
region's figures. Pixels the skin model cannot describe (shine, hair, a colour
outside the skin gamut) are excluded and their share reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
from scipy.ndimage import distance_transform_edt

from tracker.analysis.checks import check_linear_rgb, check_region
from tracker.analysis.chromophores import camera_check, inversion, response

#: Blood oxygen saturation assumed for every photo. Three channels cannot tell it
#: apart from blood and melanin once brightness is free (the pixel's two colour
#: ratios are already used by melanin and blood), and in the spectral harness a
#: saturation anywhere in 0.5-0.9 moved a recovered blood change by under 1 %.
#: Both photos of a pair share it.
BLOOD_SATURATION = 0.75
#: A pixel brighter (green channel) than this multiple of the skin's smooth shading around
#: it ...
SPECULAR_BRIGHTNESS = 1.3
#: ... and whose ln(B/R) exceeds its surroundings' by this much (closer to the light's white).
SPECULAR_WHITENING = 0.1
#: Block size of the local skin level, as a share of the image's long side: larger than a
#: highlight, smaller than a face's light falloff.
SHADING_BLOCK_FRACTION = 0.08


def _shading(values: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """The skin's local level of ``values``: medians of ``inside`` pixels in blocks of about
    :data:`SHADING_BLOCK_FRACTION` of the long side, bilinearly upsampled. A median ignores
    the highlight itself and darker neighbours (hair, brows, shadowed folds)."""
    h, w = values.shape
    step = max(1, round(SHADING_BLOCK_FRACTION * max(h, w)))
    nby, nbx = -(-h // step), -(-w // step)
    # A block's median from a strided subsample: 64-256 pixels are plenty for a level. Only
    # the sampled pixels are read (every ``stride``-th of the block in row-major order), so
    # the cost does not grow with the image.
    stride = max(1, step * step // 256)
    offsets = np.arange(0, step * step, stride)
    ys = np.arange(nby)[:, None, None] * step + offsets // step
    xs = np.arange(nbx)[None, :, None] * step + offsets % step
    ys, xs = np.broadcast_arrays(ys, xs)
    within = (ys < h) & (xs < w)
    yc, xc = np.minimum(ys, h - 1), np.minimum(xs, w - 1)
    sample = np.where(within & inside[yc, xc], values[yc, xc], np.float32(np.nan)).astype(np.float32, copy=False)
    counts = np.isfinite(sample).sum(axis=2)
    level = np.full((nby, nbx), np.nan, dtype=np.float32)
    enough = counts >= max(8, sample.shape[2] // 10)
    if enough.any():
        level[enough] = np.nanmedian(sample[enough], axis=1)
        missing = ~enough
        if missing.any():
            _, (iy, ix) = distance_transform_edt(missing, return_indices=True)
            level[missing] = level[iy[missing], ix[missing]]
    else:
        level[:] = np.nanmedian(values[inside]) if inside.any() else 1.0
    # Block centres -> pixels (cv2.resize aligns centres with INTER_LINEAR).
    full = cv2.resize(level, (nbx * step, nby * step), interpolation=cv2.INTER_LINEAR)
    return full[:h, :w]


@cache
def default_table() -> inversion.InverseTable:
    """The inverse table of the default (chart-less) response: the same for every photo,
    so it is built once per process: about 0.2 s with the spectra it loads, which a worker
    pays at its start (`pipeline.warm_up`) rather than on its first photo."""
    table = inversion.build_inverse_table(response.default_response(), saturation=BLOOD_SATURATION)
    table.table.setflags(write=False)
    return table


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
        True when a chart in the frame calibrated the colours (either mode below).
    light : LightCheck
        The chart's verdict on the light (always ok without a chart: nothing to judge by).
    saturation : float
        Blood oxygen saturation used.
    mode : {"spectral", "corrected", "uncalibrated"}
        "spectral": the camera x light response was estimated from the chart's spectra
        (figures carry across lights); "corrected": the chart's colours did not match
        its published spectra closely enough, so the chart-corrected colours were read
        through a colorimetric D65 response (figures carry only within one light, like
        the legacy indices); "uncalibrated": no chart.
    chart_residual : float or None
        RMS relative residual of the chart's spectral fit (None without a chart).
    panel : PanelReading or None
        The photo's reading of the panel of plausible skins (:mod:`camera_check`),
        "spectral" mode only: whether its camera and light carry skin colour to the baseline's.
    """

    melanin_pct: np.ndarray
    blood_pct: np.ndarray
    valid: np.ndarray
    specular: np.ndarray
    calibrated: bool
    light: response.LightCheck
    saturation: float = BLOOD_SATURATION
    mode: str = "uncalibrated"
    chart_residual: float | None = None
    panel: camera_check.PanelReading | None = None


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
        (H, W) bool, the skin whose smooth shading defines "shine"; the whole image if None.
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
    >>> maps.calibrated, bool(maps.valid.all()), abs(float(maps.blood_pct[0, 0]) - 1.84) < 0.02
    (False, True, True)
    """
    linear = check_linear_rgb(linear)
    if region is not None:
        region = check_region(region, linear.shape[:2])
    if patch_linear is None:
        resp = response.default_response()
        light = response.LightCheck(True, float("nan"))
        table = default_table()
    else:
        resp = response.fit_response(patch_linear, usable=patch_usable)
        light = response.light_check(patch_linear, usable=patch_usable)
        table = inversion.build_inverse_table(resp, saturation=BLOOD_SATURATION)
    solution = inversion.solve_pixels(linear, table)
    inside = solution.in_gamut if region is None else solution.in_gamut & region
    # Shine is brighter *and* whiter than the skin around it (a surface reflection adds the
    # light's own colour): judged against the smooth shading of the observed green and of
    # ln(B/R), so that a lit cheek (brighter, same colour) or a darker spot is never shine.
    green = linear[..., 1]
    whiteness = solution.log_blue_red
    specular = (green > SPECULAR_BRIGHTNESS * _shading(green, inside)) & (
        whiteness > _shading(whiteness, inside) + SPECULAR_WHITENING
    )
    valid = solution.in_gamut & ~specular
    if region is not None:
        specular &= region
    invalid = ~valid
    melanin, blood = solution.melanin_pct, solution.blood_pct  # fresh arrays: NaN-marked in place
    melanin[invalid] = np.nan
    blood[invalid] = np.nan
    return ChromophoreMaps(
        melanin_pct=melanin,
        blood_pct=blood,
        valid=valid,
        specular=specular,
        calibrated=resp.calibrated,
        light=light,
        mode="spectral" if resp.calibrated else "uncalibrated",
        chart_residual=resp.residual_rms if resp.calibrated else None,
        panel=camera_check.read_panel(resp, table) if resp.calibrated else None,
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
    n_region = int(np.count_nonzero(region))
    nan = float("nan")

    def mean(values: np.ndarray, mask: np.ndarray) -> float:
        return float(values[mask].astype(np.float64).mean()) if mask.any() else nan

    background = nan if spot_mask is None else mean(maps.melanin_pct, use & ~spot_mask)
    return ChromophoreMeasure(
        haemoglobin_index=mean(maps.blood_pct, use),
        melanin_density=mean(maps.melanin_pct, use),
        background_melanin_density=background,
        measured_pct=100.0 * int(np.count_nonzero(use)) / n_region,
        specular_excluded_pct=100.0 * int(np.count_nonzero(region & maps.specular)) / n_region,
    )
