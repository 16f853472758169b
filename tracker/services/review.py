"""Review before patients see: a visit's photos and results reach the patient once reviewed.

A technician marks a visit reviewed (audited). A clinic may instead publish
automatically: then every photo that passed the quality check and is comparable
(a baseline, or aligned to it) reaches the patient as soon as it is measured.
A photo that needs a retake or is not comparable never reaches a patient: its
reason is for staff. Visits that existed before review did count as reviewed
(migration 0007).
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tracker.models import ClinicDisplaySettings, Photo, User, Visit, utcnow
from tracker.models.vocabulary import STAFF_ROLES, AnalysisState

from . import audit
from .access import get_visit, require_admin, require_staff
from .photo_status import PhotoStatus, statuses_of


def settings_of(session: Session, clinic_id: str) -> ClinicDisplaySettings:
    """The clinic's display settings (defaults when never saved: nothing automatic, no details)."""
    row = session.get(ClinicDisplaySettings, clinic_id)
    return row if row is not None else ClinicDisplaySettings(
        clinic_id=clinic_id, hide_overlays_from_patients=False, auto_publish=False, patient_details=False)


def mark_reviewed(session: Session, actor: User, visit_id: str) -> Visit:
    """Release a visit's photos and results to the patient (staff only; audited)."""
    require_staff(actor)
    visit = get_visit(session, actor, visit_id)
    visit.reviewed_at = utcnow()  # covers every photo uploaded until now
    visit.reviewed_by_id = actor.id
    audit.record(session, actor, "visit.reviewed", "visit", visit.id)
    session.flush()
    return visit


def withdraw_review(session: Session, actor: User, visit_id: str) -> Visit:
    """Hide a visit from the patient again, e.g. after a photo was found wrong (audited)."""
    require_staff(actor)
    visit = get_visit(session, actor, visit_id)
    if visit.reviewed_at is not None:
        visit.reviewed_at = None
        visit.reviewed_by_id = None
        audit.record(session, actor, "visit.review_withdrawn", "visit", visit.id)
        session.flush()
    return visit


def set_publishing(session: Session, actor: User, *, auto_publish: bool, patient_details: bool) -> None:
    """Clinic admin: publish comparable results without review; show patients the measures' figures."""
    require_admin(actor)
    row = session.get(ClinicDisplaySettings, actor.clinic_id)
    if row is None:
        row = ClinicDisplaySettings(clinic_id=actor.clinic_id, hide_overlays_from_patients=False)
        session.add(row)
    row.auto_publish = bool(auto_publish)
    row.patient_details = bool(patient_details)
    row.updated_at = utcnow()
    audit.record(session, actor, "clinic.publishing_set", "clinic", actor.clinic_id,
                 auto_publish=bool(auto_publish), patient_details=bool(patient_details))
    session.flush()


def published(photo: Photo, status: PhotoStatus, *, auto_publish: bool) -> bool:
    """Whether ``photo`` (with ``status``) may be shown to its patient.

    A review covers the photos the visit had when it was reviewed; one uploaded later
    waits for the next review (or for automatic publishing).
    """
    if status.state in ("retake", "not_comparable", AnalysisState.FAILED):
        return False
    reviewed = photo.visit.reviewed_at
    if reviewed is not None and photo.uploaded_at <= reviewed:
        return True
    return auto_publish and status.comparable


def visible_photo_ids(session: Session, actor: User, photos: list[Photo]) -> set[str]:
    """The photos of ``photos`` that ``actor`` may see: all for staff, the published ones for a patient."""
    if actor.role in STAFF_ROLES:
        return {p.id for p in photos}
    auto = bool(settings_of(session, actor.clinic_id).auto_publish)
    statuses = statuses_of(session, photos)
    return {p.id for p in photos if published(p, statuses[p.id], auto_publish=auto)}


def photo_visible(session: Session, actor: User, photo: Photo) -> bool:
    return photo.id in visible_photo_ids(session, actor, [photo])


def unreviewed_visits(session: Session, series_id: str) -> list[Visit]:
    """Visits of a series with photos not yet released to the patient (for the staff reminder)."""
    # EXISTS, not JOIN + DISTINCT: PostgreSQL cannot compare the visit's JSON columns for DISTINCT.
    waiting = (select(Photo.id).where(Photo.visit_id == Visit.id,
                                      or_(Visit.reviewed_at.is_(None), Photo.uploaded_at > Visit.reviewed_at))
               .exists())
    stmt = select(Visit).where(Visit.series_id == series_id, waiting).order_by(Visit.visit_date)
    return list(session.scalars(stmt))
