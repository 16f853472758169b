"""Fast skin colour: tables over (melanin OD, haemoglobin OD) instead of per-pixel spectra.

A skin pixel's spectrum depends only on its two chromophore optical densities, so
the truth colour (D65, CIE observer, linear sRGB) and the camera colour (any light,
camera sensitivities, white-balanced) are tabulated once on a grid and looked up
by bilinear interpolation of their logarithms (nearly linear in the densities,
so the interpolation error is far below the camera noise).
"""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np

from tracker.simulate import camera, spectra

#: Grid step and upper bound of both optical densities; values beyond are clamped.
OD_STEP = 0.02
OD_MAX = 3.0
_N = int(round(OD_MAX / OD_STEP)) + 1


@cache
def _grid_reflectance() -> np.ndarray:
    # Independent of the light: computed once (~15 MB) and shared by every table.
    od = np.arange(_N) * OD_STEP
    grid = spectra.skin_reflectance(od[:, None], od[None, :])  # (N, N, n_wavelengths)
    grid.setflags(write=False)
    return grid


def _as_log_table(rgb: np.ndarray) -> np.ndarray:
    table = np.log(np.maximum(rgb, 1e-6)).astype(np.float32).reshape(-1, 3)
    table.setflags(write=False)
    return table


@cache
def truth_table() -> np.ndarray:
    """log linear-sRGB truth colour on the grid, shape (N*N, 3), row-major (melanin, haemoglobin)."""
    return _as_log_table(spectra.reflectance_to_linear_srgb(_grid_reflectance()))


@lru_cache(maxsize=16)
def camera_table(light_kind: str, cct_k: float) -> np.ndarray:
    """log white-balanced camera RGB on the grid under a light (see :func:`spectra.illuminant`)."""
    light = spectra.d65() if light_kind == "d65" else spectra.illuminant(cct_k, kind=light_kind)
    wb = camera.sensor_rgb(_grid_reflectance(), light) * camera.white_balance_gains()
    return _as_log_table(wb)


def lookup(table: np.ndarray, melanin_od: np.ndarray, haemoglobin_od: np.ndarray) -> np.ndarray:
    """Bilinear lookup of a log table at per-pixel densities; returns (H, W, 3) float32 linear values."""
    fm = np.clip(melanin_od.astype(np.float32) / OD_STEP, 0.0, _N - 1.001)
    fh = np.clip(haemoglobin_od.astype(np.float32) / OD_STEP, 0.0, _N - 1.001)
    im = fm.astype(np.int32)
    ih = fh.astype(np.int32)
    a = (fm - im.astype(np.float32))[..., None]
    b = (fh - ih.astype(np.float32))[..., None]
    idx = im * _N + ih
    out = (1.0 - a) * ((1.0 - b) * table[idx] + b * table[idx + 1])
    out += a * ((1.0 - b) * table[idx + _N] + b * table[idx + _N + 1])
    return np.exp(out, out=out)
