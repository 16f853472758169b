"""The camera x light response per channel, estimated from the chart in the frame.

A linear camera's value for a surface of reflectance R is sum_lambda w_k(lambda) R(lambda)
for each output channel k, whatever the light, the sensor, the white-balance gains
(a per-channel scale) and the camera's colour matrix: they all fold into w_k. The
24 patches of a ColorChecker have known reflectance spectra, so their 24 linear
values per channel are 24 equations for w_k. Written on 16 smooth basis functions
(Gaussians spaced evenly across the band) and ridge-regularised towards smooth
curves, the fit is well posed; 8 functions are too coarse for the skin's
haemoglobin bands.

The fit's residuals also say whether the light can be modelled at all. Under a
spiky light (fluorescent tubes with mercury lines, mixed sources) no smooth response
reproduces the patches; the residual pattern then marks the photo as not
comparable for colour measures (:func:`light_check`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from tracker.analysis.chromophores import spectra

#: Number of smooth basis functions per channel.
N_BASIS = 16
#: Ridge strength on the second difference of the basis weights, relative to the
#: squared scale of the design matrix.
SMOOTHNESS = 1e-6
#: Patches whose linear value in any channel lies outside this band are clipped or
#: crushed and left out of the fit.
USABLE_LINEAR: tuple[float, float] = (0.004, 0.97)
#: Fewest usable patches for a fit (16 unknowns per channel, regularised).
MIN_PATCHES = 12
#: Emission lines of fluorescent lamps, nm: mercury (436 nm), and the tri-phosphor tubes'
#: terbium (546 nm, on mercury's line) and europium (611 nm) bands.
LAMP_LINES_NM: tuple[float, ...] = (436.0, 546.0, 611.0)
#: Smoothing of the light check's fits: stronger than the response's, so that a smooth
#: fit cannot follow lines.
LIGHT_CHECK_SMOOTHNESS = 1e-5
#: Above this residual ratio the light is refused (harness: smooth lights <= 1.45, FL2 <= 1.65, FL11 >= 2.6).
MAX_LINE_GAIN = 2.0


@dataclass(frozen=True)
class CameraResponse:
    """Per-channel spectral response of one photo's camera under its light.

    Attributes
    ----------
    weights : numpy.ndarray
        Shape (n_wavelengths, 3): linear channel value = reflectance @ weights.
    calibrated : bool
        True when estimated from a chart in the frame; False for the default
        colorimetric (sRGB, D65) response.
    residual_rms : float
        RMS relative residual of the chart fit over the usable patches (0 when
        not calibrated).
    patches_used : int
        Number of chart patches in the fit.
    """

    weights: np.ndarray
    calibrated: bool
    residual_rms: float = 0.0
    patches_used: int = 0

    def render(self, reflectance: np.ndarray) -> np.ndarray:
        """Linear camera values of reflectances, shape (..., 3)."""
        return np.asarray(reflectance, dtype=np.float64) @ self.weights


@cache
def basis() -> np.ndarray:
    """The smooth basis, shape (n_wavelengths, :data:`N_BASIS`): Gaussians one spacing wide."""
    lam = spectra.WAVELENGTHS_NM
    centres = np.linspace(lam[0], lam[-1], N_BASIS)
    width = centres[1] - centres[0]
    out = np.exp(-0.5 * ((lam[:, None] - centres[None, :]) / width) ** 2)
    out.setflags(write=False)
    return out


def default_response() -> CameraResponse:
    """The response assumed without a chart: a colorimetric camera under D65 (linear sRGB)."""
    return CameraResponse(weights=spectra.srgb_observer_response(), calibrated=False)


def _weighted_fit(
    values: np.ndarray, refl: np.ndarray, *, smoothness: float, extra: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel weighted ridge fit; returns (coefficients, relative residuals of the patches)."""
    design = refl @ basis()
    n_smooth = design.shape[1]
    if extra is not None:
        design = np.hstack([design, extra])
    penalty = np.diff(np.eye(N_BASIS), n=2, axis=0)
    penalty = np.hstack([penalty, np.zeros((len(penalty), design.shape[1] - n_smooth))])
    penalty *= np.sqrt(smoothness) * np.linalg.norm(design[:, :n_smooth], 2)
    # Relative weights: the inversion works on log ratios, so a dark channel's
    # error counts as much as a bright one's.
    weight = 1.0 / np.maximum(values, 0.02)
    coefficients = np.empty((design.shape[1], 3))
    residuals = np.empty_like(values)
    for k in range(3):
        system = np.vstack([design * weight[:, k, None], penalty * np.median(weight[:, k])])
        target = np.concatenate([values[:, k] * weight[:, k], np.zeros(len(penalty))])
        coefficients[:, k] = np.linalg.lstsq(system, target, rcond=None)[0]
        residuals[:, k] = (design @ coefficients[:, k] - values[:, k]) * weight[:, k]
    return coefficients, residuals


def _usable(values: np.ndarray, usable: np.ndarray | None) -> np.ndarray:
    ok = np.all((values > USABLE_LINEAR[0]) & (values < USABLE_LINEAR[1]), axis=1)
    return ok if usable is None else ok & np.asarray(usable, dtype=bool)


