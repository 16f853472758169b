"""Spectral test harness: skin and a ColorChecker through real cameras under real lights.

Independent of the simulator's own skin model and camera (``spectra.py``,
``camera.py``): it renders with the published sensitivities of two cameras
(NPL's Nikon D5100 and Sigma SD Merrill, shipped with colour-science), CIE and
LED illuminants (D65, D50, LED-B1..B5, A, FL2, FL11), the ColorChecker's
"BabelColor Average" spectra (or Ohta's measurement, to see a chart that is not
the average), and a white balance that is either locked (set for
D65) or automatic (per-channel gains in camera RGB that make the chart's greys
neutral). Then the camera's fixed colour matrix, clipping, sRGB encoding, noise
and 8 bits.

The skin is rendered from a *different* skin model than the one the chromophore
inversion fits (:mod:`tracker.analysis.chromophores.skin_model`): diffuse
reflectance from Farrell's diffusion formula instead of the exponential
approximation, a flatter scattering slope, a thicker epidermis, another surface
reflection and blood oxygen saturation. Tests that pass on these renders are
therefore not an inversion recovering its own forward model.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from tracker.analysis.chromophores import spectra as chromo

#: The harness integrates over 380-730 nm (where the chart spectra are tabulated), 5 nm.
WAVELENGTHS_NM: np.ndarray = np.arange(380.0, 731.0, 5.0)
WAVELENGTHS_NM.setflags(write=False)

CAMERAS: tuple[str, ...] = ("Nikon 5100 (NPL)", "Sigma SDMerill (NPL)")
LIGHTS: tuple[str, ...] = ("D65", "D50", "LED-B1", "LED-B2", "LED-B3", "LED-B4", "LED-B5", "A", "FL2", "FL11")
#: Lights whose spectra are smooth enough for the inversion (daylight, LED, incandescent).
SMOOTH_LIGHTS: tuple[str, ...] = ("D65", "D50", "LED-B1", "LED-B2", "LED-B3", "LED-B4", "LED-B5", "A")
WHITE_BALANCE_MODES: tuple[str, ...] = ("locked", "auto")

#: The harness's chart: the published average the inversion assumes. "ColorChecker N Ohta"
#: (another measurement of the chart, mean CIEDE2000 0.8 away) shows what an individual
#: chart's deviation does.
CHART_SPECTRA = "BabelColor Average"
CHART_SPECTRA_SETS: tuple[str, ...] = ("BabelColor Average", "ColorChecker N Ohta")

#: The harness's skin: other optics than the inversion's (60 um, 46 cm^-1, slope 1.42).
EPIDERMIS_UM = 85.0
SCATTER_500_PER_CM = 38.0
SCATTER_SLOPE = 1.0
SURFACE_REFLECTANCE = 0.03
SATURATION = 0.7
#: Farrell's boundary constant A for a tissue index of 1.4.
FARRELL_A = 2.95


def _resample(wavelengths: np.ndarray, values: np.ndarray) -> np.ndarray:
    return chromo.resample(wavelengths, values, WAVELENGTHS_NM)


@cache
def chart_reflectances(spectra_set: str = CHART_SPECTRA) -> np.ndarray:
    """A chart's patch spectra (one of :data:`CHART_SPECTRA_SETS`) on the harness grid, shape (24, n_wavelengths)."""
    if spectra_set not in CHART_SPECTRA_SETS:
        raise ValueError(f"spectra_set must be one of {CHART_SPECTRA_SETS}, got {spectra_set!r}")
    colour = chromo.colour_module()
    out = np.array([_resample(sd.wavelengths, sd.values) for sd in colour.SDS_COLOURCHECKERS[spectra_set].values()])
    out.setflags(write=False)
    return out


@cache
def illuminant(name: str) -> np.ndarray:
    """Relative spectral power of a named CIE/LED illuminant on the harness grid."""
    if name not in LIGHTS:
        raise ValueError(f"light must be one of {LIGHTS}, got {name!r}")
    sd = chromo.colour_module().SDS_ILLUMINANTS[name]
    out = _resample(sd.wavelengths, sd.values)
    out /= out.max()
    out.setflags(write=False)
    return out


