"""Photographing a scene: light, exposure, illumination gradient, geometry, chart, camera.

Order of the simulation (linear light until the last step):

1. the scene under the light, seen by the camera (white-balanced camera RGB);
2. geometry: the frame sees the scene through a similarity transform (rotation
   about the centres, scale, shift); outside the scene a plain dark background;
3. the ColorChecker (optional), drawn in frame coordinates under the same light;
4. exposure x illumination gradient (over skin, chart and background alike);
5. optical blur, then shot + read noise, sensor saturation, white balance and
   colour matrix (:mod:`camera`), clipping, sRGB encoding.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from tracker.analysis.chart_reference import DEFAULT_CHART
from tracker.analysis.colour import linear_to_srgb
from tracker.simulate import camera, chart as _chart
from tracker.simulate import fields as _f
from tracker.simulate import spectra
from tracker.simulate.render import Scene, _check_scene, camera_rgb, reflectance_camera_rgb

#: Reflectance of the plain background seen outside the scene.
BACKGROUND_REFLECTANCE = 0.04


@dataclass(frozen=True)
class CaptureParams:
    """The capture settings (all of :func:`capture`'s keyword arguments)."""

    seed: int
    exposure: float = 1.0
    cct_k: float = 6500.0
    gradient: float = 0.0
    gradient_angle_deg: float = 0.0
    rotation_deg: float = 0.0
    scale: float = 1.0
    shift_px: tuple[float, float] = (0.0, 0.0)
    chart: bool = False
    chart_model: str = DEFAULT_CHART
    chart_position: str = "top-left"
    chart_angle_deg: float = 0.0
    blur_sigma_px: float = 0.0
    noise: float = 0.004
    out_shape: tuple[int, int] | None = None
    light: str = "blackbody"

    def as_kwargs(self) -> dict[str, object]:
        """Keyword arguments for :func:`capture` (``capture(scene, **p.as_kwargs())``)."""
        return asdict(self)


@dataclass(frozen=True, eq=False)
class Capture:
    """A simulated photograph and its geometry truth.

    Attributes
    ----------
    srgb : numpy.ndarray
        (H, W, 3) float32 display-encoded sRGB in [0, 1] (not yet quantised).
    matrix_to_scene : numpy.ndarray
        (2, 3) float64: capture pixel (x, y, 1) -> scene pixel (x, y); pixel centres
        are at integer coordinates.
    chart_corners : numpy.ndarray or None
        (4, 2) float64 capture pixels of the patch grid's outer corners, TL, TR, BR, BL
        with the "dark skin" patch at TL.
    chart_mask : numpy.ndarray or None
        (H, W) bool, the whole chart including its black frame.
    skin_mask : numpy.ndarray
        (H, W) bool, pixels fully showing the scene's skin (no chart, no background).
    mm_per_px : float
        Scale of the capture, mm per pixel at the skin.
    params : CaptureParams
    """

    srgb: np.ndarray
    matrix_to_scene: np.ndarray
    chart_corners: np.ndarray | None
    chart_mask: np.ndarray | None
    skin_mask: np.ndarray
    mm_per_px: float
    params: CaptureParams = field(repr=False)


def scene_to_capture_matrix(
    scene_shape: tuple[int, int], out_shape: tuple[int, int], *, rotation_deg: float, scale: float,
    shift_px: tuple[float, float],
) -> np.ndarray:
    """(2, 3) forward similarity: scene pixel -> capture pixel.

    The scene's centre lands on the frame's centre + ``shift_px``; the content is
    scaled by ``scale`` and rotated counter-clockwise on screen by ``rotation_deg``
    (the convention of ``cv2.getRotationMatrix2D``).
    """
    a = math.radians(rotation_deg)
    alpha, beta = scale * math.cos(a), scale * math.sin(a)
    lin = np.array([[alpha, beta], [-beta, alpha]])
    cs = np.array([(scene_shape[1] - 1) / 2, (scene_shape[0] - 1) / 2])
    cc = np.array([(out_shape[1] - 1) / 2 + shift_px[0], (out_shape[0] - 1) / 2 + shift_px[1]])
    return np.column_stack([lin, cc - lin @ cs])


def _invert_affine(matrix: np.ndarray) -> np.ndarray:
    lin_inv = np.linalg.inv(matrix[:, :2])
    return np.column_stack([lin_inv, -lin_inv @ matrix[:, 2]])


def illumination_field(out_shape: tuple[int, int], *, gradient: float, angle_deg: float) -> np.ndarray:
    """Linear illumination ramp from 1 - g/2 to 1 + g/2 across the frame along ``angle_deg``.

    The angle is measured in image coordinates (x right, y down): 0 = brighter to
    the right, 90 = brighter at the bottom. Returns (H, W) float32.
    """
    h, w = out_shape
    a = math.radians(angle_deg)
    ca, sa = math.cos(a), math.sin(a)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xx - (w - 1) / 2) * ca + (yy - (h - 1) / 2) * sa
    extent = abs((w - 1) * ca) + abs((h - 1) * sa)
    return (1.0 + gradient * t / max(extent, 1e-9)).astype(np.float32)


