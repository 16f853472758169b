"""The simulated camera: spectral sensitivities, fixed white balance, colour matrix, noise.

The camera is deliberately *not* the CIE observer: three smooth Gaussian channel
sensitivities (with an IR-cut roll-off), white-balanced once for D65 and given a
fixed 3x3 colour correction matrix fitted on generic smooth reflectances. It is
never re-balanced for the scene's light, so a 2700 K room keeps its warm cast,
and because the sensitivities are not a linear transform of the CIE functions a
change of light is not a pure per-channel scaling of camera RGB.

Signal chain (linear light): scene radiance -> sensor RGB -> shot + read noise ->
sensor saturation at 1.0 -> white-balance gains -> colour matrix -> clip [0, 1] ->
sRGB encoding.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from tracker.simulate import spectra

#: Peak wavelengths and widths (nm) of the camera's R, G, B sensitivities.
SENSOR_PEAKS_NM: tuple[float, float, float] = (600.0, 535.0, 460.0)
SENSOR_WIDTHS_NM: tuple[float, float, float] = (42.0, 48.0, 34.0)
#: The camera's rendering "look": saturation boost in linear RGB (phones render colour
#: more saturated than colorimetric; it is one reason an uncorrected photo is off by
#: a few CIEDE2000 units).
LOOK_SATURATION = 1.15
_LUMA = (0.2126, 0.7152, 0.0722)


@cache
def sensitivities() -> np.ndarray:
    """Camera R, G, B spectral sensitivities, shape (n_wavelengths, 3), peak 1."""
    lam = spectra.WAVELENGTHS_NM[:, None]
    peaks = np.array(SENSOR_PEAKS_NM)
    widths = np.array(SENSOR_WIDTHS_NM)
    curves = np.exp(-0.5 * ((lam - peaks) / widths) ** 2)
    # Silicon's secondary response: red sees a little blue-green, blue a little green.
    curves[:, 0] += 0.06 * np.exp(-0.5 * ((lam[:, 0] - 470.0) / 25.0) ** 2)
    curves[:, 2] += 0.04 * np.exp(-0.5 * ((lam[:, 0] - 540.0) / 30.0) ** 2)
    ir_cut = 1.0 / (1.0 + np.exp((lam[:, 0] - 655.0) / 9.0))
    curves *= ir_cut[:, None]
    curves /= curves.max(axis=0)
    curves.setflags(write=False)
    return curves


def sensor_rgb(reflectance: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Raw sensor RGB (before white balance) of reflectances under a light.

    Scaled so that a perfect white under D65 gives 1.0 in the strongest channel.
    """
    weights = light[:, None] * sensitivities()
    return np.asarray(reflectance, dtype=np.float64) @ weights / _sensor_scale()


@cache
def _sensor_scale() -> float:
    return float((spectra.d65()[:, None] * sensitivities()).sum(axis=0).max())


@cache
def white_balance_gains() -> np.ndarray:
    """Per-channel gains (>= 1) that make a perfect white under D65 neutral; fixed for every light."""
    white = sensor_rgb(np.ones(spectra.WAVELENGTHS_NM.size), spectra.d65())
    gains = white.max() / white
    gains.setflags(write=False)
    return gains


def _training_reflectances() -> np.ndarray:
    # Generic smooth reflectances (random sums of broad bumps and slopes), not the chart:
    # the matrix must not be tuned to the patches it is later judged on.
    rng = np.random.default_rng(12345)
    lam = spectra.WAVELENGTHS_NM
    out = []
    for _ in range(400):
        r = np.full(lam.size, rng.uniform(0.02, 0.3))
        for _ in range(rng.integers(1, 4)):
            centre = rng.uniform(380.0, 780.0)
            width = rng.uniform(30.0, 120.0)
            r += rng.uniform(0.05, 0.7) * np.exp(-0.5 * ((lam - centre) / width) ** 2)
        r += rng.uniform(-0.2, 0.2) * (lam - 580.0) / 200.0
        out.append(np.clip(r, 0.01, 0.95))
    skin = spectra.skin_reflectance(np.linspace(0.1, 1.8, 8)[:, None], np.linspace(0.1, 1.5, 6)[None, :])
    return np.vstack([np.array(out), skin.reshape(-1, lam.size)])


@cache
def colour_matrix() -> np.ndarray:
    """Fixed 3x3 matrix from white-balanced camera RGB to linear sRGB (rows sum to 1).

    Least squares under D65 on generic smooth reflectances, constrained to keep
    white neutral (each row sums to 1), followed by the :data:`LOOK_SATURATION` boost.
    """
    refl = _training_reflectances()
    cam = sensor_rgb(refl, spectra.d65()) * white_balance_gains()
    target = spectra.reflectance_to_linear_srgb(refl)
    # Row r: minimise |cam @ m - t| with m0 + m1 + m2 = 1; substitute m2 = 1 - m0 - m1.
    matrix = np.empty((3, 3))
    basis = cam[:, :2] - cam[:, 2:3]
    for row in range(3):
        rhs = target[:, row] - cam[:, 2]
        sol, *_ = np.linalg.lstsq(basis, rhs, rcond=None)
        matrix[row] = [sol[0], sol[1], 1.0 - sol.sum()]
    look = LOOK_SATURATION * np.eye(3) + (1.0 - LOOK_SATURATION) * np.array([_LUMA] * 3)
    matrix = look @ matrix
    matrix.setflags(write=False)
    return matrix


def camera_linear(reflectance: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Noise-free, unclipped camera output in linear sRGB for reflectances under a light.

    This is what the camera would report (white balance and colour matrix applied)
    at exposure 1 without noise or clipping; shape (..., 3).
    """
    cam = sensor_rgb(reflectance, light) * white_balance_gains()
    return cam @ colour_matrix().T


def apply_sensor(
    wb_rgb: np.ndarray,
    *,
    rng: np.random.Generator,
    noise: float,
) -> np.ndarray:
    """Add shot and read noise, saturate the sensor, white-balance and colour-correct.

    Parameters
    ----------
    wb_rgb : numpy.ndarray
        (H, W, 3) float32, white-balanced camera RGB (radiance times exposure).
    rng : numpy.random.Generator
        Source of noise.
    noise : float
        Shot-noise standard deviation at full scale (sensor value 1.0), linear units;
        read noise is a quarter of it. 0 disables noise.

    Returns
    -------
    numpy.ndarray
        (H, W, 3) float32 linear sRGB in [0, 1].
    """
    gains = white_balance_gains().astype(np.float32)
    sensor = wb_rgb / gains
    if noise > 0:
        var = (0.25 * noise) ** 2 + noise**2 * np.maximum(sensor, 0.0)
        sensor = sensor + rng.standard_normal(sensor.shape, dtype=np.float32) * np.sqrt(var, dtype=np.float32)
    sensor = np.clip(sensor, 0.0, 1.0)
    linear = (sensor * gains) @ colour_matrix().T.astype(np.float32)
    return np.clip(linear, 0.0, 1.0).astype(np.float32)
