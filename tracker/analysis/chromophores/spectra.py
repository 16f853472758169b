"""Spectral data of the chromophore inversion: wavelengths, absorbers, chart and observer.

Absorption sources (cited where they are used):

- Haemoglobin: Scott Prahl's tabulation of the molar extinction of oxy- and
  deoxyhaemoglobin (Oregon Medical Laser Center, 1999,
  https://omlc.org/spectra/hemoglobin/summary.html), stored in
  ``data/prahl_haemoglobin.csv`` (copied from the table mne-python ships).
- Melanin: Jacques' power law for the interior of a melanosome,
  mu_a = 6.6e11 * lambda^-3.33 cm^-1 (lambda in nm; S. L. Jacques, "Optical
  properties of biological tissues: a review", Phys. Med. Biol. 58 (2013) R37).
- Bloodless, melanin-free tissue background: mu_a = 7.84e8 * lambda^-3.255 cm^-1
  (S. L. Jacques, "Skin optics", Oregon Medical Laser Center News, 1998).

The ColorChecker spectra and the CIE observer come from colour-science (BSD-3),
read from the installed package at run time: "BabelColor Average" is distributed
"used by permission" and is never copied into this repository.
"""

from __future__ import annotations

import warnings
from functools import cache
from importlib import resources
from types import ModuleType

import numpy as np

#: Sampling of every spectrum of the inversion, nm: the band where both reference
#: cameras (Nikon D5100, Sigma SD Merrill) have any sensitivity.
WAVELENGTHS_NM: np.ndarray = np.arange(400.0, 701.0, 5.0)
WAVELENGTHS_NM.setflags(write=False)

#: Haemoglobin concentration of whole blood, g/L, and its molar mass, g/mol.
BLOOD_HAEMOGLOBIN_G_PER_L = 150.0
HAEMOGLOBIN_G_PER_MOL = 64_500.0

#: Name of the chart's reflectance set in colour-science.
CHART_SPECTRA_NAME = "BabelColor Average"


def colour_module() -> ModuleType:
    """colour-science, imported on first use (about 1 s) without its matplotlib notice."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message='.*"Matplotlib" related API features are not available')
        import colour

    return colour


#: CIE XYZ (D65 white) to linear sRGB, IEC 61966-2-1.
XYZ_TO_LINEAR_SRGB: np.ndarray = np.array(
    [[3.2404542, -1.5371385, -0.4985314], [-0.9692660, 1.8760108, 0.0415560], [0.0556434, -0.2040259, 1.0572252]]
)
XYZ_TO_LINEAR_SRGB.setflags(write=False)


def resample(wavelengths: np.ndarray, values: np.ndarray, grid: np.ndarray = WAVELENGTHS_NM) -> np.ndarray:
    """Linear interpolation of a spectrum (n,) or spectra (n, k) onto ``grid``; zero outside the table.

    >>> resample(np.array([400.0, 700.0]), np.array([0.0, 3.0]), np.array([500.0, 800.0])).tolist()
    [1.0, 0.0]
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        return np.interp(grid, wavelengths, values, left=0.0, right=0.0)
    return np.stack([np.interp(grid, wavelengths, v, left=0.0, right=0.0) for v in values.T], axis=1)


def linear_srgb_observer(grid: np.ndarray = WAVELENGTHS_NM) -> np.ndarray:
    """Reflectance -> linear sRGB under D65 (CIE 1931 observer) on ``grid``, perfect white (1, 1, 1); shape (n, 3)."""
    colour = colour_module()
    cmfs = colour.MSDS_CMFS["CIE 1931 2 Degree Standard Observer"]
    d65 = colour.SDS_ILLUMINANTS["D65"]
    xyz = resample(cmfs.wavelengths, cmfs.values, grid) * resample(d65.wavelengths, d65.values, grid)[:, None]
    response = xyz @ XYZ_TO_LINEAR_SRGB.T
    return response / response.sum(axis=0)


@cache
def prahl_table() -> np.ndarray:
    """Prahl's molar extinction table, columns (nm, HbO2, Hb) in cm^-1 / (mol/L), 380-780 nm every 2 nm."""
    text = resources.files("tracker.analysis").joinpath("data/prahl_haemoglobin.csv").read_text(encoding="utf-8")
    table = np.loadtxt(text.splitlines(), delimiter=",", comments="#", skiprows=6)
    table.setflags(write=False)
    return table


def haemoglobin_absorption(saturation: float) -> np.ndarray:
    """Absorption coefficient of whole blood, cm^-1, at :data:`WAVELENGTHS_NM`.

    Parameters
    ----------
    saturation : float
        Oxygen saturation of the haemoglobin, in [0, 1].

    Returns
    -------
    numpy.ndarray
        mu_a = ln(10) * (S * eps_HbO2 + (1 - S) * eps_Hb) * [Hb], shape (n_wavelengths,),
        with [Hb] = 150 g/L / 64500 g/mol (Prahl).

    Examples
    --------
    >>> mu = haemoglobin_absorption(1.0)
    >>> round(float(mu[WAVELENGTHS_NM == 575.0][0]))
    291
    """
    if not 0.0 <= saturation <= 1.0:
        raise ValueError(f"saturation must be in [0, 1], got {saturation}")
    table = prahl_table()
    molar = saturation * table[:, 1] + (1.0 - saturation) * table[:, 2]
    concentration = BLOOD_HAEMOGLOBIN_G_PER_L / HAEMOGLOBIN_G_PER_MOL
    return np.log(10.0) * concentration * resample(table[:, 0], molar)


def melanin_absorption() -> np.ndarray:
    """Absorption coefficient inside a melanosome, cm^-1: 6.6e11 * lambda^-3.33 (Jacques)."""
    return 6.6e11 * WAVELENGTHS_NM**-3.33


def background_absorption() -> np.ndarray:
    """Absorption of bloodless, melanin-free tissue, cm^-1: 7.84e8 * lambda^-3.255 (Jacques)."""
    return 7.84e8 * WAVELENGTHS_NM**-3.255


@cache
def chart_reflectances() -> np.ndarray:
    """Reflectance spectra of the 24 ColorChecker patches, shape (24, n_wavelengths).

    Row-major from "dark skin" (the order of
    :data:`tracker.analysis.chart_reference.PATCH_NAMES`), read from
    colour-science's "BabelColor Average" set.
    """
    colour = colour_module()
    patches = colour.SDS_COLOURCHECKERS[CHART_SPECTRA_NAME]
    rows = [resample(sd.wavelengths, sd.values) for sd in patches.values()]
    out = np.array(rows)
    out.setflags(write=False)
    return out


@cache
def srgb_observer_response() -> np.ndarray:
    """The default camera response when a photo has no chart: a colorimetric camera under D65.

    Shape (n_wavelengths, 3), linear sRGB, perfect white mapped to (1, 1, 1).
    """
    response = linear_srgb_observer()
    response.setflags(write=False)
    return response
