"""Rendering a scene: the truth (what the analysis should recover) and the camera's view.

The **truth** of a scene is its colour under D65 at exposure 1 with no gradient,
no noise and no geometry change, in linear sRGB through the CIE 1931 observer:
:func:`reference_render`. Nothing a capture does can change it.

The **camera view** (white-balanced camera RGB, before noise, clipping and the
colour matrix) depends on the light; :mod:`tracker.simulate.capture` builds on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Union

import numpy as np

from tracker.simulate import camera, skin_lut, spectra
from tracker.simulate.front import FrontScene, rgb_to_camera_matrix
from tracker.simulate.scene import SkinScene

Scene = Union[SkinScene, FrontScene]


def _check_scene(scene: object) -> None:
    if not isinstance(scene, (SkinScene, FrontScene)):
        raise TypeError(f"scene must be a SkinScene or FrontScene, got {type(scene).__name__}")


def reference_render(scene: Scene) -> np.ndarray:
    """The scene's truth: linear sRGB under D65, exposure 1, no gradient, no noise.

    Parameters
    ----------
    scene : SkinScene or FrontScene

    Returns
    -------
    numpy.ndarray
        (H, W, 3) float32 linear sRGB (not clipped; skin stays well inside [0, 1]).
    """
    _check_scene(scene)
    if isinstance(scene, FrontScene):
        return scene.linear_rgb.copy()
    truth = skin_lut.lookup(skin_lut.truth_table(), scene.melanin_od, scene.haemoglobin_od)
    return truth * scene.shading[..., None]


def camera_rgb(scene: Scene, *, cct_k: float, light: str = "blackbody") -> np.ndarray:
    """White-balanced camera RGB of the scene under a light at exposure 1, (H, W, 3) float32.

    Spectral scenes are integrated exactly (via the chromophore table). A front
    scene is an RGB photograph: each pixel is given the smooth spectrum that
    reproduces its colour (see :func:`front.rgb_to_camera_matrix`), which makes
    its light response a 3x3 matrix per light rather than a per-channel gain.
    """
    _check_scene(scene)
    if isinstance(scene, FrontScene):
        matrix = rgb_to_camera_matrix(light_spd(cct_k, light)).astype(np.float32)
        return scene.linear_rgb @ matrix.T
    table = skin_lut.camera_table(light, float(cct_k))
    return skin_lut.lookup(table, scene.melanin_od, scene.haemoglobin_od) * scene.shading[..., None]


def light_spd(cct_k: float, light: str) -> np.ndarray:
    """Spectral power of the capture light (``light="d65"`` is exactly D65)."""
    return spectra.d65() if light == "d65" else spectra.illuminant(cct_k, kind=light)


@lru_cache(maxsize=32)
def reflectance_camera_rgb(reflectances: bytes, n: int, cct_k: float, light: str) -> np.ndarray:
    """White-balanced camera RGB of ``n`` reflectance spectra (passed as float64 bytes)."""
    refl = np.frombuffer(reflectances, dtype=np.float64).reshape(n, -1)
    return camera.sensor_rgb(refl, light_spd(cct_k, light)) * camera.white_balance_gains()


@dataclass(frozen=True)
class TrueMeasures:
    """Truth measures of a scene over a mask, from :func:`reference_render`.

    ``ei_mean`` and ``mi_mean`` are means of the per-pixel indices
    EI = 100 log10(R / G) and MI = 100 log10(1 / R) on linear truth RGB.
    """

    ei_mean: float
    mi_mean: float
    spot_area_mm2: float
    spot_count: int
    line_depth_mm: float
    area_mm2: float


def true_measures(scene: Scene, *, mask: np.ndarray | None = None, reference: np.ndarray | None = None) -> TrueMeasures:
    """Truth measures over ``mask`` (bool (H, W) in scene pixels; default: the scene's skin).

    Spot area counts the truth ``spot_mask`` inside the mask; a spot counts when its
    centre lies inside the mask. ``reference`` may pass ``reference_render(scene)``
    when it is already at hand (it is not recomputed).
    """
    _check_scene(scene)
    h, w = scene.skin_mask.shape
    if mask is None:
        mask = scene.skin_mask
    mask = np.asarray(mask)
    if mask.shape != (h, w) or mask.dtype != bool:
        raise ValueError(f"mask must be a bool array of shape {(h, w)}, got {mask.dtype} {mask.shape}")
    if not mask.any():
        raise ValueError("mask must select at least one pixel")
    if reference is None:
        reference = reference_render(scene)
    elif reference.shape != (h, w, 3):
        raise ValueError(f"reference must have shape {(h, w, 3)}, got {reference.shape}")
    rgb = reference[mask].astype(np.float64)
    rgb = np.maximum(rgb, 1e-6)
    ei = 100.0 * np.log10(rgb[:, 0] / rgb[:, 1])
    mi = 100.0 * np.log10(1.0 / rgb[:, 0])
    px_area = scene.mm_per_px**2
    count = 0
    for spot in scene.spots:
        x, y = (int(round(c / scene.mm_per_px)) for c in spot.centre_mm)
        count += int(0 <= x < w and 0 <= y < h and mask[y, x])
    return TrueMeasures(
        ei_mean=float(ei.mean()),
        mi_mean=float(mi.mean()),
        spot_area_mm2=float((scene.spot_mask & mask).sum() * px_area),
        spot_count=count,
        line_depth_mm=float(scene.line_depth_mm),
        area_mm2=float(mask.sum() * px_area),
    )
