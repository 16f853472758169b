"""The demo's front view: a real portrait as a clinic photo, with only simulated improvement.

The "before" is scikit-image's ``data.astronaut()`` (Eileen Collins, NASA, public
domain) unaltered on the face: only the studio background (flag, rocket, table) is
replaced by a plain, even clinic backdrop. The person is cut out with GrabCut seeded
by the face's landmarks (the face hull and the collar are certainly the person, the
image border is certainly not).

A real person's face is never given a skin condition. Later sessions show only
*improvement*, applied as optical-density edits of what the photo already holds, so
the change is known exactly:

- less redness: the haemoglobin excess drops by ``REDNESS_DROP x improvement``. A
  photo gives haemoglobin only relative to the face's median skin, so the median is
  taken to hold ``HB_EXCESS_AT_MEDIAN_OD`` above a pale level (light skin with
  diffuse redness), and each pixel its own difference to the median on top;
- lighter spots: the melanin excess over its surroundings (freckles, darker spots)
  drops by ``SPOT_LIGHTENING x improvement``;
- softer lines: the fine luminance contrast of the face (log luminance minus its blur over
  ``LINE_SCALE_MM``, the scale the texture measures look at) drops by
  ``LINE_SOFTENING x improvement``, in every channel alike (shading, not colour).

The excesses come from a per-pixel split of the portrait's log colour into melanin,
haemoglobin and shading along the same per-OD attenuations as :mod:`front` uses. Less
blood is then applied along :data:`LESS_BLOOD_PER_OD` rather than :mod:`front`'s
haemoglobin attenuation: the portrait is RGB, not spectral, and along that attenuation
less blood reads partly as *more* melanin to the chromophore inversion (a pigment
"worse" on an improving face).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from tracker.analysis.colour import srgb_to_linear
from tracker.simulate import fields as _f
from tracker.simulate.front import _MM_PER_PX_512, _REFLECTANCE_SCALE, FrontScene, _attenuation_per_od

#: Share of each existing condition removed at full improvement (the series' "improving" model).
REDNESS_DROP = 0.35
SPOT_LIGHTENING = 0.3
LINE_SOFTENING = 0.3
#: Log gain of linear sRGB per OD of haemoglobin removed: the same erythema-index change
#: per OD and the same luminance change as :mod:`front`'s haemoglobin attenuation, in the
#: direction that leaves the analysis's (chart-calibrated) melanin density unchanged. Found
#: once from the analysis's response to per-channel gains of this very edit on this face
#: (the demo's baseline capture, 6500 K, chart in frame): at the 6-month visit's amount
#: melanin density moves by +0.03 (its MDC 0.10), against +0.75 along :mod:`front`'s.
LESS_BLOOD_PER_OD = (0.340, 1.340, 1.504)
#: Scale of the fine lines softened: the texture measures' high-pass (mm).
LINE_SCALE_MM = 1.5
#: Haemoglobin OD of the face's median skin above a pale level: what "less redness" reduces.
HB_EXCESS_AT_MEDIAN_OD = 0.5
_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)  # linear sRGB luminance
#: Linear reflectance of the backdrop: an even, light blue-grey.
BACKDROP_REFLECTANCE = (0.34, 0.37, 0.42)


@dataclass(frozen=True)
class ClinicFrontParams:
    """Everything :func:`make_clinic_front_scene` was called with; rebuilding from it is exact."""

    size_px: int = 1088
    improvement: float = 0.0


@dataclass(frozen=True, eq=False)
class _Portrait:
    """The 512 px portrait cut out and split into chromophore edits (per unit of improvement)."""

    srgb: np.ndarray  # (512, 512, 3) float32 sRGB of the unaltered photo
    alpha: np.ndarray  # (512, 512) float32, 1 on the person
    skin: np.ndarray  # (512, 512) bool, the face's measured regions
    spots: np.ndarray  # (512, 512) bool, existing darker spots
    d_mel: np.ndarray  # melanin OD removed at improvement 1
    d_hb: np.ndarray  # haemoglobin OD removed at improvement 1
    face: np.ndarray  # (512, 512) float32, 1 on the face's skin (where lines soften)


def _person_alpha(srgb: np.ndarray, face_xy: np.ndarray) -> np.ndarray:
    bgr = np.ascontiguousarray((srgb[..., ::-1] * 255).astype(np.uint8))
    h, w = bgr.shape[:2]
    (x0, y0), (x1, y1) = face_xy.min(axis=0), face_xy.max(axis=0)
    fw, cx = float(x1 - x0), float(x0 + x1) / 2
    seeds = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    # Probably the person: around the head, and the shoulders and body below the chin.
    cv2.ellipse(seeds, (int(cx), int((y0 + y1) / 2 - 0.1 * fw)), (int(0.95 * fw), int(y1 - y0)), 0, 0, 360, int(cv2.GC_PR_FGD), -1)
    cv2.rectangle(seeds, (int(cx - 2.0 * fw), int(y1)), (w, h), int(cv2.GC_PR_FGD), -1)
    # Certainly the person: the face, the collar under the chin, the helmet held in front.
    cv2.ellipse(seeds, (int(cx - 0.15 * fw), int(y1 + 0.5 * fw)), (int(0.95 * fw), int(0.72 * fw)), 0, 0, 360, int(cv2.GC_FGD), -1)
    cv2.circle(seeds, (int(cx + 1.75 * fw), int(y1 + 2.85 * fw)), int(1.1 * fw), int(cv2.GC_FGD), -1)
    cv2.fillConvexPoly(seeds, cv2.convexHull(face_xy.astype(np.int32)), int(cv2.GC_FGD))
    seeds[:, :6] = seeds[:4, :] = seeds[:, -6:] = cv2.GC_BGD
    # Certainly not: the stand and table beside the shoulder, above the helmet.
    seeds[: int(y1 + 1.75 * fw), int(cx + 1.5 * fw):] = cv2.GC_BGD
    cv2.grabCut(bgr, seeds, None, np.zeros((1, 65)), np.zeros((1, 65)), 6, cv2.GC_INIT_WITH_MASK)
    person = ((seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)).astype(np.uint8)
    # One piece without holes: specks of the backdrop that looked like the person go.
    _, labels, stats, _ = cv2.connectedComponentsWithStats(person, connectivity=8)
    person = (labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
    outside = np.pad(1 - person, 1, constant_values=1)
    cv2.floodFill(outside, None, (0, 0), 2)
    person = (outside[1:-1, 1:-1] != 2).astype(np.float32)
    return _f.gaussian_blur(person, 0.8)


def _split(linear: np.ndarray, skin: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Melanin, haemoglobin (OD) and log shading of each pixel relative to the skin's median colour."""
    k_mel, k_hb = _attenuation_per_od()
    basis = np.stack([-k_mel, -k_hb, np.ones(3, np.float32)], axis=1).astype(np.float64)
    log_rgb = np.log(np.maximum(linear, 1e-4)).astype(np.float64)
    rel = log_rgb - np.median(log_rgb[skin], axis=0)
    mel, hb, shade = np.moveaxis(rel @ np.linalg.inv(basis).T, -1, 0)
    return mel.astype(np.float32), hb.astype(np.float32), shade.astype(np.float32)


