"""What a progress page shows per view, and one photo's measurement for the technician."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Analysis, Photo, PhotoRetake, User
from tracker.models.vocabulary import AnalysisState, view_label

from ..access import get_photo, get_series
from ..analysis import analysis_against, overlay_keys, result_of, states
from ..errors import NotFound
from .settings import overlays_hidden_from_patients
from .timeline import (
    Pair,
    Point,
    healing_pairs,
    photo_date,
    progress_pair,
    view_points,
    views_of,
)
from .verdicts import (
    Change,
    Flag,
    RegionChanges,
    changes,
    comparison_notes,
    flags,
    plain_summary,
    region_changes,
)


@dataclass
class ViewProgress:
    view: str
    region: str
    label: str
    points: list[Point]
    pair: Pair | None
    healing: list[Pair]
    flags: list[Flag]

    @property
    def summary(self) -> list[str]:
        return plain_summary(self.pair) if self.pair else []


def series_progress(session: Session, actor: User, series_id: str, *, view: str | None = None,
                    region: str = "", later_id: str | None = None) -> list[ViewProgress]:
    series = get_series(session, actor, series_id)
    keys = views_of(session, series) if view is None else [(view, region)]
    out = []
    for v, r in keys:
        points = view_points(session, series, v, r)
        if not points:
            continue
        out.append(ViewProgress(v, r, view_label(v, r), points, progress_pair(points, later_id),
                                healing_pairs(points), flags(points, series.patient.fitzpatrick)))
    return out


@dataclass
class PhotoMeasures:
    state: str  # waiting | queued | running | done | refused | failed
    quality_ok: bool | None
    quality_reasons: list[str]
    alignment_ok: bool | None
    alignment_reason: str | None
    residual_px: float | None
    changes: list[Change]
    notes: list[str]
    retake_reason: str | None  # set when a retake is needed
    healing_reason: str | None
    superseded_by: str | None = None
    retake_of: list[PhotoRetake] = field(default_factory=list)
    regions: list[RegionChanges] = field(default_factory=list)  # a face photo's anatomical regions

    @property
    def busy(self) -> bool:
        """No figures yet: waiting for its analysis, or being measured."""
        return self.state == "waiting" or self.state in states.IN_PROGRESS


def photo_measures(session: Session, actor: User, photo_id: str) -> PhotoMeasures:
    """Quality, alignment, measures and verdicts of a photo against its baseline, with retake advice."""
    photo = get_photo(session, actor, photo_id)
    retake = session.get(PhotoRetake, photo.id)
    retake_of = list(session.scalars(select(PhotoRetake).where(PhotoRetake.retake_photo_id == photo.id)))
    points = view_points(session, photo.series, photo.view, photo.region or "")
    pt = next((x for x in points if x.photo.id == photo.id), None)
    if pt is None:  # superseded: shown on its own
        analysis = analysis_against(session, photo, None)
        pt = Point(photo, photo_date(photo), "refused", 0, None, analysis,
                   result_of(analysis) if analysis else None, analysis.error if analysis else None)
    res = pt.result or {}
    quality = res.get("quality") or {}
    align = res.get("alignment")
    state = pt.analysis.state if pt.analysis is not None else "waiting"
    retake_reason = None
    if pt.kind == "refused" or (state == AnalysisState.REFUSED):
        retake_reason = pt.reason or (pt.analysis.error if pt.analysis else None) or "the photo failed the check"
    elif align and not align.get("ok"):
        retake_reason = f"it could not be aligned with the baseline: {align.get('reason') or 'unknown reason'}"
    return PhotoMeasures(
        state=state, quality_ok=quality.get("ok") if quality else None, quality_reasons=list(quality.get("reasons") or []),
        alignment_ok=align.get("ok") if align else None, alignment_reason=align.get("reason") if align else None,
        residual_px=align.get("residual_px") if align else None, changes=changes(pt),
        notes=comparison_notes(pt) if pt.result else [], retake_reason=retake_reason,
        healing_reason=pt.reason if pt.kind == "healing" else None,
        superseded_by=retake.retake_photo_id if retake else None, retake_of=retake_of,
        regions=region_changes(pt) if pt.result else [])


def photo_of_analysis(session: Session, analysis_id: str) -> Photo:
    """The photo an analysis measured (call after an access-checked lookup of the analysis)."""
    row = session.get(Analysis, analysis_id)
    if row is None:
        raise NotFound("That image does not exist.")
    photo = session.get(Photo, row.photo_id)
    if photo is None:
        raise NotFound("That image does not exist.")
    return photo


def overlay_key_for(session: Session, actor: User, analysis_id: str, name: str) -> str:
    """The storage key of one overlay PNG, if ``actor`` may see it (patients: unless the clinic hides them)."""
    row = session.get(Analysis, analysis_id) if analysis_id else None
    if row is None or name not in ("redness", "spots", "lines", "aligned"):
        raise NotFound("That image does not exist.")
    get_photo(session, actor, row.photo_id)
    if actor.role not in ("technician", "clinic_admin") and name != "aligned" and \
            overlays_hidden_from_patients(session, actor.clinic_id):
        raise NotFound("That image does not exist.")
    keys = overlay_keys(row)
    if name not in keys:
        raise NotFound("That image does not exist.")
    return str(keys[name])
