"""Photos of a view on the series timeline (baseline, progress, healing, refused), their pairs and retakes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.analysis.results import AnalysisResult, Comparison
from tracker.models import (
    Analysis,
    Baseline,
    Photo,
    PhotoRetake,
    TreatmentSeries,
    User,
    Visit,
)
from tracker.models.vocabulary import (
    TIME_AFTER,
    TIME_BEFORE,
    TIME_FOLLOW_UP,
    TREATMENT_TYPES,
    VISIT_TREATMENT,
)

from .. import audit
from ..access import get_photo, require_staff
from ..analysis import analyses_against, analysis_against, overlays, quality_refusal, states
from ..errors import ValidationFailed
from ..photo_status import PhotoStatus, status_of_row
from .settings import DEFAULT_HEALING_DAYS, healing_windows

#: Redness within this many days of a session may include the treatment's residual pinkness.
RESIDUAL_PINK_DAYS = 90
RESIDUAL_PINK_NOTE = "may include residual pinkness (measured within 90 days of a session)"
HEALING_LABEL = "healing, not progress"


@dataclass
class Point:
    """One photo of a view on the series timeline, with its stored analysis (typed).

    ``kind``: baseline | progress | healing | refused (retake needed) | not_comparable
    (measured, but its alignment to the baseline was refused).
    """

    photo: Photo
    date: dt.date
    kind: str
    sessions_done: int
    days_since_session: int | None
    analysis: Analysis | None
    result: AnalysisResult | None
    reason: str | None = None  # why it is not progress (healing window, refused, not comparable)
    status: PhotoStatus = field(default_factory=lambda: PhotoStatus("none"))

    @property
    def in_progress(self) -> bool:
        """Its analysis is queued or running (a worker will measure it)."""
        return self.analysis is not None and self.analysis.state in states.IN_PROGRESS

    @property
    def comparison(self) -> Comparison | None:
        return self.result.comparison if self.result is not None else None

    @property
    def comparable(self) -> bool:
        """Measured, passed quality and aligned (or the baseline): its figures count."""
        return self.status.comparable

    @property
    def usable(self) -> bool:
        """May be shown next to another photo (not refused, not unalignable)."""
        return self.kind not in ("refused", "not_comparable")

    @property
    def label(self) -> str:
        if self.kind == "baseline":
            return "Baseline"
        if self.kind == "healing":
            return f"{self.photo.time_point_label} session {self.photo.visit.session_number or ''}".strip()
        if self.photo.time_point == TIME_FOLLOW_UP:
            return f"Follow-up after {self.sessions_done} session{'s' if self.sessions_done != 1 else ''}"
        return f"After {self.sessions_done} session{'s' if self.sessions_done != 1 else ''}"


def photo_date(photo: Photo) -> dt.date:
    """The day a photo shows: its visit's date, plus the days after for an "after" photo."""
    extra = photo.days_after or 0 if photo.time_point == TIME_AFTER else 0
    return photo.visit.visit_date + dt.timedelta(days=extra)


def treatment_sessions(series: TreatmentSeries) -> list[Visit]:
    return sorted((v for v in series.visits if v.kind == VISIT_TREATMENT), key=lambda v: v.visit_date)


def _session_context(photo: Photo, sessions: list[Visit]) -> tuple[int, int | None]:
    """(sessions done when the photo was taken, days since the last of them)."""
    day = photo_date(photo)
    done = [v for v in sessions
            if v.visit_date < day or (v.id == photo.visit_id and photo.time_point != TIME_BEFORE)]
    if not done:
        return 0, None
    return len(done), (day - done[-1].visit_date).days


def superseded_ids(session: Session, photo_ids: list[str]) -> dict[str, PhotoRetake]:
    if not photo_ids:
        return {}
    rows = session.scalars(select(PhotoRetake).where(PhotoRetake.refused_photo_id.in_(photo_ids)))
    return {r.refused_photo_id: r for r in rows}


def view_points(session: Session, series: TreatmentSeries, view: str, region: str = "", *,
                visible: set[str] | None = None) -> list[Point]:
    """Every photo of one view, in date order, classified and with its typed analysis.

    ``visible``: when given (a patient), only these photo ids are placed on the timeline.
    """
    photos = list(session.scalars(select(Photo).where(Photo.series_id == series.id, Photo.view == view,
                                                      Photo.region == region)))
    if visible is not None:
        photos = [p for p in photos if p.id in visible]
    if not photos:
        return []
    base_row = session.scalar(select(Baseline).where(Baseline.series_id == series.id, Baseline.view == view,
                                                     Baseline.region == region))
    baseline_id = base_row.photo_id if base_row else None
    sessions = treatment_sessions(series)
    window = healing_windows(session, series.clinic_id).get(series.treatment_type, DEFAULT_HEALING_DAYS["other"])
    hidden = superseded_ids(session, [p.id for p in photos])
    points = []
    current = analyses_against(session, photos, baseline_id)  # one query for the view's photos
    for p in photos:
        if p.id in hidden:
            continue
        is_baseline = p.id == baseline_id
        # A photo the quality check refused is not measured again against a new baseline.
        analysis = current.get(p.id) or quality_refusal(session, p.id)
        status = status_of_row(analysis, is_baseline=is_baseline)
        done, since = _session_context(p, sessions)
        reason = None
        if is_baseline:
            kind = "baseline"
        elif status.state == "retake":
            kind, reason = "refused", status.reason
        elif status.state == "not_comparable":
            kind, reason = "not_comparable", status.reason
        elif p.time_point == TIME_AFTER or (since is not None and since < window):
            kind = "healing"
            reason = (f"{HEALING_LABEL}: taken {since} day{'s' if since != 1 else ''} after a session, inside the "
                      f"{window}-day healing window of {TREATMENT_TYPES.get(series.treatment_type, 'this treatment')}"
                      if since is not None else HEALING_LABEL)
        else:
            kind = "progress"
        points.append(Point(p, photo_date(p), kind, done, since, status.analysis, status.result, reason, status))
    points.sort(key=lambda pt: (pt.date, {"baseline": 0}.get(pt.kind, 1), pt.photo.uploaded_at))
    return points


