"""A simulated treatment series: visits, photos (JPEG), capture settings and truths.

A series is ``sessions`` treatment visits ``interval_days`` apart plus an optional
follow-up visit one interval after the last session. Every visit has a "before"
photo per view; visits in ``after_sessions`` also have an "after" photo
``after_days`` later showing treatment erythema (fractional micro-dots and strong
redness), which is not the patient's condition and must not count as progress.

The patient's true state moves with the series' progress p (0 at baseline, 1 at
the last visit):

- "improving": redness (haemoglobin excess) x (1 - 0.35 p), spot darkness
  x (1 - 0.3 p) and diameter x (1 - 0.1 p), line depth x (1 - 0.3 p);
- "stable": nothing changes;
- "worsening": after session 1, post-inflammatory hyperpigmentation appears
  (diffuse melanin + darker spots), growing with p.

Capture conditions vary between photos as they do in a real clinic: exposure
0.7-1.2, colour temperature 3000-6500 K (tungsten-like, daylight or LED light),
illumination gradient up to 15 %, rotation up to +-3 degrees, shifts up to 2 %
of the frame, scale +-3 %, slight blur, noise. A ColorChecker is in the frame at
visits in ``chart_sessions`` (a nano card for close-ups, a classic chart for the front view).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping, Union

import cv2
import numpy as np

from tracker.simulate.capture import Capture, CaptureParams, capture
from tracker.simulate.clinic_front import ClinicFrontParams, make_clinic_front_scene
from tracker.simulate.encode import encode_jpeg
from tracker.simulate.front import FrontScene, FrontSceneParams, make_front_scene
from tracker.simulate.render import reference_render, true_measures
from tracker.simulate.scene import SkinScene, SkinSceneParams, Spot, make_skin_scene, random_spots

TRENDS: tuple[str, ...] = ("improving", "stable", "worsening")
VIEWS: tuple[str, ...] = ("front", "close-up")
SIZES: tuple[str, ...] = ("small", "full")
#: Front scenes: the portrait with simulated conditions, or the demo's clinic photo (improvement only).
FRONT_SCENES: tuple[str, ...] = ("astronaut", "clinic")

#: Close-up frame (H, W) and scale per size: the same 102 x 77 mm field of a cheek.
CLOSE_UP_FRAME: dict[str, tuple[tuple[int, int], float]] = {
    "small": ((864, 1152), 0.0888889),
    "full": ((1536, 2048), 0.05),
}
#: Chart model per view: a nano card beside a close-up, a classic chart for the face.
CHART_MODEL: dict[str, str] = {"close-up": "nano", "front": "classic"}
#: Front-view scene size (square) per size; the frame crops 5 % each side.
#: The front view is upscaled from a 512 px portrait; beyond ~2x it is honestly
#: blurred and the quality gate (rightly) asks for a retake.
FRONT_SIZE: dict[str, int] = {"small": 1088, "full": 1024}
CLOSE_UP_REGION = "left cheek"

SceneParams = Union[SkinSceneParams, FrontSceneParams, ClinicFrontParams]


@dataclass(frozen=True, eq=False)
class SeriesPhoto:
    """One simulated photo of a series.

    Attributes
    ----------
    view : str
        "front" or "close-up".
    region : str
        "face" for the front view, e.g. "left cheek" for a close-up.
    time_point : str
        "before" (before the session), "after" (days after it) or "follow_up".
    days_after : int
        Days after the visit's session (0 for "before" and "follow_up").
    day : int
        Days since the first session.
    jpeg : bytes
        The photo as uploaded (JPEG, quality 92, 4:2:0).
    capture : CaptureParams
        The capture settings used.
    truth : Mapping[str, float]
        Over the scene's nominal field (the view's skin, chart ignored): ``ei_mean``,
        ``mi_mean``, ``spot_area_mm2``, ``spot_count``, ``line_depth_mm``, ``area_mm2``,
        and the model's factors relative to baseline: ``redness_factor`` (haemoglobin
        excess), ``spot_darkness_factor``, plus ``treatment_erythema_od``.
    truth_visible : Mapping[str, float]
        The same measures over the skin actually visible in this photo (not hidden by
        the chart or outside the frame).
    scene_params : SkinSceneParams, FrontSceneParams or ClinicFrontParams
        Rebuild the scene with :func:`rebuild_scene` / :func:`rebuild_front_scene` /
        :func:`rebuild_clinic_front_scene`.
    matrix_to_scene : numpy.ndarray
        (2, 3) photo pixel -> scene pixel.
    chart_corners : numpy.ndarray or None
        (4, 2) chart patch-grid corners in photo pixels (TL, TR, BR, BL), or None.
    mm_per_px : float
        Scale of the photo.
    """

    view: str
    region: str
    time_point: str
    days_after: int
    day: int
    jpeg: bytes
    capture: CaptureParams
    truth: Mapping[str, float]
    truth_visible: Mapping[str, float]
    scene_params: SceneParams = field(repr=False)
    matrix_to_scene: np.ndarray = field(repr=False)
    chart_corners: np.ndarray | None = field(repr=False)
    mm_per_px: float


@dataclass(frozen=True, eq=False)
class Visit:
    """A clinic visit: ``index`` from 0, ``day`` since the first session, ``kind`` "treatment" or "follow_up"."""

    index: int
    day: int
    kind: str
    photos: tuple[SeriesPhoto, ...]


@dataclass(frozen=True, eq=False)
class Series:
    """A simulated treatment series (see the module docstring for the model)."""

    seed: int
    trend: str
    size: str
    visits: tuple[Visit, ...]

    def photos(self, *, view: str | None = None, time_point: str | None = None) -> tuple[SeriesPhoto, ...]:
        """All photos in visit order, optionally only one view and/or time point."""
        return tuple(
            p for v in self.visits for p in v.photos
            if (view is None or p.view == view) and (time_point is None or p.time_point == time_point)
        )


@dataclass(frozen=True)
class _State:
    redness: float
    darkness: float
    diameter: float
    line_depth: float
    pih: float
    erythema: float


def _state(trend: str, progress: float, visit_index: int, erythema: float) -> _State:
    if trend == "improving":
        return _State(1 - 0.35 * progress, 1 - 0.3 * progress, 1 - 0.1 * progress, 1 - 0.3 * progress, 0.0, erythema)
    if trend == "worsening" and visit_index >= 1:
        return _State(1.0, 1.0 + 0.3 * progress, 1.0, 1.0, 0.06 + 0.1 * progress, erythema)
    return _State(1.0, 1.0, 1.0, 1.0, 0.0, erythema)


def _scale_spots(spots: tuple[Spot, ...], state: _State) -> tuple[Spot, ...]:
    return tuple(
        replace(s, darkness=float(np.clip(s.darkness * state.darkness, 0.0, 3.0)), diameter_mm=s.diameter_mm * state.diameter)
        for s in spots
    )


def _close_up_scene(seed: int, size: str, state: _State, skin_type: int, base_spots: tuple[Spot, ...]) -> SkinScene:
    (h, w), px = CLOSE_UP_FRAME[size]
    margin = int(round(0.08 * max(h, w)))
    return make_skin_scene(
        seed=seed, shape_px=(h + 2 * margin, w + 2 * margin), mm_per_px=px, skin_type=skin_type,
        haemoglobin_od=0.25, redness=0.35 * state.redness, diffuse_redness=0.2 * state.redness, spots=_scale_spots(base_spots, state), line_depth_mm=0.08 * state.line_depth,
        treatment_erythema=state.erythema, pih=state.pih,
    )


def _front_scene(seed: int, size: str, state: _State, base_spots: tuple[Spot, ...], kind: str, improvement: float) -> FrontScene:
    if kind == "clinic":  # removes the same shares as the astronaut's "improving" model
        return make_clinic_front_scene(size_px=FRONT_SIZE[size], improvement=improvement)
    return make_front_scene(
        seed=seed, size_px=FRONT_SIZE[size], spots=_scale_spots(base_spots, state), redness=0.25 * state.redness,
        line_depth_mm=0.12 * state.line_depth, treatment_erythema=0.7 * state.erythema, pih=state.pih,
    )


def _nominal_field(scene: SkinScene | FrontScene, out: tuple[int, int]) -> np.ndarray:
    h, w = scene.shape
    mask = np.zeros((h, w), bool)
    y0, x0 = (h - out[0]) // 2, (w - out[1]) // 2
    mask[y0 : y0 + out[0], x0 : x0 + out[1]] = True
    return mask & scene.skin_mask


def _visible_in_scene(shot: Capture, scene_shape: tuple[int, int]) -> np.ndarray:
    # Pull the photo's skin mask back into scene pixels (scene -> photo is the inverse map).
    lin = shot.matrix_to_scene[:, :2]
    inv = np.linalg.inv(lin)
    to_photo = np.column_stack([inv, -inv @ shot.matrix_to_scene[:, 2]])
    pulled = cv2.warpAffine(
        shot.skin_mask.astype(np.uint8), to_photo, (scene_shape[1], scene_shape[0]),
        flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT, borderValue=0,
    )
    return pulled.astype(bool)


def _truth_dict(scene: SkinScene | FrontScene, mask: np.ndarray, state: _State, reference: np.ndarray) -> Mapping[str, float]:
    m = true_measures(scene, mask=mask, reference=reference)
    return MappingProxyType({
        "ei_mean": m.ei_mean, "mi_mean": m.mi_mean, "spot_area_mm2": m.spot_area_mm2,
        "spot_count": float(m.spot_count), "line_depth_mm": m.line_depth_mm,
        "redness_factor": state.redness, "spot_darkness_factor": state.darkness,
        "treatment_erythema_od": state.erythema, "area_mm2": m.area_mm2,
    })


def _draw_capture(
    rng: np.random.Generator,
    *,
    view: str,
    out: tuple[int, int],
    chart: bool,
    seed: int,
    cct_range_k: tuple[float, float] = (3000.0, 6500.0),
) -> CaptureParams:
    cct = float(rng.uniform(*cct_range_k))
    kinds = ["blackbody", "led"] + (["daylight"] if cct >= 4000 else [])
    light = str(rng.choice(kinds, p=[0.5, 0.2, 0.3] if len(kinds) == 3 else [0.7, 0.3]))
    position = str(rng.choice(["top-left", "top-right", "bottom-left", "bottom-right"] if view == "close-up" else ["bottom-left", "bottom-right"]))
    return CaptureParams(
        # The portrait's bright forehead clips above ~1.0 exposure; close-ups tolerate 1.2.
        seed=seed, exposure=float(rng.uniform(0.7, 1.0 if view == "front" else 1.2)), cct_k=cct, gradient=float(rng.uniform(0.0, 0.15)),
        gradient_angle_deg=float(rng.uniform(0.0, 360.0)), rotation_deg=float(rng.uniform(-3.0, 3.0)),
        scale=float(rng.uniform(0.97, 1.03)),
        shift_px=(float(rng.uniform(-0.02, 0.02) * out[1]), float(rng.uniform(-0.02, 0.02) * out[0])),
        chart=chart, chart_model=CHART_MODEL[view], chart_position=position,
        chart_angle_deg=float(rng.uniform(-4.0, 4.0)), blur_sigma_px=float(rng.uniform(0.0, 0.7)),
        noise=float(rng.uniform(0.003, 0.006)), out_shape=out, light=light,
    )


def simulate_series(
    *,
    seed: int,
    trend: str = "improving",
    sessions: int = 3,
    follow_up: bool = True,
    interval_days: int = 91,
    chart_sessions: tuple[int, ...] = (0, 2),
    views: tuple[str, ...] = ("front", "close-up"),
    size: str = "small",
    after_sessions: tuple[int, ...] = (0, 1),
    after_days: int = 4,
    skin_type: int = 2,
    jpeg_quality: int = 92,
    cct_range_k: tuple[float, float] = (6000.0, 6800.0),
    front_scene: str = "astronaut",
) -> Series:
    """Simulate a treatment series of photos with known truths.

    Parameters
    ----------
    seed : int
        Everything (skin, spots, capture conditions, noise) is deterministic per seed.
    trend : {"improving", "stable", "worsening"}
    sessions : int
        Treatment sessions, 1-6.
    follow_up : bool
        Add a follow-up visit one interval after the last session.
    interval_days : int
        Days between visits (91 ~ three months).
    chart_sessions : tuple of int
        Visit indices whose photos contain a ColorChecker (the follow-up is index ``sessions``).
    views : tuple of str
        Any of "front", "close-up".
    size : {"small", "full"}
        "small": ~1 MP photos for tests; "full": 3 MP close-ups and a 1024 px front scene (the portrait is 512 px).
    after_sessions : tuple of int
        Sessions that also get an "after" photo ``after_days`` later (treatment erythema).
    skin_type : int
        Fitzpatrick type 1-6 of the close-up skin.
    jpeg_quality : int
        JPEG quality of the photos.
    cct_range_k : (float, float)
        Range of the light's colour temperature, drawn per photo. The default is a
        clinic's standard daylight lamp (6000-6800 K, within 20 mired of each other);
        (3000, 6500) simulates a clinic without one, whose colour comparisons the
        analysis marks "not comparable".
    front_scene : {"astronaut", "clinic"}
        "clinic": the demo's real portrait on a clinic backdrop, improvement only
        ("worsening" is refused) and no front "after" photos.

    Returns
    -------
    Series
    """
    if trend not in TRENDS:
        raise ValueError(f"trend must be one of {TRENDS}, got {trend!r}")
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    if not isinstance(sessions, int) or not 1 <= sessions <= 6:
        raise ValueError(f"sessions must be an int in [1, 6], got {sessions!r}")
    if not views or any(v not in VIEWS for v in views):
        raise ValueError(f"views must be a non-empty tuple of {VIEWS}, got {views!r}")
    if front_scene not in FRONT_SCENES:
        raise ValueError(f"front_scene must be one of {FRONT_SCENES}, got {front_scene!r}")
    if front_scene == "clinic" and trend == "worsening":
        raise ValueError("a real person's face is never shown worsening: use trend 'improving' or 'stable'")
    if not isinstance(interval_days, int) or interval_days < 1:
        raise ValueError(f"interval_days must be a positive int, got {interval_days!r}")
    if not isinstance(after_days, int) or not 1 <= after_days < interval_days:
        raise ValueError(f"after_days must be an int in [1, interval_days), got {after_days!r}")

    n_visits = sessions + int(follow_up)
    (cu_h, cu_w), cu_px = CLOSE_UP_FRAME[size]
    front_out = (int(round(FRONT_SIZE[size] * 0.9)),) * 2
    cu_margin = int(round(0.08 * max(cu_h, cu_w)))
    cu_spots = random_spots(seed=seed, field_mm=((cu_w + 2 * cu_margin) * cu_px, (cu_h + 2 * cu_margin) * cu_px),
                            n_spots=7, darkness=0.4, margin_mm=cu_margin * cu_px + 2.0)
    front_spots = (make_front_scene(seed=seed, size_px=FRONT_SIZE[size], redness=0.0, line_depth_mm=0.0).spots
                   if "front" in views and front_scene == "astronaut" else ())
    rng = np.random.default_rng([seed, 99])

    visits = []
    for index in range(n_visits):
        is_follow_up = index == sessions
        day = index * interval_days
        progress = index / max(n_visits - 1, 1)
        shots = [("follow_up" if is_follow_up else "before", 0)]
        if not is_follow_up and index in after_sessions:
            shots.append(("after", after_days))
        photos = []
        for time_point, days_after in shots:
            state = _state(trend, progress, index, 0.45 if time_point == "after" else 0.0)
            for view in views:
                if view == "front" and time_point == "after" and front_scene == "clinic":
                    continue
                if view == "close-up":
                    scene: SkinScene | FrontScene = _close_up_scene(seed, size, state, skin_type, cu_spots)
                    out, region = (cu_h, cu_w), CLOSE_UP_REGION
                else:
                    scene = _front_scene(seed, size, state, front_spots, front_scene, progress if trend == "improving" else 0.0)
                    out, region = front_out, "face"
                params = _draw_capture(
                    rng, view=view, out=out, chart=index in chart_sessions, seed=int(rng.integers(2**31)),
                    cct_range_k=cct_range_k,
                )
                shot = capture(scene, **params.as_kwargs())  # type: ignore[arg-type]
                reference = reference_render(scene)
                photos.append(SeriesPhoto(
                    view=view, region=region, time_point=time_point, days_after=days_after, day=day + days_after,
                    jpeg=encode_jpeg(shot.srgb, quality=jpeg_quality),
                    capture=params,
                    truth=_truth_dict(scene, _nominal_field(scene, out), state, reference),
                    truth_visible=_truth_dict(scene, _visible_in_scene(shot, scene.shape) & scene.skin_mask, state, reference),
                    scene_params=scene.params, matrix_to_scene=shot.matrix_to_scene,
                    chart_corners=shot.chart_corners, mm_per_px=shot.mm_per_px,
                ))
        visits.append(Visit(index=index, day=day, kind="follow_up" if is_follow_up else "treatment", photos=tuple(photos)))
    return Series(seed=int(seed), trend=trend, size=size, visits=tuple(visits))