def _check(name: str, value: float, lo: float, hi: float) -> None:
    if not isinstance(value, (int, float)) or not lo <= float(value) <= hi:
        raise ValueError(f"{name} must be a number in [{lo}, {hi}], got {value!r}")


def capture(
    scene: Scene,
    *,
    seed: int,
    exposure: float = 1.0,
    cct_k: float = 6500.0,
    gradient: float = 0.0,
    gradient_angle_deg: float = 0.0,
    rotation_deg: float = 0.0,
    scale: float = 1.0,
    shift_px: tuple[float, float] = (0.0, 0.0),
    chart: bool = False,
    chart_model: str = DEFAULT_CHART,
    chart_position: str = "top-left",
    chart_angle_deg: float = 0.0,
    blur_sigma_px: float = 0.0,
    noise: float = 0.004,
    out_shape: tuple[int, int] | None = None,
    light: str = "blackbody",
) -> Capture:
    """Photograph a scene with the simulated camera.

    Parameters
    ----------
    scene : SkinScene or FrontScene
    seed : int
        Noise seed: same arguments, same image.
    exposure : float
        Multiplies the light, 0.05-4 (1 = a perfect white reaches sensor saturation).
    cct_k : float
        Colour temperature of the light, K (1500-25000). The camera's white balance
        is fixed for D65, so warm light leaves a warm cast.
    gradient, gradient_angle_deg : float
        Illumination ramp 1 -/+ gradient/2 across the frame (0-1), direction in degrees.
    rotation_deg, scale, shift_px :
        Similarity transform scene -> frame (counter-clockwise degrees, zoom, (dx, dy) px).
    chart : bool
        Put a ColorChecker 24 in the frame (same light and gradient as the skin).
    chart_model, chart_position, chart_angle_deg :
        Chart size model (a key of ``CHART_SIZES_MM``: "nano", "mini", "classic"; default
        the lead's ``DEFAULT_CHART``), corner of the frame, tilt in degrees.
    blur_sigma_px : float
        Optical blur, Gaussian sigma in capture pixels (0-20).
    noise : float
        Shot-noise std at sensor full scale (read noise is a quarter), 0-0.1.
    out_shape : (int, int), optional
        Frame (H, W); default the scene's shape.
    light : {"blackbody", "daylight", "led", "d65"}
        Spectrum of the light; "d65" ignores ``cct_k``.

    Returns
    -------
    Capture
    """
    _check_scene(scene)
    if not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    _check("exposure", exposure, 0.05, 4.0)
    _check("cct_k", cct_k, 1500.0, 25000.0)
    _check("gradient", gradient, 0.0, 1.0)
    _check("gradient_angle_deg", gradient_angle_deg, -3600.0, 3600.0)
    _check("rotation_deg", rotation_deg, -360.0, 360.0)
    _check("scale", scale, 0.1, 10.0)
    _check("chart_angle_deg", chart_angle_deg, -45.0, 45.0)
    _check("blur_sigma_px", blur_sigma_px, 0.0, 20.0)
    _check("noise", noise, 0.0, 0.1)
    if len(shift_px) != 2 or not all(math.isfinite(float(v)) for v in shift_px):
        raise ValueError(f"shift_px must be two finite numbers, got {shift_px!r}")
    if light not in (*spectra.LIGHT_KINDS, "d65"):
        raise ValueError(f"light must be one of {(*spectra.LIGHT_KINDS, 'd65')}, got {light!r}")
    if light == "daylight" and cct_k < 4000:
        raise ValueError(f"cct_k must be >= 4000 K for daylight, got {cct_k!r}")
    shape = scene.shape
    out = tuple(int(v) for v in (out_shape if out_shape is not None else shape))
    if len(out) != 2 or not all(16 <= v <= 16384 for v in out):
        raise ValueError(f"out_shape must be (H, W) with each in [16, 16384], got {out_shape!r}")
    params = CaptureParams(
        seed=int(seed), exposure=float(exposure), cct_k=float(cct_k), gradient=float(gradient),
        gradient_angle_deg=float(gradient_angle_deg), rotation_deg=float(rotation_deg), scale=float(scale),
        shift_px=(float(shift_px[0]), float(shift_px[1])), chart=bool(chart), chart_model=chart_model,
        chart_position=chart_position, chart_angle_deg=float(chart_angle_deg), blur_sigma_px=float(blur_sigma_px),
        noise=float(noise), out_shape=out, light=light,
    )
    mm_per_px = scene.mm_per_px / scale
    placed = None
    if chart:
        placed = _chart.place(out, model=chart_model, mm_per_px=mm_per_px, position=chart_position, angle_deg=chart_angle_deg)

    # 1-2. The scene in the camera, resampled into the frame.
    source = camera_rgb(scene, cct_k=float(cct_k), light=light)
    if scale < 0.95:
        source = _f.gaussian_blur(source, 0.5 * math.sqrt(1.0 / scale**2 - 1.0))
    forward = scene_to_capture_matrix(shape, out, rotation_deg=rotation_deg, scale=scale, shift_px=params.shift_px)
    to_scene = _invert_affine(forward)
    background = _spectrum_rgb(np.full((1, spectra.WAVELENGTHS_NM.size), BACKGROUND_REFLECTANCE), cct_k, light)[0]
    # Replicate 2 px of edge so the interpolation at the scene's own border does not
    # blend in the background (a dark seam); beyond that the background shows.
    pad = 2
    padded = cv2.copyMakeBorder(source, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    image = cv2.warpAffine(
        padded, to_scene + np.array([[0.0, 0.0, pad], [0.0, 0.0, pad]]), (out[1], out[0]),
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT, borderValue=tuple(float(v) for v in background),
    )
    image = np.maximum(image, 0.0)
    inside = cv2.warpAffine(
        scene.skin_mask.astype(np.float32), to_scene, (out[1], out[0]), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT, borderValue=0.0,
    )
    skin_mask = inside >= 0.999

    # 3. The chart.
    chart_mask = None
    corners = None
    if placed is not None:
        patch_rgb = _spectrum_rgb(_chart.patch_reflectances(), cct_k, light)
        frame_rgb = _spectrum_rgb(np.full((1, spectra.WAVELENGTHS_NM.size), _chart.FRAME_REFLECTANCE), cct_k, light)[0]
        _chart.composite(image, placed, patch_rgb, frame_rgb)
        chart_mask = np.zeros(out, bool)
        y0, y1, x0, x1 = placed.box
        chart_mask[y0:y1, x0:x1] = placed.coverage >= 0.5
        touched = np.zeros(out, bool)
        touched[y0:y1, x0:x1] = placed.coverage > 0
        skin_mask &= ~touched
        corners = placed.corners_px

    # 4-5. Light level, optics, sensor, encoding.
    image *= (exposure * illumination_field(out, gradient=gradient, angle_deg=gradient_angle_deg))[..., None]
    if blur_sigma_px > 0:
        image = _f.gaussian_blur(image, blur_sigma_px)
    linear = camera.apply_sensor(image, rng=np.random.default_rng(int(seed)), noise=float(noise))
    return Capture(
        srgb=linear_to_srgb(linear),
        matrix_to_scene=to_scene,
        chart_corners=corners,
        chart_mask=chart_mask,
        skin_mask=skin_mask,
        mm_per_px=float(mm_per_px),
        params=params,
    )


def _spectrum_rgb(reflectances: np.ndarray, cct_k: float, light: str) -> np.ndarray:
    refl = np.ascontiguousarray(reflectances, dtype=np.float64)
    return np.asarray(reflectance_camera_rgb(refl.tobytes(), refl.shape[0], float(cct_k), light), dtype=np.float32)
