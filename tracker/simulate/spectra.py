"""Spectral building blocks: wavelengths, illuminants, skin chromophores, observers.

Everything is sampled on :data:`WAVELENGTHS_NM` (380-780 nm, 5 nm). The CIE tables
(1931 2-degree colour matching functions, D65, daylight basis S0/S1/S2) are the
published CIE data, stored in ``data/cie_tables.csv``.

The skin chromophore spectra are deliberately approximate (smooth analytic shapes
with the right features), which is all the simulator needs: melanin's optical
density decays with wavelength as a power law; oxy-haemoglobin has its two visible
Q bands at 542 and 577 nm, a weak Soret tail in the blue and almost no absorption
above 600 nm.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np

#: Sampling of every spectrum in this package, nm.
WAVELENGTHS_NM: np.ndarray = np.arange(380.0, 781.0, 5.0)
WAVELENGTHS_NM.setflags(write=False)

#: CIE XYZ (D65 white, Y = 1) to linear sRGB, IEC 61966-2-1.
XYZ_TO_LINEAR_SRGB: np.ndarray = np.array(
    [
        [3.2404542, -1.5371385, -0.4985314],
        [-0.9692660, 1.8760108, 0.0415560],
        [0.0556434, -0.2040259, 1.0572252],
    ]
)
XYZ_TO_LINEAR_SRGB.setflags(write=False)

#: Light kinds accepted by :func:`illuminant`.
LIGHT_KINDS: tuple[str, ...] = ("blackbody", "daylight", "led")

_H = 6.62607015e-34
_C = 2.99792458e8
_K = 1.380649e-23


@cache
def _cie_tables() -> np.ndarray:
    text = resources.files("tracker.simulate").joinpath("data/cie_tables.csv").read_text()
    table = np.loadtxt(text.splitlines(), delimiter=",", skiprows=1)
    if not np.allclose(table[:, 0], WAVELENGTHS_NM):
        raise RuntimeError("data/cie_tables.csv does not match WAVELENGTHS_NM")
    table.setflags(write=False)
    return table


def cmf_xyz() -> np.ndarray:
    """CIE 1931 2-degree colour matching functions, shape (n_wavelengths, 3)."""
    return _cie_tables()[:, 1:4]


def d65() -> np.ndarray:
    """CIE standard illuminant D65 relative spectral power, shape (n_wavelengths,)."""
    return _cie_tables()[:, 4]


def _normalise_luminance(spd: np.ndarray) -> np.ndarray:
    # Same luminance as D65 so that a change of light is not also an exposure change.
    y = cmf_xyz()[:, 1]
    return spd * (float(d65() @ y) / float(spd @ y))


def blackbody(cct_k: float) -> np.ndarray:
    """Planck spectrum at ``cct_k`` kelvin, scaled to D65's luminance."""
    lam = WAVELENGTHS_NM * 1e-9
    spd = 1.0 / (lam**5 * np.expm1(_H * _C / (lam * _K * cct_k)))
    return _normalise_luminance(spd)


def daylight(cct_k: float) -> np.ndarray:
    """CIE daylight illuminant (D series) at ``cct_k`` kelvin (4000-25000), scaled to D65's luminance."""
    if not 4000.0 <= cct_k <= 25000.0:
        raise ValueError(f"cct_k must be in [4000, 25000] K for daylight, got {cct_k}")
    t = cct_k * 1.4388 / 1.4380  # CIE's correction for the revised c2 constant
    if t <= 7000.0:
        xd = -4.6070e9 / t**3 + 2.9678e6 / t**2 + 0.09911e3 / t + 0.244063
    else:
        xd = -2.0064e9 / t**3 + 1.9018e6 / t**2 + 0.24748e3 / t + 0.237040
    yd = -3.000 * xd**2 + 2.870 * xd - 0.275
    m = 0.0241 + 0.2562 * xd - 0.7341 * yd
    m1 = (-1.3515 - 1.7703 * xd + 5.9114 * yd) / m
    m2 = (0.0300 - 31.4424 * xd + 30.0717 * yd) / m
    tab = _cie_tables()
    return _normalise_luminance(tab[:, 5] + m1 * tab[:, 6] + m2 * tab[:, 7])