@cache
def sensitivities(camera: str) -> np.ndarray:
    """Published R, G, B sensitivities of a camera, shape (n_wavelengths, 3), peak 1."""
    if camera not in CAMERAS:
        raise ValueError(f"camera must be one of {CAMERAS}, got {camera!r}")
    msds = chromo.colour_module().MSDS_CAMERA_SENSITIVITIES[camera]
    out = _resample(msds.wavelengths, msds.values)
    out /= out.max()
    out.setflags(write=False)
    return out


def skin_reflectance(
    melanin_pct: np.ndarray | float, blood_pct: np.ndarray | float, *, saturation: float = SATURATION
) -> np.ndarray:
    """The harness's skin reflectance (its own model, see the module docstring).

    Parameters
    ----------
    melanin_pct, blood_pct : array_like
        Epidermal melanosome and dermal blood volume fractions, percent.
    saturation : float
        Blood oxygen saturation, in [0, 1].

    Returns
    -------
    numpy.ndarray
        Shape broadcast(melanin_pct, blood_pct) + (n_wavelengths,).
    """
    lam = WAVELENGTHS_NM
    table = chromo.prahl_table()
    molar = saturation * np.interp(lam, table[:, 0], table[:, 1]) + (1 - saturation) * np.interp(lam, table[:, 0], table[:, 2])
    blood = np.log(10.0) * molar * chromo.BLOOD_HAEMOGLOBIN_G_PER_L / chromo.HAEMOGLOBIN_G_PER_MOL
    melanin = 6.6e11 * lam**-3.33
    background = 0.244 + 85.3 * np.exp(-(lam - 154.0) / 66.2)  # Jacques 2013's newer background
    m = np.asarray(melanin_pct, dtype=np.float64)[..., None] / 100.0
    b = np.asarray(blood_pct, dtype=np.float64)[..., None] / 100.0
    mu_a = b * blood + (1.0 - b) * background
    mu_s = SCATTER_500_PER_CM * (lam / 500.0) ** -SCATTER_SLOPE
    albedo = mu_s / (mu_a + mu_s)
    root = np.sqrt(3.0 * (1.0 - albedo))
    dermis = 0.5 * albedo * (1.0 + np.exp(-4.0 / 3.0 * FARRELL_A * root)) * np.exp(-root)
    epidermis = np.exp(-(m * melanin + (1.0 - m) * background) * EPIDERMIS_UM * 1e-4)
    return SURFACE_REFLECTANCE + epidermis**2 * dermis


@dataclass(frozen=True)
class Camera:
    """One camera's signal chain: sensitivities, white balance for a light, fixed colour matrix."""

    name: str
    light: str
    white_balance: str

    def raw(self, reflectance: np.ndarray) -> np.ndarray:
        """Sensor RGB of reflectances under the light (no gains), perfect white under D65 peaks at 1."""
        return np.asarray(reflectance) @ (illuminant(self.light)[:, None] * sensitivities(self.name)) / _raw_scale(self.name)

    def gains(self) -> np.ndarray:
        """White-balance gains: D65's for a locked balance, the chart's greys' for an automatic one."""
        if self.white_balance == "locked":
            return _d65_gains(self.name)
        if self.white_balance != "auto":
            raise ValueError(f"white_balance must be one of {WHITE_BALANCE_MODES}, got {self.white_balance!r}")
        grey = self.raw(chart_reflectances()[19:22]).sum(axis=0)  # neutral 8, 6.5, 5
        return grey[1] / grey

    def linear_output(self, reflectance: np.ndarray, *, exposure: float) -> np.ndarray:
        """Noise-free camera output in linear sRGB (unclipped), shape (..., 3)."""
        return (self.raw(reflectance) * exposure * self.gains()) @ colour_matrix(self.name).T

    def auto_exposure(self) -> float:
        """Exposure that puts the chart's white patch at 0.8 in its brightest output channel."""
        return 0.8 / float(self.linear_output(chart_reflectances()[18], exposure=1.0).max())


@lru_cache(maxsize=4)
def _raw_scale(camera: str) -> float:
    return float((illuminant("D65")[:, None] * sensitivities(camera)).sum(axis=0).max())


@lru_cache(maxsize=4)
def _d65_gains(camera: str) -> np.ndarray:
    white = np.ones(WAVELENGTHS_NM.size) @ (illuminant("D65")[:, None] * sensitivities(camera)) / _raw_scale(camera)
    return white[1] / white