@lru_cache(maxsize=1)
def _portrait() -> _Portrait:
    from skimage import data  # the only place the portrait is needed

    from tracker.analysis.face import find_face

    srgb = data.astronaut().astype(np.float32) / 255.0
    face = find_face(srgb)
    if face.regions is None or face.landmarks is None:  # pragma: no cover - the portrait is fixed
        raise RuntimeError(f"no face regions on the demo portrait: {face.reason}")
    skin = face.regions.union
    mel, hb, _ = _split(srgb_to_linear(srgb), skin)
    # The face's skin without gaps between regions (eyes, brows, lips and nostrils left alone):
    # the edit is whole inside it and ~4 mm beyond, so the figures do not hang on how well two
    # photos line up, then fades out linearly over ~7 mm: no step, so no edge shows (a step in
    # brightness along a region's border reads as a line).
    closed = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    inside = (closed.astype(bool) & ~face.regions.features).astype(np.float32)
    outside_px = cv2.distanceTransform((inside == 0).astype(np.uint8), cv2.DIST_L2, 5)
    weight = np.clip(1.0 - np.maximum(outside_px - 3.0, 0.0) / 5.0, 0.0, 1.0).astype(np.float32)
    # Redness: the haemoglobin excess over a pale level, smooth (~6 mm) as diffuse redness is, so
    # that it does not trace creases and pores (which would make lines look deeper).
    # Averaged over the skin only: the lips' blood does not spill onto the chin.
    hb_skin = _f.gaussian_blur(hb * inside, 4.0) / np.maximum(_f.gaussian_blur(inside, 4.0), 1e-3)
    d_hb = np.clip(HB_EXCESS_AT_MEDIAN_OD + hb_skin, 0.0, None) * weight
    # Spots: melanin above its surroundings (~5 mm), where clearly darker, away from the
    # regions' edges (hairline, shadows beside the nose and under the jaw are not spots).
    inner = cv2.erode(skin.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))).astype(bool)
    mel_s = _f.gaussian_blur(mel, 0.7)
    excess = mel_s - _f.gaussian_blur(mel_s * skin, 3.0) / np.maximum(_f.gaussian_blur(skin.astype(np.float32), 3.0), 1e-3)
    spots = inner & (excess > 0.06)
    d_mel = np.clip(excess, 0.0, None) * _f.gaussian_blur(spots.astype(np.float32), 1.0) * weight
    return _Portrait(srgb, _person_alpha(srgb, face.landmarks.xy), skin, spots,
                     d_mel.astype(np.float32), d_hb.astype(np.float32), weight.astype(np.float32))