def views_of(session: Session, series: TreatmentSeries) -> list[tuple[str, str]]:
    rows = session.execute(select(Photo.view, Photo.region).where(Photo.series_id == series.id).distinct())
    order = {"front": 0}
    return sorted({(v, r or "") for v, r in rows}, key=lambda k: (order.get(k[0], 1), k[0], k[1]))


# Pairs ----------------------------------------------------------------------------------
@dataclass
class Pair:
    baseline: Point
    later: Point
    label: str
    is_healing: bool = False
    candidates: list[Point] = field(default_factory=list)


def progress_pair(points: list[Point], later_id: str | None = None) -> Pair | None:
    """The view's baseline and its latest *comparable* progress photo (or ``later_id`` if it is one).

    A refused, unalignable or still-measuring photo never hides the last valid result.
    """
    base = next((pt for pt in points if pt.kind == "baseline"), None)
    candidates = [pt for pt in points if pt.kind == "progress" and pt.comparable
                  and pt.photo.time_point in (TIME_BEFORE, TIME_FOLLOW_UP)]
    if base is None or not candidates:
        return None
    later = next((pt for pt in candidates if pt.photo.id == later_id), candidates[-1])
    return Pair(base, later, later.label, candidates=candidates)


def retake_needed(points: list[Point], pair: Pair | None) -> list[Point]:
    """Photos after the pair's later photo (or the baseline) that need a retake or are not comparable:
    shown to staff with their reason, never instead of the last valid result."""
    after = pair.later.date if pair is not None else dt.date.min
    return [pt for pt in points if pt.kind in ("refused", "not_comparable") and pt.date >= after]


def healing_pairs(points: list[Point]) -> list[Pair]:
    """Each session's "before" photo with its "N days after" photos: healing, not progress."""
    pairs = []
    for pt in points:
        if pt.photo.time_point != TIME_AFTER:
            continue
        before = next((b for b in points if b.photo.visit_id == pt.photo.visit_id
                       and b.photo.time_point == TIME_BEFORE), None)
        if before is not None:
            pairs.append(Pair(before, pt, f"{pt.photo.time_point_label} session "
                              f"{pt.photo.visit.session_number or ''}: {HEALING_LABEL}".replace("  ", " "),
                              is_healing=True))
    return pairs


def overlay_keys(point: Point) -> dict[str, str]:
    """The point's overlay name -> storage key ({} before its analysis finished)."""
    return overlays.overlay_keys(point.analysis)


def record_retake(session: Session, actor: User, refused_photo_id: str, retake_photo_id: str) -> PhotoRetake:
    """The retake supersedes the refused photo, which is kept (hidden) with its reason."""
    require_staff(actor)
    if not retake_photo_id:
        raise ValidationFailed("Upload the retake first.")
    refused = get_photo(session, actor, refused_photo_id)
    retake = get_photo(session, actor, retake_photo_id)
    if (refused.series_id, refused.view, refused.region) != (retake.series_id, retake.view, retake.region):
        raise ValidationFailed("A retake must be of the same view of the same series.")
    analysis = analysis_against(session, refused, None) or None
    refusal = quality_refusal(session, refused.id)
    reason = (refusal.error if refusal else None) or (analysis.error if analysis else None) or "retaken"
    row = session.get(PhotoRetake, refused.id)
    if row is None:
        row = PhotoRetake(refused_photo_id=refused.id, clinic_id=refused.clinic_id, retake_photo_id=retake.id,
                          reason=reason, created_by_id=actor.id)
        session.add(row)
    audit.record(session, actor, "photo.retaken", "photo", refused.id, retake_photo_id=retake.id, reason=reason)
    session.flush()
    return row


def hide_superseded(session: Session, grid: Any) -> Any:
    """Leave photos that a retake superseded out of a :class:`tracker.services.gallery.SeriesGrid`.

    They stay stored (and reachable from their retake's page) with the reason they were refused.
    """
    ids = [p.id for row in grid.rows for cell in row.cells for p in cell]
    hidden = superseded_ids(session, ids)
    if hidden:
        for row in grid.rows:
            for cell in row.cells:
                cell[:] = [p for p in cell if p.id not in hidden]
    return grid


def any_pair(points: list[Point], a_id: str | None, b_id: str | None) -> Pair | None:
    """Any two usable photos of a view (default first: the baseline), earlier one first.

    Verdicts stay against the baseline: a change between two later photos is not judged.
    """
    usable = [pt for pt in points if pt.usable]
    by_id = {pt.photo.id: pt for pt in usable}
    a = by_id.get(a_id or "") or next((pt for pt in usable if pt.kind == "baseline"), None)
    b = by_id.get(b_id or "")
    if a is None or b is None or a is b:
        return None
    if (b.date, b.kind != "baseline") < (a.date, a.kind != "baseline"):
        a, b = b, a
    label = b.label if a.kind == "baseline" else f"{a.label} and {b.label}"
    return Pair(a, b, label, is_healing=b.kind == "healing", candidates=usable)
