"""The baseline of each (series, view, close-up region).

Default rule: the first quality-passing "before treatment" photo of the view,
from the earliest treatment session that has one. A technician may choose
another photo (an override); it holds until that photo is deleted or moved.
Whenever the baseline of a view changes, every photo of the view gets a new
queued analysis against the new baseline (earlier results become stale).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Baseline, Photo, TreatmentSeries, User, Visit, utcnow
from tracker.models.vocabulary import TIME_BEFORE, VISIT_TREATMENT, view_label

from . import audit
from .access import get_photo, get_series, require_staff
from .analysis import ensure_analysis, photo_quality_failed
from .errors import ValidationFailed

ViewKey = tuple[str, str, str]  # (series_id, view, region)

_FAR_FUTURE = dt.datetime(9999, 1, 1)


def key_of(photo: Photo) -> ViewKey:
    return (photo.series_id, photo.view, photo.region or "")


def photos_of_view(session: Session, key: ViewKey) -> list[Photo]:
    series_id, view, region = key
    stmt = (
        select(Photo)
        .join(Visit, Photo.visit_id == Visit.id)
        .where(Photo.series_id == series_id, Photo.view == view, Photo.region == region)
        .order_by(Visit.visit_date, Visit.created_at, Photo.uploaded_at)
    )
    return list(session.scalars(stmt))


def default_baseline(session: Session, key: ViewKey) -> Photo | None:
    """The default rule's choice, or None when no usable "before" photo exists yet."""
    candidates = [
        p for p in photos_of_view(session, key)
        if p.time_point == TIME_BEFORE and p.visit.kind == VISIT_TREATMENT
    ]
    candidates.sort(key=lambda p: (p.visit.session_number or 0, p.visit.visit_date,
                                   p.captured_at or _FAR_FUTURE, p.uploaded_at))
    for photo in candidates:
        if not photo_quality_failed(session, photo.id):
            return photo
    return None


def current_baseline(session: Session, key: ViewKey) -> Baseline | None:
    series_id, view, region = key
    return session.scalar(
        select(Baseline).where(Baseline.series_id == series_id, Baseline.view == view, Baseline.region == region)
    )


def current_baseline_photo_id(session: Session, key: ViewKey) -> str | None:
    row = current_baseline(session, key)
    return row.photo_id if row is not None else None


def baseline_label(photo: Photo) -> str:
    """"baseline", or "baseline: session N" when it is not from session 1."""
    visit = photo.visit
    if visit.kind == VISIT_TREATMENT:
        if visit.session_number in (None, 1):
            return "baseline"
        return f"baseline: session {visit.session_number}"
    return f"baseline: follow-up {visit.visit_date:%d %b %Y}"


def _requeue_view(session: Session, key: ViewKey, baseline_id: str | None) -> int:
    """Queue analyses of every photo of the view against ``baseline_id``; returns how many are new.

    A photo the analysis already found unusable is skipped: its quality does not depend on the
    baseline, so measuring it again would only be refused again (and cost minutes of work).
    """
    created = 0
    for photo in photos_of_view(session, key):
        if photo.id != baseline_id and photo_quality_failed(session, photo.id):
            continue
        _, new = ensure_analysis(session, photo, None if photo.id == baseline_id else baseline_id)
        created += int(new)
    return created


def refresh_baseline(session: Session, key: ViewKey, *, actor: User | None = None,
                     clinic_id: str | None = None) -> tuple[str | None, str | None]:
    """Re-apply the rule to one view; returns ``(old photo id, new photo id)``.

    An override stays while its photo is still in the view. A change is audited and
    re-queues the view's analyses against the new baseline.
    """
    session.flush()
    row = current_baseline(session, key)
    old_id = row.photo_id if row is not None else None
    clinic_id = clinic_id or (row.clinic_id if row is not None else None) or (actor.clinic_id if actor else None)
    if row is not None and row.is_override:
        photo = session.get(Photo, row.photo_id)
        if photo is not None and key_of(photo) == key:
            return old_id, old_id
    choice = default_baseline(session, key)
    new_id = choice.id if choice is not None else None
    if new_id == old_id and (row is None or not row.is_override):
        return old_id, new_id
    if choice is None:
        if row is not None:
            session.delete(row)
    else:
        if row is None:
            row = Baseline(clinic_id=choice.clinic_id, series_id=key[0], view=key[1], region=key[2],
                           photo_id=choice.id)
            session.add(row)
        row.photo_id = choice.id
        row.is_override = False
        row.set_by_id = None
        row.updated_at = utcnow()
    session.flush()
    if new_id != old_id:
        _requeue_view(session, key, new_id)
        audit.record(session, actor, "baseline.changed", "series", key[0],
                     clinic_id=clinic_id or (choice.clinic_id if choice else None),
                     view=view_label(key[1], key[2]), old_photo_id=old_id, new_photo_id=new_id, rule="default")
    return old_id, new_id


def refresh_series_baselines(session: Session, series: TreatmentSeries, *, actor: User | None = None) -> None:
    session.flush()
    keys = {(series.id, p.view, p.region or "")
            for p in session.scalars(select(Photo).where(Photo.series_id == series.id))}
    keys |= {(series.id, b.view, b.region)
             for b in session.scalars(select(Baseline).where(Baseline.series_id == series.id))}
    for key in sorted(keys):
        refresh_baseline(session, key, actor=actor, clinic_id=series.clinic_id)


def choose_baseline(session: Session, actor: User, photo_id: str) -> Baseline:
    """A technician makes ``photo_id`` the baseline of its view (an override)."""
    require_staff(actor)
    photo = get_photo(session, actor, photo_id)
    key = key_of(photo)
    row = current_baseline(session, key)
    old_id = row.photo_id if row is not None else None
    if row is None:
        row = Baseline(clinic_id=photo.clinic_id, series_id=key[0], view=key[1], region=key[2], photo_id=photo.id)
        session.add(row)
    row.photo_id = photo.id
    row.is_override = True
    row.set_by_id = actor.id
    row.updated_at = utcnow()
    session.flush()
    if old_id != photo.id:
        _requeue_view(session, key, photo.id)
    audit.record(session, actor, "baseline.chosen", "series", key[0], view=photo.view_label,
                 old_photo_id=old_id, new_photo_id=photo.id)
    return row


def restore_default_baseline(session: Session, actor: User, series_id: str, view: str, region: str) -> str | None:
    """Drop a technician's choice and go back to the default rule; returns the new baseline id."""
    require_staff(actor)
    series = get_series(session, actor, series_id)
    key = (series.id, view, region or "")
    row = current_baseline(session, key)
    if row is None or not row.is_override:
        raise ValidationFailed("This view already uses the default baseline.")
    row.is_override = False
    session.flush()
    audit.record(session, actor, "baseline.default_restored", "series", series.id, view=view_label(view, region))
    # Force re-evaluation (the row is no longer an override).
    _, new_id = refresh_baseline(session, key, actor=actor, clinic_id=series.clinic_id)
    return new_id


@dataclass(frozen=True)
class BaselineStatus:
    is_baseline: bool
    baseline: Photo | None
    label: str | None
    is_override: bool


def baseline_status(session: Session, photo: Photo) -> BaselineStatus:
    row = current_baseline(session, key_of(photo))
    if row is None:
        return BaselineStatus(False, None, None, False)
    base = session.get(Photo, row.photo_id)
    return BaselineStatus(row.photo_id == photo.id, base, baseline_label(base) if base else None, row.is_override)