def _up(image: np.ndarray, size: int, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    return cv2.resize(image, (size, size), interpolation=interpolation)


def make_clinic_front_scene(*, size_px: int = 1088, improvement: float = 0.0) -> FrontScene:
    """The demo front view: the unaltered portrait on a clinic backdrop, improved by ``improvement``.

    Parameters
    ----------
    size_px : int
        Output size (square), 256-4096 px. The portrait is 512 px: beyond ~2x it is blurred.
    improvement : float
        0 shows the photo as taken; 1 removes ``REDNESS_DROP`` of the redness excess,
        ``SPOT_LIGHTENING`` of the spots' melanin excess and ``LINE_SOFTENING`` of the
        face's fine contrast. Never adds anything to the face.

    Returns
    -------
    FrontScene
        ``skin_mask`` is the face's measured regions; ``spot_mask`` the existing darker
        spots; ``spots`` is empty (none added) and ``line_depth_mm`` 0 (the real lines'
        depth is unknown; the truth is the share removed).
    """
    if not isinstance(size_px, (int, np.integer)) or not 256 <= size_px <= 4096:
        raise ValueError(f"size_px must be an int in [256, 4096], got {size_px!r}")
    if not 0.0 <= improvement <= 1.0:
        raise ValueError(f"improvement must be in [0, 1], got {improvement!r}")
    size = int(size_px)
    p = _portrait()
    srgb = np.clip(_up(p.srgb, size, cv2.INTER_LANCZOS4), 0.0, 1.0)
    person = srgb_to_linear(srgb) * np.float32(_REFLECTANCE_SCALE)
    mm_per_px = _MM_PER_PX_512 * 512.0 / size
    if improvement > 0:
        k_mel, _ = _attenuation_per_od()
        k_hb = np.asarray(LESS_BLOOD_PER_OD, np.float32)
        d_mel, d_hb = (_up(d, size) * np.float32(improvement) for d in (p.d_mel, p.d_hb))
        # Fine contrast of the unaltered face, taken before the colour edits change it.
        log_lum = np.log(np.maximum(person @ _LUMA, 1e-4))
        fine = (log_lum - _f.gaussian_blur(log_lum, LINE_SCALE_MM / mm_per_px)) * _up(p.face, size)
        person = person * np.exp(
            SPOT_LIGHTENING * d_mel[..., None] * k_mel + REDNESS_DROP * d_hb[..., None] * k_hb
            - (LINE_SOFTENING * improvement) * fine[..., None]
        )
    alpha = _up(p.alpha, size)[..., None]
    linear = alpha * person + (1.0 - alpha) * np.asarray(BACKDROP_REFLECTANCE, np.float32)
    return FrontScene(
        linear_rgb=linear.astype(np.float32),
        skin_mask=_up(p.skin.astype(np.uint8), size, cv2.INTER_NEAREST).astype(bool),
        spot_mask=_up(p.spots.astype(np.uint8), size, cv2.INTER_NEAREST).astype(bool),
        mm_per_px=float(mm_per_px),
        spots=(),
        line_depth_mm=0.0,
        params=ClinicFrontParams(size, float(improvement)),
    )


def rebuild_clinic_front_scene(params: ClinicFrontParams) -> FrontScene:
    """Regenerate the clinic front scene described by ``params``."""
    return make_clinic_front_scene(size_px=params.size_px, improvement=params.improvement)
