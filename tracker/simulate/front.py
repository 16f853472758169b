"""The front view: a real portrait with simulated skin detail on the face.

scikit-image's ``data.astronaut()`` (Eileen Collins, NASA, public domain, 512 px)
is upscaled with Lanczos to ``size_px`` and treated as the scene's truth: its
linear sRGB values x 0.9 are read as the colours the face would have under D65.
On the face (an ellipse around the known face position, intersected with a
skin-colour test) the simulator adds pigment spots, redness and fine lines with
known amounts, so a front photo carries measurable truth like a close-up.

Light model (non-spectral scene): each pixel is given the smooth spectrum that
reproduces its truth colour, a fixed mix of three broad basis spectra. Under a
light L the camera sees ``camera_rgb = M_L @ truth_rgb`` with a 3x3 matrix M_L
(:func:`rgb_to_camera_matrix`), so a light change is a full 3x3 (not a per-channel
gain), and the camera's colour error matches the spectral scenes' in kind.
Added spots and redness attenuate the colour per channel with the same
per-OD attenuation as the spectral skin model at a typical skin colour.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import cv2
import numpy as np

from tracker.analysis.colour import srgb_to_linear
from tracker.simulate import camera, spectra
from tracker.simulate import fields as _f
from tracker.simulate.scene import Spot, render_spots, shading_from_height

if TYPE_CHECKING:
    from tracker.simulate.clinic_front import ClinicFrontParams

#: Face ellipse in the 512 px astronaut image: centre (x, y) and semi-axes (x, y), px.
_FACE_CENTRE_512 = (224.0, 124.0)
_FACE_AXES_512 = (46.0, 62.0)
_EYES_512 = ((201.0, 108.0), (247.0, 108.0))
#: Scale of the 512 px image: a ~140 mm wide face spans ~97 px.
_MM_PER_PX_512 = 1.45
#: Truth reflectance = this x the photo's linear values, so highlights stay below 1.
_REFLECTANCE_SCALE = 0.9


@dataclass(frozen=True)
class FrontSceneParams:
    """Everything :func:`make_front_scene` was called with; rebuilding from it is exact."""

    seed: int
    size_px: int = 2048
    n_spots: int = 14
    spot_darkness: float = 0.35
    spots: tuple[Spot, ...] | None = None
    redness: float = 0.25
    line_depth_mm: float = 0.12
    treatment_erythema: float = 0.0
    pih: float = 0.0


@dataclass(frozen=True, eq=False)
class FrontScene:
    """A front-view scene: an RGB truth image with known added skin detail.

    Attributes
    ----------
    linear_rgb : numpy.ndarray
        (H, W, 3) float32, the truth: linear sRGB under D65.
    skin_mask : numpy.ndarray
        (H, W) bool, the facial skin where detail was added and measures are defined.
    spot_mask : numpy.ndarray
        (H, W) bool, truth pigment-spot pixels (>= half each spot's peak OD).
    mm_per_px : float
        Approximate scale at the face, mm per pixel.
    spots : tuple of Spot
        Added spots, scene mm.
    line_depth_mm : float
        Nominal depth of the added fine lines, mm.
    params : FrontSceneParams or ClinicFrontParams
        What the scene was made from (the demo's clinic scene has its own parameters).
    """

    linear_rgb: np.ndarray
    skin_mask: np.ndarray
    spot_mask: np.ndarray
    mm_per_px: float
    spots: tuple[Spot, ...]
    line_depth_mm: float
    params: FrontSceneParams | ClinicFrontParams = field(repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) in pixels."""
        return self.skin_mask.shape  # type: ignore[return-value]


def _basis_spectra() -> np.ndarray:
    lam = spectra.WAVELENGTHS_NM
    centres, width = (450.0, 545.0, 625.0), 55.0
    return np.stack([np.exp(-0.5 * ((lam - c) / width) ** 2) for c in centres])  # (3, n)


@lru_cache(maxsize=32)
def _rgb_to_camera_matrix_cached(light_bytes: bytes) -> np.ndarray:
    light = np.frombuffer(light_bytes, dtype=np.float64)
    basis = _basis_spectra()
    truth = spectra.reflectance_to_linear_srgb(basis)  # (3 basis, 3 rgb)
    cam = camera.sensor_rgb(basis, light) * camera.white_balance_gains()
    # rgb (row) -> basis weights rgb @ inv(truth) -> camera (rgb @ inv(truth) @ cam).
    matrix = (np.linalg.inv(truth) @ cam).T
    matrix.setflags(write=False)
    return matrix


def rgb_to_camera_matrix(light: np.ndarray) -> np.ndarray:
    """3x3 matrix: truth linear sRGB (column) -> white-balanced camera RGB under ``light``."""
    return _rgb_to_camera_matrix_cached(np.ascontiguousarray(light, dtype=np.float64).tobytes())


@lru_cache(maxsize=1)
def _attenuation_per_od() -> tuple[np.ndarray, np.ndarray]:
    # Per-channel log attenuation of truth RGB per unit OD at a typical light skin.
    base = spectra.reflectance_to_linear_srgb(spectra.skin_reflectance(0.25, 0.3))
    mel = spectra.reflectance_to_linear_srgb(spectra.skin_reflectance(0.35, 0.3))
    hb = spectra.reflectance_to_linear_srgb(spectra.skin_reflectance(0.25, 0.4))
    return (np.log(base / mel) / 0.1).astype(np.float32), (np.log(base / hb) / 0.1).astype(np.float32)


def _skin_mask(srgb: np.ndarray, size: int) -> np.ndarray:
    s = size / 512.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    cx, cy = (c * s for c in _FACE_CENTRE_512)
    ax, ay = (a * s for a in _FACE_AXES_512)
    ellipse = ((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2 <= 1.0
    ycrcb = cv2.cvtColor((srgb * 255).astype(np.uint8), cv2.COLOR_RGB2YCrCb).astype(np.float32)
    y, cr, cb = ycrcb[..., 0], ycrcb[..., 1], ycrcb[..., 2]
    colour = (cr >= 140) & (cr <= 180) & (cb >= 85) & (cb <= 130) & (y >= 90)
    # The hairline dips into the ellipse's top: the forehead skin starts below y = 80 (512 px).
    mask = ellipse & colour & (yy >= 80.0 * s)
    # Drop eyes, brows and mouth edges: keep the solid skin, smooth the border.
    k = max(3, int(round(4 * s)) | 1)
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return mask.astype(bool)


def make_front_scene(
    *,
    seed: int,
    size_px: int = 2048,
    n_spots: int = 14,
    spot_darkness: float = 0.35,
    spots: tuple[Spot, ...] | None = None,
    redness: float = 0.25,
    line_depth_mm: float = 0.12,
    treatment_erythema: float = 0.0,
    pih: float = 0.0,
) -> FrontScene:
    """Front view: the astronaut portrait upscaled, with known skin detail on the face.

    Parameters
    ----------
    seed : int
        Layout seed (spots, redness mottling, lines).
    size_px : int
        Output size (square), 256-4096 px.
    n_spots, spot_darkness : int, float
        Random pigment spots (1.5-4 mm) on the face and their mean added melanin OD.
    spots : tuple of Spot, optional
        Explicit spots (scene mm), overriding the random ones.
    redness : float
        Haemoglobin OD added on the cheeks and nose.
    line_depth_mm : float
        Depth of the crow's-feet and forehead lines, mm.
    treatment_erythema : float
        Haemoglobin OD added over the whole face (days after a session).
    pih : float
        Melanin OD added in diffuse patches (post-inflammatory hyperpigmentation).

    Returns
    -------
    FrontScene
    """
    from skimage import data  # the only place the portrait is needed

    if not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not isinstance(size_px, (int, np.integer)) or not 256 <= size_px <= 4096:
        raise ValueError(f"size_px must be an int in [256, 4096], got {size_px!r}")
    for name, value, hi in (("spot_darkness", spot_darkness, 3.0), ("redness", redness, 2.0),
                            ("line_depth_mm", line_depth_mm, 0.5), ("treatment_erythema", treatment_erythema, 2.0),
                            ("pih", pih, 2.0)):
        if not 0 <= value <= hi:
            raise ValueError(f"{name} must be in [0, {hi}], got {value!r}")
    params = FrontSceneParams(int(seed), int(size_px), n_spots, spot_darkness, None if spots is None else tuple(spots),
                              redness, line_depth_mm, treatment_erythema, pih)
    size = int(size_px)
    s = size / 512.0
    px = _MM_PER_PX_512 / s
    srgb = cv2.resize(data.astronaut().astype(np.float32) / 255.0, (size, size), interpolation=cv2.INTER_LANCZOS4)
    srgb = np.clip(srgb, 0.0, 1.0)
    linear = srgb_to_linear(srgb) * np.float32(_REFLECTANCE_SCALE)
    mask = _skin_mask(srgb, size)
    soft = _f.gaussian_blur(mask.astype(np.float32), 1.5 * s)
    k_mel, k_hb = _attenuation_per_od()

    # Spots, kept inside the face and away from its border.
    rng = np.random.default_rng([seed, 21])
    if spots is None:
        inner = cv2.erode(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(12 * s) | 1,) * 2)).astype(bool)
        ys, xs = np.nonzero(inner)
        chosen: list[Spot] = []
        for _ in range(n_spots * 40):
            if len(chosen) == n_spots or len(xs) == 0:
                break
            i = int(rng.integers(len(xs)))
            c = (float(xs[i] * px), float(ys[i] * px))
            d = float(rng.uniform(1.5, 4.0))
            if any(np.hypot(c[0] - o.centre_mm[0], c[1] - o.centre_mm[1]) < (d + o.diameter_mm) / 2 + 3 for o in chosen):
                continue
            chosen.append(Spot(c, d, float(np.clip(spot_darkness * rng.uniform(0.6, 1.4), 0.02, 3.0)), float(rng.uniform(0, 0.15))))
        spots = tuple(chosen)
    spot_od, spot_mask = render_spots(tuple(spots), (size, size), px, seed=seed)

    # Redness: cheeks and nose, mottled; treatment erythema over the whole face.
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    hb = np.zeros((size, size), np.float32)
    for (cx, cy), sig in (((196.0, 138.0), 14.0), ((252.0, 138.0), 14.0), ((224.0, 130.0), 8.0)):
        hb += np.exp(-0.5 * (((xx - cx * s) ** 2 + (yy - cy * s) ** 2) / (sig * s) ** 2))
    hb *= np.clip(1.0 + 0.4 * _f.smooth_noise(rng, (size, size), 3.0 * s), 0.0, 2.0)
    hb = redness * hb + treatment_erythema * (0.85 + 0.15 * _f.smooth_noise(rng, (size, size), 6.0 * s))
    mel = spot_od.copy()
    if pih > 0:
        mel += pih * np.clip(0.6 * _f.smooth_noise(np.random.default_rng([seed, 22]), (size, size), 6.0 * s) + 0.3, 0.0, None)

    # Lines: crow's feet fanning from the outer eye corners, two forehead lines.
    rng_l = np.random.default_rng([seed, 23])
    depth = np.zeros((size, size), np.float32)
    for (ex, ey), side in zip(_EYES_512, (-1.0, 1.0)):
        corner = np.array([ex + side * 14.0, ey + 1.0]) * s
        for angle in (-28.0, -8.0, 12.0, 30.0):
            a = np.deg2rad(angle + rng_l.uniform(-5, 5))
            direction = np.array([side * np.cos(a), np.sin(a)])
            start = corner + direction * 2.0 * s
            pts, t = _f.curve_points(start, start + direction * rng_l.uniform(8.0, 13.0) * s, float(rng_l.uniform(-0.08, 0.08)))
            depth += _f.line_profile((size, size), pts, (np.sin(np.pi * t) ** 0.5).astype(np.float32), max(0.5 * s, 0.7))
    for fy in (84.0, 92.0):
        pts, t = _f.curve_points(np.array([200.0, fy]) * s, np.array([250.0, fy - 1]) * s, float(rng_l.uniform(-0.04, 0.04)))
        depth += _f.line_profile((size, size), pts, (np.sin(np.pi * t) ** 0.5).astype(np.float32), max(0.6 * s, 0.7))
    shading = shading_from_height(-line_depth_mm * depth, px, azimuth_deg=250.0, zenith_deg=40.0)

    atten = np.exp(-(mel[..., None] * k_mel + hb[..., None] * k_hb)) * shading[..., None]
    linear = linear * (1.0 + soft[..., None] * (atten - 1.0))
    return FrontScene(
        linear_rgb=linear.astype(np.float32),
        skin_mask=mask,
        spot_mask=spot_mask & mask,
        mm_per_px=float(px),
        spots=tuple(spots),
        line_depth_mm=float(line_depth_mm),
        params=params,
    )


def rebuild_front_scene(params: FrontSceneParams) -> FrontScene:
    """Regenerate the front scene described by ``params``."""
    return make_front_scene(**{name: getattr(params, name) for name in asdict(params)})
