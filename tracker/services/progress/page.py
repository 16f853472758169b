"""What a progress page shows per view, and one photo's measurement for the technician."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Analysis, Photo, PhotoRetake, TreatmentSeries, User
from tracker.models.vocabulary import STAFF_ROLES, AnalysisState, view_label

from .. import review
from ..access import get_photo, get_series
from ..analysis import analysis_against, overlay_keys, states
from ..errors import NotFound
from ..photo_status import status_of_row
from .areas import area_summary
from .measures import MEASURES, MeasureSpec
from .settings import overlays_hidden_from_patients
from .timeline import (
    Pair,
    Point,
    healing_pairs,
    photo_date,
    progress_pair,
    retake_needed,
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
    #: Newer photos that need a retake or are not comparable (staff only; never hide the pair).
    retakes: list[Point] = field(default_factory=list)
    details: bool = False  # the clinic shows patients the figures

    @property
    def summary(self) -> list[str]:
        """The patient's sentences: each measure over the whole photo, then the face's areas that changed."""
        if self.pair is None:
            return []
        return plain_summary(self.pair, details=self.details) + area_summary(self.pair, details=self.details)


def visible_ids(session: Session, actor: User, series: TreatmentSeries) -> set[str] | None:
    """The photos ``actor`` may see on progress pages: None (all) for staff, the published ones for a patient."""
    if actor.role in STAFF_ROLES:
        return None
    photos = list(session.scalars(select(Photo).where(Photo.series_id == series.id)))
    return review.visible_photo_ids(session, actor, photos)


def series_progress(session: Session, actor: User, series_id: str, *, view: str | None = None,
                    region: str = "", later_id: str | None = None) -> list[ViewProgress]:
    series = get_series(session, actor, series_id)
    visible = visible_ids(session, actor, series)
    details = visible is not None and bool(review.settings_of(session, actor.clinic_id).patient_details)
    keys = views_of(session, series) if view is None else [(view, region)]
    out = []
    for v, r in keys:
        points = view_points(session, series, v, r, visible=visible)
        if not points:
            continue
        pair = progress_pair(points, later_id)
        out.append(ViewProgress(v, r, view_label(v, r), points, pair, healing_pairs(points),
                                flags(points, series.patient.fitzpatrick) if visible is None else [],
                                retake_needed(points, pair) if visible is None else [], details))
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
    #: Lined up by a homography: the camera was turned against the baseline (advice for the next photo).
    camera_turned: bool = False
    #: The baseline's own figures (measure, as shown).
    own: list[tuple[MeasureSpec, str]] = field(default_factory=list)

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
        status = status_of_row(analysis, is_baseline=False)
        pt = Point(photo, photo_date(photo), "refused", 0, None, analysis, status.result,
                   analysis.error if analysis else None, status)
    res = pt.result
    align = res.alignment if res is not None else None
    state = pt.analysis.state if pt.analysis is not None else "waiting"
    retake_reason = None
    if pt.kind == "refused" or state == AnalysisState.REFUSED:
        retake_reason = pt.reason or (pt.analysis.error if pt.analysis else None) or "the photo failed the check"
    elif align is not None and not align.ok:
        retake_reason = f"it could not be aligned with the baseline: {align.reason or 'unknown reason'}"
    return PhotoMeasures(
        state=state, quality_ok=res.quality.ok if res is not None else None,
        quality_reasons=list(res.quality.reasons) if res is not None else [],
        alignment_ok=align.ok if align is not None else None, alignment_reason=align.reason if align else None,
        residual_px=align.residual_px if align is not None else None, changes=changes(pt),
        camera_turned=bool(align is not None and align.ok and align.homography is not None),
        notes=comparison_notes(pt), retake_reason=retake_reason,
        healing_reason=pt.reason if pt.kind == "healing" else None,
        superseded_by=retake.retake_photo_id if retake else None, retake_of=retake_of,
        regions=region_changes(pt) if pt.result else [],
        own=own_values(pt) if pt.kind == "baseline" else [])


def own_values(pt: Point) -> list[tuple[MeasureSpec, str]]:
    """A photo's own figures (the baseline's page shows them), as every page prints them."""
    if pt.result is None or not pt.result.quality.ok:
        return []
    return [(m, m.format(pt.result.measures.value(m.key))) for m in MEASURES
            if pt.result.measures.value(m.key) is not None]


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
