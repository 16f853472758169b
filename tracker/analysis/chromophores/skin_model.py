"""Two-layer skin reflectance: a melanin epidermis over a blood-perfused dermis.

The epidermis attenuates light on the way in and out (Beer-Lambert over its
thickness); the dermis returns the diffuse reflectance of a semi-infinite
turbid medium whose absorption is blood plus background tissue and whose reduced
scattering falls as a power of wavelength. Diffuse reflectance follows the
diffusion-theory approximation Rd = exp(-A / sqrt(3 (1 + mu_s' / mu_a)))
(S. L. Jacques, "Skin optics", 1998). A small achromatic surface reflection is
added. The parameters (:class:`SkinOptics`) are exposed so that a test can render
skin from a deliberately different model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.analysis.chromophores import spectra


@dataclass(frozen=True)
class SkinOptics:
    """Fixed optical parameters of the two-layer model.

    Attributes
    ----------
    epidermis_um : float
        Epidermal thickness, micrometres.
    scatter_500_per_cm : float
        Dermal reduced scattering coefficient at 500 nm, cm^-1 (Jacques 2013: 46).
    scatter_slope : float
        Power-law exponent of the reduced scattering (Jacques 2013: 1.42).
    diffusion_a : float
        Constant A of the diffuse-reflectance approximation (about 7 for n = 1.4).
    surface_reflectance : float
        Achromatic surface (Fresnel) reflection added to the body reflectance.
    """

    epidermis_um: float = 60.0
    scatter_500_per_cm: float = 46.0
    scatter_slope: float = 1.42
    diffusion_a: float = 7.0
    surface_reflectance: float = 0.02


#: The model the inversion fits.
DEFAULT_OPTICS = SkinOptics()


def skin_reflectance(
    melanin_pct: np.ndarray | float,
    blood_pct: np.ndarray | float,
    *,
    saturation: float,
    optics: SkinOptics = DEFAULT_OPTICS,
) -> np.ndarray:
    """Diffuse reflectance of skin for arrays of melanin and blood fractions.

    Parameters
    ----------
    melanin_pct : array_like
        Melanosome volume fraction of the epidermis, percent (about 1-6 fair,
        11-16 medium, 18-43 dark skin; Jacques 2013).
    blood_pct : array_like
        Blood volume fraction of the dermis, percent (about 0.2-7).
    saturation : float
        Oxygen saturation of the blood, in [0, 1].
    optics : SkinOptics
        Fixed optical parameters.

    Returns
    -------
    numpy.ndarray
        Reflectance in (0, 1), shape broadcast(melanin_pct, blood_pct) + (n_wavelengths,).

    Examples
    --------
    >>> r = skin_reflectance(5.0, [1.0, 2.0], saturation=0.75)
    >>> r.shape, bool(np.all(r[1] <= r[0]))
    ((2, 61), True)
    """
    m = np.asarray(melanin_pct, dtype=np.float64)[..., None] / 100.0
    b = np.asarray(blood_pct, dtype=np.float64)[..., None] / 100.0
    background = spectra.background_absorption()
    mu_epidermis = m * spectra.melanin_absorption() + (1.0 - m) * background
    mu_dermis = b * spectra.haemoglobin_absorption(saturation) + (1.0 - b) * background
    scatter = optics.scatter_500_per_cm * (spectra.WAVELENGTHS_NM / 500.0) ** -optics.scatter_slope
    dermis = np.exp(-optics.diffusion_a / np.sqrt(3.0 * (1.0 + scatter / mu_dermis)))
    transmission = np.exp(-mu_epidermis * optics.epidermis_um * 1e-4)
    return optics.surface_reflectance + transmission**2 * dermis