@lru_cache(maxsize=4)
def colour_matrix(camera: str) -> np.ndarray:
    """The camera's fixed matrix from white-balanced raw to linear sRGB, fitted under D65 (rows sum to 1).

    Least squares on the chart's patches and a spread of skin colours, white kept neutral.
    """
    truth_w = chromo.linear_srgb_observer(WAVELENGTHS_NM)
    skin = skin_reflectance(np.array([2.0, 8.0, 20.0])[:, None], np.array([0.5, 2.0, 5.0])[None, :]).reshape(-1, WAVELENGTHS_NM.size)
    training = np.vstack([chart_reflectances(), skin])
    cam = training @ (illuminant("D65")[:, None] * sensitivities(camera)) / _raw_scale(camera) * _d65_gains(camera)
    cam_white = np.ones(WAVELENGTHS_NM.size) @ (illuminant("D65")[:, None] * sensitivities(camera)) / _raw_scale(camera) * _d65_gains(camera)
    cam = cam / cam_white[1]
    target = training @ truth_w
    matrix = np.empty((3, 3))
    basis = cam[:, :2] - cam[:, 2:3]
    for row in range(3):
        sol = np.linalg.lstsq(basis, target[:, row] - cam[:, 2], rcond=None)[0]
        matrix[row] = [sol[0], sol[1], 1.0 - sol.sum()]
    matrix /= cam_white[1]
    matrix.setflags(write=False)
    return matrix


def _encode_8bit(linear: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    if noise > 0:
        linear = linear + rng.standard_normal(linear.shape) * noise * np.sqrt(np.maximum(linear, 0.0) + 0.01)
    linear = np.clip(linear, 0.0, 1.0)
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.round(encoded * 255.0).astype(np.uint8)


@dataclass(frozen=True)
class Capture:
    """One capture: the chart's 24 patches and a skin patch, as 8-bit sRGB pixels."""

    chart: np.ndarray  # (24, n, 3) uint8: each patch's pixels
    skin: np.ndarray  # (H, W, 3) uint8


def capture(
    camera: str,
    light: str,
    *,
    white_balance: str,
    melanin_pct: np.ndarray,
    blood_pct: np.ndarray,
    seed: int = 0,
    noise: float = 0.01,
    chart_pixels: int = 100,
    saturation: float = SATURATION,
    chart_spectra: str = CHART_SPECTRA,
) -> Capture:
    """Render the chart and a skin patch through a camera under a light, 8 bits with noise.

    Parameters
    ----------
    camera : str
        One of :data:`CAMERAS`.
    light : str
        One of :data:`LIGHTS`.
    white_balance : {"locked", "auto"}
        Locked to D65, or automatic on the chart's greys.
    melanin_pct, blood_pct : numpy.ndarray
        Per-pixel chromophore maps of the skin patch (same shape (H, W)), percent.
    seed : int
        Noise seed.
    noise : float
        Noise standard deviation at mid-grey, linear units (shot-like, grows with signal).
    chart_pixels : int
        Pixels rendered per chart patch.
    saturation : float
        Blood oxygen saturation of the skin.
    chart_spectra : str
        Which measurement of the chart is in the scene (:data:`CHART_SPECTRA_SETS`).
    """
    cam = Camera(camera, light, white_balance)
    exposure = cam.auto_exposure()
    rng = np.random.default_rng(seed)
    chart_linear = cam.linear_output(chart_reflectances(chart_spectra), exposure=exposure)
    chart = _encode_8bit(np.repeat(chart_linear[:, None, :], chart_pixels, axis=1), rng, noise)
    skin_linear = cam.linear_output(skin_reflectance(melanin_pct, blood_pct, saturation=saturation), exposure=exposure)
    return Capture(chart=chart, skin=_encode_8bit(skin_linear, rng, noise))


def skin_maps(shape: tuple[int, int], *, melanin_pct: float, blood_pct: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mildly textured melanin and blood maps around given means (independent +-10 % mottling)."""
    rng = np.random.default_rng(seed)

    def mottle() -> np.ndarray:
        field = rng.standard_normal((shape[0] // 8 + 2, shape[1] // 8 + 2))
        up = np.kron(field, np.ones((8, 8)))[: shape[0], : shape[1]]
        return 1.0 + 0.1 * up / max(float(up.std()), 1e-9)
    return melanin_pct * mottle(), blood_pct * mottle()
