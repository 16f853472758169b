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

#: Red: a long-pass dye filter (edge nm, steepness nm); green and blue: Gaussian
#: dye bands (peak nm, width nm); all behind an IR-cut filter (edge nm).
RED_EDGE_NM: tuple[float, float] = (590.0, 8.0)
GREEN_BAND_NM: tuple[float, float] = (530.0, 30.0)
BLUE_BAND_NM: tuple[float, float] = (460.0, 30.0)
IR_CUT_NM = 655.0
#: The camera's rendering "look": a small hue rotation about the grey axis (degrees).
#: Phones do not render colorimetrically; this leaves an uncorrected ColorChecker
#: about 1.8 CIEDE2000 off under D65 without changing saturation (a saturation boost
#: would blow a warm cast up until blue is crushed to zero).
LOOK_HUE_DEG = -3.0


@cache
def sensitivities() -> np.ndarray:
    """Camera R, G, B spectral sensitivities, shape (n_wavelengths, 3), peak 1.

    Shaped like a real colour filter array: the red filter is a long-pass edge cut
    off by the IR filter, green and blue are band-passes. They are not a linear
    transform of the CIE functions (the Luther condition fails), chosen so that
    a chart-calibrated camera under D65 still reads a skin redness change within a
    few percent of the colorimetric truth.
    """
    lam = spectra.WAVELENGTHS_NM
    red = 1.0 / (1.0 + np.exp(-(lam - RED_EDGE_NM[0]) / RED_EDGE_NM[1]))
    green = np.exp(-0.5 * ((lam - GREEN_BAND_NM[0]) / GREEN_BAND_NM[1]) ** 2)
    blue = np.exp(-0.5 * ((lam - BLUE_BAND_NM[0]) / BLUE_BAND_NM[1]) ** 2)
    ir_cut = 1.0 / (1.0 + np.exp((lam - IR_CUT_NM) / 9.0))
    curves = np.stack([red, green, blue], axis=1) * ir_cut[:, None]
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
    white neutral (each row sums to 1), then the :data:`LOOK_HUE_DEG` rotation.
    """
    refl = _training_reflectances()
    cam = sensor_rgb(refl, spectra.d65()) * white_balance_gains()
    target = spectra.reflectance_to_linear_srgb(refl)
    # Row r: minimise |cam @ m - t| with m0 + m1 + m2 = 1; substitute m2 = 1 - m0 - m1.
    matrix = np.empty((3, 3))
    basis = cam[:, :2] - cam[:, 2:3]
    for row in range(3):
        sol, *_ = np.linalg.lstsq(basis, target[:, row] - cam[:, 2], rcond=None)
        matrix[row] = [sol[0], sol[1], 1.0 - sol.sum()]
    # Rodrigues rotation about the grey axis: greys stay grey, hues turn.
    a = np.deg2rad(LOOK_HUE_DEG)
    k = np.ones(3) / np.sqrt(3.0)
    cross = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    look = np.eye(3) + np.sin(a) * cross + (1.0 - np.cos(a)) * cross @ cross
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