def _patches(patch_linear: np.ndarray, patch_reflectances: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(patch_linear, dtype=np.float64)
    refl = spectra.chart_reflectances() if patch_reflectances is None else np.asarray(patch_reflectances, np.float64)
    if values.shape != (refl.shape[0], 3):
        raise ValueError(f"patch_linear must have shape ({refl.shape[0]}, 3), got {values.shape}")
    return values, refl


def fit_response(
    patch_linear: np.ndarray,
    *,
    usable: np.ndarray | None = None,
    patch_reflectances: np.ndarray | None = None,
) -> CameraResponse:
    """Estimate the camera x light response from the chart's measured patch colours.

    Parameters
    ----------
    patch_linear : numpy.ndarray
        Shape (24, 3), mean linear-light values of the chart's patches as the
        camera recorded them (sRGB-decoded, before any colour correction).
    usable : numpy.ndarray, optional
        Shape (24,) bool, patches the detector trusts; clipped and crushed
        patches are left out in any case.
    patch_reflectances : numpy.ndarray, optional
        Shape (24, n_wavelengths); defaults to the ColorChecker's published
        spectra (:func:`spectra.chart_reflectances`).

    Returns
    -------
    CameraResponse
        ``calibrated=True``.

    Examples
    --------
    >>> refl = spectra.chart_reflectances()
    >>> truth = basis() @ np.linspace(0.01, 0.02, N_BASIS)[:, None] * np.ones((1, 3))
    >>> fit = fit_response(refl @ truth)
    >>> bool(np.allclose(fit.render(refl), refl @ truth, rtol=0.02))
    True
    """
    values, refl = _patches(patch_linear, patch_reflectances)
    ok = _usable(values, usable)
    if ok.sum() < MIN_PATCHES:
        raise ValueError(f"only {int(ok.sum())} usable chart patches, at least {MIN_PATCHES} needed")
    coefficients, residuals = _weighted_fit(values[ok], refl[ok], smoothness=SMOOTHNESS)
    return CameraResponse(
        weights=basis() @ coefficients,
        calibrated=True,
        residual_rms=float(np.sqrt(np.mean(residuals**2))),
        patches_used=int(ok.sum()),
    )


@dataclass(frozen=True)
class LightCheck:
    """Whether the photo's light can be modelled by a smooth response.

    Attributes
    ----------
    ok : bool
        False for a spiky (line-spectrum) or mixed light.
    line_gain : float
        RMS residual of the smooth chart fit divided by that of the same fit with
        extra terms at the emission lines of fluorescent lamps (:data:`LAMP_LINES_NM`):
        about 1-1.6 under daylight, LEDs, incandescent and halophosphate tubes;
        2.6-4 under tri-phosphor tubes (FL11) in the spectral harness.
    reason : str or None
        Plain words for the technician when not ok, starting "light: ".
    """

    ok: bool
    line_gain: float
    reason: str | None = None


def light_check(patch_linear: np.ndarray, *, usable: np.ndarray | None = None) -> LightCheck:
    """Recognise a spiky light from the pattern of the chart fit's residuals.

    Under a light with narrow emission lines the patches' colours follow the
    patches' reflectance *at the lines*; a smooth response leaves a residual
    pattern that terms at those lines explain. The check fits the chart twice,
    smooth only and smooth plus line terms, and compares the residuals.

    Parameters
    ----------
    patch_linear : numpy.ndarray
        Shape (24, 3), the chart's linear patch values as recorded.
    usable : numpy.ndarray, optional
        Shape (24,) bool, patches to use.

    Returns
    -------
    LightCheck

    Examples
    --------
    >>> refl = spectra.chart_reflectances()
    >>> smooth = basis() @ np.linspace(0.01, 0.02, N_BASIS)[:, None] * np.ones((1, 3))
    >>> light_check(refl @ smooth).ok
    True
    """
    values, refl = _patches(patch_linear, None)
    ok = _usable(values, usable)
    if ok.sum() < MIN_PATCHES:
        return LightCheck(False, float("nan"), "light: too few usable chart patches to check the light: retake with the whole chart in view")
    lines = np.stack([np.interp(LAMP_LINES_NM, spectra.WAVELENGTHS_NM, r) for r in refl[ok]])
    _, smooth = _weighted_fit(values[ok], refl[ok], smoothness=LIGHT_CHECK_SMOOTHNESS)
    _, with_lines = _weighted_fit(values[ok], refl[ok], smoothness=LIGHT_CHECK_SMOOTHNESS, extra=lines)
    gain = float(np.sqrt(np.mean(smooth**2)) / max(np.sqrt(np.mean(with_lines**2)), 1e-12))
    if gain > MAX_LINE_GAIN:
        reason = (
            "light: the chart shows a spiky light (fluorescent tubes or mixed light), whose effect on skin colour"
            " cannot be corrected: retake under the clinic's daylight lamp or LED"
        )
        return LightCheck(False, gain, reason)
    return LightCheck(True, gain)