def white_led(cct_k: float) -> np.ndarray:
    """A phosphor-converted white LED at the blackbody's chromaticity for ``cct_k`` (2500-8000 K).

    A narrow blue pump (450 nm) plus broad green (535 nm) and red (615 nm) phosphor
    bands, mixed so that the light has the same XYZ as the Planckian radiator at
    ``cct_k``: a spiky spectrum that makes a light change strongly non-diagonal in
    camera RGB, as real LED rooms do.
    """
    if not 2500.0 <= cct_k <= 8000.0:
        raise ValueError(f"cct_k must be in [2500, 8000] K for an LED, got {cct_k}")
    lam = WAVELENGTHS_NM
    parts = np.stack([
        np.exp(-0.5 * ((lam - 450.0) / 10.0) ** 2),
        np.exp(-0.5 * ((lam - 535.0) / 38.0) ** 2),
        np.exp(-0.5 * ((lam - 615.0) / 42.0) ** 2),
    ])
    weights = np.linalg.solve((parts @ cmf_xyz()).T, blackbody(cct_k) @ cmf_xyz())
    if np.any(weights <= 0):
        raise ValueError(f"no LED mix reproduces {cct_k} K")
    return _normalise_luminance(weights @ parts)


def illuminant(cct_k: float, *, kind: str = "blackbody") -> np.ndarray:
    """Spectral power of a light at colour temperature ``cct_k`` K, at D65's luminance.

    Parameters
    ----------
    cct_k : float
        Correlated colour temperature, kelvin, 1500-25000 (daylight: 4000-25000).
    kind : {"blackbody", "daylight", "led"}
        Planckian radiator (tungsten/halogen-like), CIE daylight, or a phosphor white LED.

    Returns
    -------
    numpy.ndarray
        Shape (n_wavelengths,), relative power; perfect white under it has Y = Y(D65).
    """
    if not isinstance(cct_k, (int, float)) or not 1500.0 <= float(cct_k) <= 25000.0:
        raise ValueError(f"cct_k must be a number in [1500, 25000] K, got {cct_k!r}")
    if kind == "blackbody":
        return blackbody(float(cct_k))
    if kind == "daylight":
        return daylight(float(cct_k))
    if kind == "led":
        return white_led(float(cct_k))
    raise ValueError(f"kind must be one of {LIGHT_KINDS}, got {kind!r}")


#: Effective exponent of melanin's power law. In-vitro eumelanin is about 3.5; in skin the
#: epidermis's scattering flattens it, and 2.5 gives realistic colours from type I to VI.
MELANIN_EXPONENT = 2.5

#: Achromatic surface (Fresnel) reflectance added to the body reflectance.
SURFACE_REFLECTANCE = 0.025

#: Photon path lengths (relative) and their weights in diffuse reflectance: light
#: leaving the skin has travelled different depths, which softens strong absorption
#: bands compared with a single Beer-Lambert path (modified Beer-Lambert).
PATH_LENGTHS: tuple[float, ...] = (0.4, 1.0, 2.2)
PATH_WEIGHTS: tuple[float, ...] = (0.3, 0.45, 0.25)


def melanin_extinction() -> np.ndarray:
    """Melanin optical density per unit OD at 500 nm: a decaying power law, (lambda/500)^-2.5."""
    return (WAVELENGTHS_NM / 500.0) ** -MELANIN_EXPONENT


#: Oxygen saturation of the skin's blood (mixed arterial and venous).
BLOOD_OXYGEN_SATURATION = 0.75


