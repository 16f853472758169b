"""Faces inside the analysis: find a frame's face and regions, measure them, compare them.

The pipeline calls these for every photo that is not declared a close-up:

- :func:`locate` finds the face on the working image and turns its anatomical
  regions into the frame's measurement regions (each refined by the
  technician's drawn region, when there is one). When landmarks fail or are
  unreliable (a profile, a head turned beyond 60°), it says why and the frame
  falls back to the drawn (or automatic) region, as for any photo.
- :func:`measure` gives each region its figures and the face its figures over
  their union (:mod:`tracker.analysis.regional`).
- :func:`compare_regions` judges each region against its own MDC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from tracker.analysis import regional as _regional
from tracker.analysis.face import REGION_KEYS, Face, find_face
from tracker.analysis.mdc import region_mdc_table
from tracker.analysis.measures import MEASURE_BY_KEY
from tracker.analysis.results import (
    FaceSummary,
    MeasureChange,
    Measures,
    RegionComparison,
    RegionResult,
)
from tracker.analysis.tone import skin_tone

__all__ = [
    "CLOSE_UP_VIEW",
    "UNCALIBRATED_TONE",
    "FaceFrame",
    "Measured",
    "compare_regions",
    "locate",
    "measure",
    "measure_frame",
    "region_results",
]

CLOSE_UP_VIEW = "closeup"
#: How skin tone is labelled when no chart corrected the colours: it is the photo's own sRGB.
UNCALIBRATED_TONE = "camera colours, uncalibrated"
#: Texture measures that an expression change makes incomparable in the perioral and periorbital regions.
EXPRESSION_MEASURES = frozenset(m.key for m in MEASURE_BY_KEY.values() if m.group == "texture")


@dataclass(frozen=True)
class FaceFrame:
    """The face of one frame, at the working scale.

    Attributes
    ----------
    summary : FaceSummary or None
        None only for a declared close-up.
    face : Face or None
    masks : dict of str to np.ndarray
        The eight regions (already refined by a drawn region); empty when not from landmarks.
    reasons : dict of str to str or None
        Why a region is empty.
    """

    summary: FaceSummary | None
    face: Face | None
    masks: dict[str, np.ndarray]
    reasons: dict[str, str | None]

    @property
    def has_regions(self) -> bool:
        """Landmark regions exist (a face with reliable landmarks)."""
        return self.face is not None and self.face.reliable and any(m.any() for m in self.masks.values())

    @property
    def union(self) -> np.ndarray:
        out = np.zeros(next(iter(self.masks.values())).shape, bool)
        for mask in self.masks.values():
            out |= mask
        return out


def _summary(face: Face, declared_view: str | None) -> FaceSummary:
    reason = face.reason
    if face.found and declared_view and face.view and declared_view != face.view:
        seen = face.view.replace("_", " ")
        note = f"tagged {declared_view.replace('_', ' ')}, but the head is turned like a {seen}"
        reason = f"{reason}; {note}" if reason else note
    pose = (face.pose.yaw_deg, face.pose.pitch_deg, face.pose.roll_deg) if face.pose is not None else None
    view = face.view if face.found else (declared_view if declared_view != CLOSE_UP_VIEW else None)
    return FaceSummary(face.found, face.landmark_count, view, pose, face.reliable, reason)


def locate(srgb: np.ndarray, *, view: str | None, drawn: np.ndarray | None, unusable: np.ndarray) -> FaceFrame:
    """The face and regions of a working image.

    Parameters
    ----------
    srgb : np.ndarray
        Corrected sRGB at the working scale.
    view : str or None
        The declared view (``closeup`` skips faces); None when unknown.
    drawn : np.ndarray or None
        The technician's region on the working grid: each anatomical region is kept inside it.
    unusable : np.ndarray
        Clipped, crushed or chart pixels, never measured.
    """
    shape = srgb.shape[:2]
    empty = {k: np.zeros(shape, bool) for k in REGION_KEYS}
    if view == CLOSE_UP_VIEW:
        return FaceFrame(None, None, empty, dict.fromkeys(REGION_KEYS, "close-up: no anatomical regions"))
    face = find_face(srgb)
    summary = _summary(face, view)
    if not face.reliable or face.regions is None:
        why = face.reason or "no face found"
        return FaceFrame(summary, face, empty, dict.fromkeys(REGION_KEYS, f"{why}: the drawn region is measured"))
    masks = {}
    for key, mask in face.regions.masks.items():
        keep = mask & ~unusable
        masks[key] = keep & drawn if drawn is not None else keep
    reasons = dict(face.regions.reasons)
    if drawn is not None:
        for key in REGION_KEYS:
            if reasons[key] is None and not masks[key].any():
                reasons[key] = "outside the drawn region"
    return FaceFrame(summary, face, masks, reasons)


def _area_scale(ff: FaceFrame, px_per_mm: float | None) -> float | None:
    """The scale at the face for the 1 cm² floor: its own eye distance first (a chart may be
    held nearer to or further from the camera than the face), else the frame's."""
    own = ff.face.px_per_mm() if ff.face is not None else None
    return own if own is not None else px_per_mm


