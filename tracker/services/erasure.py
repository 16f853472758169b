"""Erasing a patient: their records, originals and derived images go; the audit log keeps
that it happened (who, when, how much), without the patient's name.

Clinic admins only, confirmed by typing the patient's full name. Rows are deleted in
one transaction; files are removed after the commit (a crash in between leaves orphan
files, which ``tracker verify`` reports, never a row pointing at nothing). An original
whose bytes another photo also uses (another patient's identical file) is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from tracker.models import (
    Analysis,
    AuditEvent,
    Baseline,
    Consent,
    Invitation,
    Patient,
    Photo,
    RegionRevision,
    TreatmentSeries,
    User,
    Visit,
)
from tracker.storage import Storage, StorageError

from . import audit
from .access import get_patient, require_admin
from .analysis import stored_overlay_keys
from .errors import ValidationFailed

#: Detail fields of earlier audit events that can name the patient; blanked on erasure.
_PERSONAL_DETAIL = ("name", "full_name", "email", "filename", "changes", "before", "after", "reason")
ERASED = "[erased]"


@dataclass(frozen=True)
class ErasureResult:
    patient_id: str
    photos: int
    files_removed: int
    files_kept_shared: int


def _normalise_name(name: str) -> str:
    return re.sub(r"\s+", " ", (name or "").strip()).casefold()


def erase_patient(session: Session, storage: Storage, actor: User, patient_id: str, *,
                  confirm_name: str) -> ErasureResult:
    """Delete the patient and everything recorded about them; commit; then remove the files."""
    require_admin(actor)
    patient = get_patient(session, actor, patient_id)
    if _normalise_name(confirm_name) != _normalise_name(patient.full_name):
        raise ValidationFailed("Type the patient's full name exactly as shown to confirm the erasure.",
                               field="confirm_name")
    photos = list(session.execute(
        select(Photo.id, Photo.original_key, Photo.thumb_key, Photo.display_key)
        .where(Photo.patient_id == patient.id)))
    photo_ids = [p.id for p in photos]
    series_ids = list(session.scalars(select(TreatmentSeries.id).where(TreatmentSeries.patient_id == patient.id)))
    files = [k for p in photos for k in (p.thumb_key, p.display_key) if k]
    if series_ids:  # drawn region masks: read before the photos' deletion cascades to their rows
        files += [k for k in session.scalars(select(RegionRevision.mask_key).where(
            RegionRevision.series_id.in_(series_ids), RegionRevision.mask_key.is_not(None))) if k]
        session.execute(delete(RegionRevision).where(RegionRevision.series_id.in_(series_ids)))
    if photo_ids:
        overlay_rows = session.scalars(select(Analysis.overlay_keys).where(
            or_(Analysis.photo_id.in_(photo_ids), Analysis.baseline_photo_id.in_(photo_ids))))
        files += stored_overlay_keys(overlay_rows)
        session.execute(delete(Analysis).where(
            or_(Analysis.photo_id.in_(photo_ids), Analysis.baseline_photo_id.in_(photo_ids))))
        session.execute(delete(Baseline).where(Baseline.photo_id.in_(photo_ids)))
        session.execute(delete(Photo).where(Photo.id.in_(photo_ids)))
    if series_ids:
        session.execute(delete(Baseline).where(Baseline.series_id.in_(series_ids)))
        session.execute(delete(Visit).where(Visit.series_id.in_(series_ids)))
    session.execute(delete(Invitation).where(Invitation.patient_id == patient.id))
    session.execute(delete(User).where(User.patient_id == patient.id))
    session.execute(delete(Consent).where(Consent.patient_id == patient.id))
    # Rows of other parts (exports, progress...) go with the patient through ON DELETE CASCADE.
    session.execute(delete(TreatmentSeries).where(TreatmentSeries.patient_id == patient.id))
    _blank_personal_detail(session, actor.clinic_id, patient.id, photo_ids)
    session.execute(delete(Patient).where(Patient.id == patient.id))
    originals = sorted({p.original_key for p in photos})
    shared = [k for k in originals if session.scalar(select(Photo.id).where(Photo.original_key == k).limit(1))]
    files += [k for k in originals if k not in shared]
    audit.record(session, actor, "patient.erased", "patient", patient.id, photos=len(photo_ids),
                 series=len(series_ids), files_removed=len(files), originals_kept_shared=len(shared))
    session.commit()
    session.expunge_all()
    removed = 0
    for key in files:
        try:
            storage.delete(key)
            removed += 1
        except StorageError:
            pass  # left as an orphan file; `tracker verify` reports it
    return ErasureResult(patient.id, len(photo_ids), removed, len(shared))


def _blank_personal_detail(session: Session, clinic_id: str, patient_id: str, photo_ids: list[str]) -> None:
    """Earlier audit events about this patient keep who/when/what, not the patient's name."""
    ids = {patient_id, *photo_ids}
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.clinic_id == clinic_id, or_(AuditEvent.object_id.in_(ids),
                                               AuditEvent.object_type.in_(("series", "visit", "export")))))
    for event in events:
        detail = dict(event.detail or {})
        if event.object_id not in ids and detail.get("patient_id") != patient_id:
            continue
        cleaned = {k: (ERASED if k in _PERSONAL_DETAIL else v) for k, v in detail.items()}
        if cleaned != detail:
            session.execute(update(AuditEvent).where(AuditEvent.id == event.id).values(detail=cleaned))