def haemoglobin_extinction() -> np.ndarray:
    """Blood optical density per unit OD at 577 nm (approximate, Soret peak omitted).

    A 75 % oxygenated mix. Oxy-haemoglobin: two Q bands (542, 577 nm) on a broad
    500-590 nm shoulder, a steep drop above 590 nm. Deoxy-haemoglobin: one broad
    band at 555 nm and a tail through the red (about a quarter of its peak at
    600 nm, halving every ~23 nm). Both share a weak blue tail (the Soret band's
    flank), so that blood makes skin redder and slightly yellower.
    """
    lam = WAVELENGTHS_NM
    drop = 1.0 / (1.0 + np.exp((lam - 592.0) / 5.0))
    oxy = (
        0.92 * np.exp(-0.5 * ((lam - 542.0) / 11.0) ** 2)
        + 1.00 * np.exp(-0.5 * ((lam - 577.0) / 9.0) ** 2)
        + 0.45 * np.exp(-0.5 * ((lam - 555.0) / 28.0) ** 2)
    ) * drop
    deoxy = np.exp(-0.5 * ((lam - 555.0) / 22.0) ** 2)
    deoxy = np.where(lam >= 600.0, np.maximum(deoxy, 0.27 * np.exp(-(lam - 600.0) / 33.0)), deoxy)
    blue_tail = 2.1 * np.exp(-(lam - 400.0) / 50.0) * drop
    so2 = BLOOD_OXYGEN_SATURATION
    spectrum = so2 * oxy + (1.0 - so2) * deoxy + blue_tail + 0.004
    return spectrum / np.interp(577.0, lam, spectrum)


def dermis_reflectance() -> np.ndarray:
    """Bloodless, melanin-free skin body reflectance (collagen scattering), 0.53 at 400 nm rising to 0.75."""
    return np.clip(0.53 + 0.22 * (WAVELENGTHS_NM - 400.0) / 300.0, 0.5, 0.78)


def skin_reflectance(melanin_od: np.ndarray, haemoglobin_od: np.ndarray) -> np.ndarray:
    """Skin reflectance (modified Beer-Lambert) for arrays of chromophore optical densities.

    Parameters
    ----------
    melanin_od, haemoglobin_od : array_like
        Optical densities (log10) at 500 nm (melanin) and 577 nm (haemoglobin), >= 0,
        broadcastable to a common shape S.

    Returns
    -------
    numpy.ndarray
        Shape S + (n_wavelengths,), reflectance in (0, 1): surface reflection plus the
        dermis's reflectance attenuated by the chromophores' optical density over a
        distribution of path lengths (:data:`PATH_LENGTHS`).
    """
    m = np.asarray(melanin_od, dtype=np.float64)[..., None]
    h = np.asarray(haemoglobin_od, dtype=np.float64)[..., None]
    od = m * melanin_extinction() + h * haemoglobin_extinction()
    body = sum(w * 10.0 ** (-length * od) for length, w in zip(PATH_LENGTHS, PATH_WEIGHTS))
    return SURFACE_REFLECTANCE + dermis_reflectance() * body


@cache
def _truth_matrix() -> np.ndarray:
    # Reflectance -> linear sRGB under D65, with perfect white mapped exactly to (1, 1, 1).
    weights = d65()[:, None] * cmf_xyz()
    weights = weights / weights[:, 1].sum()
    to_rgb = weights @ XYZ_TO_LINEAR_SRGB.T
    white = to_rgb.sum(axis=0)
    out = to_rgb / white
    out.setflags(write=False)
    return out


def reflectance_to_linear_srgb(reflectance: np.ndarray) -> np.ndarray:
    """The truth path: reflectance under D65, through the CIE 1931 observer, to linear sRGB.

    Parameters
    ----------
    reflectance : numpy.ndarray
        Shape (..., n_wavelengths), in [0, 1].

    Returns
    -------
    numpy.ndarray
        Shape (..., 3), linear sRGB; perfect white is (1, 1, 1). Not clipped.
    """
    reflectance = np.asarray(reflectance, dtype=np.float64)
    if reflectance.shape[-1] != WAVELENGTHS_NM.size:
        raise ValueError(f"reflectance must have {WAVELENGTHS_NM.size} wavelengths last, got {reflectance.shape}")
    return reflectance @ _truth_matrix()