def measure(
    linear: np.ndarray,
    ff: FaceFrame,
    masks: dict[str, np.ndarray],
    *,
    px_per_mm: float | None,
    scale: float,
    tone_linear: np.ndarray,
    tone_note: str | None,
) -> tuple[Measures, dict[str, _regional.RegionFigures], np.ndarray, np.ndarray]:
    """The face's figures (over the union of its regions), each region's, the spot mask and the line map.

    ``masks`` are the regions to measure (the frame's own, or the common part of
    the photo's and the baseline's in a comparison). Skin tone comes from
    ``tone_linear`` (camera colours when no chart corrected them, so exposure
    normalisation cannot move it) and carries ``tone_note``.
    """
    figures, spots, lines = _regional.measure_regions(
        linear, masks, ff.reasons, px_per_mm=px_per_mm, area_px_per_mm=_area_scale(ff, px_per_mm), scale=scale
    )
    top = _regional.face_figures(figures, tone_linear)
    if tone_note is not None:
        top = _with_tone(top, tone_linear, None, tone_note)
        figures = {k: _regional.RegionFigures(f.area_px, f.source, f.reason,
                                              _with_tone(f.measures, tone_linear, f.mask, tone_note), f.mask)
                   for k, f in figures.items()}
    return top, figures, spots, lines


def _with_tone(m: Measures, tone_linear: np.ndarray, mask: np.ndarray | None, note: str) -> Measures:
    if mask is None or not mask.any():
        return replace(m, tone_note=note if np.isfinite(m.ita_deg) else None)
    tone = skin_tone(tone_linear, mask)
    return replace(m, ita_deg=tone.ita_deg, tone_class=tone.tone_class, tone_note=note)


def region_results(figures: dict[str, _regional.RegionFigures]) -> dict[str, RegionResult]:
    return {k: RegionResult(f.area_px, f.source, f.reason, f.measures) for k, f in figures.items()}


Judge = Callable[[str, float, float, float], MeasureChange]


def compare_regions(
    photo: dict[str, _regional.RegionFigures],
    base: dict[str, _regional.RegionFigures],
    *,
    calibrated: bool,
    long_side_px: int | None = None,
    judge: Judge,
    not_comparable: dict[str, str],
    measures: tuple[str, ...],
) -> dict[str, RegionComparison]:
    """Each region's change against the baseline, judged against that region's own MDC.

    ``judge(measure, photo_value, baseline_value, mdc)`` is the pipeline's verdict rule;
    ``not_comparable`` names regions whose texture an expression change spoilt.
    """
    out = {}
    for key in REGION_KEYS:
        p, b = photo[key], base[key]
        mdc = region_mdc_table(key, calibrated=calibrated, long_side_px=long_side_px)
        changes = []
        for measure in measures:
            pv, bv = _value(p.measures, measure), _value(b.measures, measure)
            change = judge(measure, pv, bv, mdc[measure])
            if key in not_comparable and measure in EXPRESSION_MEASURES and change.delta is not None:
                change = replace(change, verdict="not comparable", note=not_comparable[key])
            changes.append(change)
        out[key] = RegionComparison(common_area_px=b.area_px, baseline=b.measures, changes=tuple(changes))
    return out


def _value(m: Measures, key: str) -> float:
    v = m.value(key)
    return float("nan") if v is None else v


@dataclass(frozen=True)
class Measured:
    """What one photo's measurement gives: figures, per-region figures, maps, and the pixels measured."""

    measures: Measures
    figures: dict[str, _regional.RegionFigures]
    maps: dict[str, np.ndarray]  # erythema_map, spot_mask, line_map
    region: np.ndarray  # the pixels the top-level figures cover
    area_px: int  # full-resolution pixels of ``region``


MeasureRegion = Callable[[np.ndarray, np.ndarray, "float | None"], "tuple[Measures, dict[str, np.ndarray]]"]


def measure_frame(
    linear: np.ndarray,
    region: np.ndarray,
    ff: FaceFrame | None,
    *,
    px_per_mm: float | None,
    scale: float,
    tone_linear: np.ndarray,
    calibrated: bool,
    measure_region: MeasureRegion,
    masks: dict[str, np.ndarray] | None = None,
) -> Measured:
    """Measure a frame: over its face's regions when it has them, else over ``region``.

    ``masks`` are the regions to measure (default: the face's, inside ``region``).
    Without a chart, skin tone is read from ``tone_linear`` (the photo's own
    colours) and labelled :data:`UNCALIBRATED_TONE`.
    """
    from tracker.analysis.redness import erythema_index

    note = None if calibrated else UNCALIBRATED_TONE
    if ff is not None and ff.has_regions:
        use = masks if masks is not None else {k: m & region for k, m in ff.masks.items()}
        top, figures, spots, lines = measure(
            linear, ff, use, px_per_mm=px_per_mm, scale=scale, tone_linear=tone_linear, tone_note=note
        )
        measured = np.zeros(region.shape, bool)
        for f in figures.values():
            measured |= f.mask
        maps = {"erythema_map": erythema_index(linear), "spot_mask": spots, "line_map": lines}
        area = int(sum(f.area_px for f in figures.values()))
        return Measured(top, figures, maps, measured, area)
    measures, maps = measure_region(linear, region, px_per_mm)
    if note is not None and region.any() and np.isfinite(measures.ita_deg):
        measures = _with_tone(measures, tone_linear, region, note)
    reasons = ff.reasons if ff is not None else dict.fromkeys(REGION_KEYS, "close-up: no anatomical regions")
    nowhere = np.zeros(region.shape, bool)  # one read-only empty mask for the regions not measured
    nowhere.setflags(write=False)
    figures = {k: _regional.RegionFigures(0, "drawn", reasons[k] or "not measured", Measures.unmeasured(reasons[k] or ""),
                                          nowhere) for k in REGION_KEYS}
    return Measured(measures, figures, maps, region, round(int(np.count_nonzero(region)) / scale**2))
