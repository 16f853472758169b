"""Patient records and their two consents (clinical photography, marketing use)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tracker.models import Consent, Patient, Photo, TreatmentSeries, User, utcnow
from tracker.models.vocabulary import CONCERNS, CONSENT_KINDS, CONSENT_PHOTOGRAPHY, FITZPATRICK

from . import audit
from .access import get_patient, patients_query, require_staff
from .errors import Conflict, ConsentRequired, ValidationFailed
from .text import plain_text


@dataclass
class PatientInput:
    full_name: str
    date_of_birth: dt.date
    fitzpatrick: int
    concerns: list[str] = field(default_factory=list)
    concerns_notes: str = ""
    email: str | None = None


def _validate(data: PatientInput, today: dt.date) -> PatientInput:
    name = plain_text(data.full_name)
    if not name:
        raise ValidationFailed("Enter the patient's name.", field="full_name")
    if data.date_of_birth is None or data.date_of_birth > today:
        raise ValidationFailed("The date of birth cannot be in the future.", field="date_of_birth")
    if data.date_of_birth < dt.date(1900, 1, 1):
        raise ValidationFailed("Check the date of birth.", field="date_of_birth")
    if data.fitzpatrick not in FITZPATRICK:
        raise ValidationFailed("Choose a Fitzpatrick skin type from I to VI.", field="fitzpatrick")
    unknown = [c for c in data.concerns if c not in CONCERNS]
    if unknown:
        raise ValidationFailed(f"Unknown concern: {', '.join(unknown)}.", field="concerns")
    email = (data.email or "").strip().lower() or None
    return PatientInput(name, data.date_of_birth, int(data.fitzpatrick), list(dict.fromkeys(data.concerns)),
                        (data.concerns_notes or "").strip(), email)


def create_patient(session: Session, actor: User, data: PatientInput, *, is_simulated: bool = False,
                   today: dt.date | None = None) -> Patient:
    require_staff(actor)
    clean = _validate(data, today or dt.date.today())
    patient = Patient(clinic_id=actor.clinic_id, full_name=clean.full_name,
                      date_of_birth=clean.date_of_birth, fitzpatrick=clean.fitzpatrick,
                      concerns=clean.concerns, concerns_notes=clean.concerns_notes,
                      email=clean.email, is_simulated=is_simulated)
    session.add(patient)
    session.flush()
    audit.record(session, actor, "patient.created", "patient", patient.id, name=clean.full_name)
    return patient


def update_patient(session: Session, actor: User, patient_id: str, data: PatientInput) -> Patient:
    require_staff(actor)
    patient = get_patient(session, actor, patient_id)
    clean = _validate(data, dt.date.today())
    before = {"full_name": patient.full_name, "date_of_birth": patient.date_of_birth,
              "fitzpatrick": patient.fitzpatrick, "concerns": patient.concerns, "email": patient.email}
    patient.full_name = clean.full_name
    patient.date_of_birth = clean.date_of_birth
    patient.fitzpatrick = clean.fitzpatrick
    patient.concerns = clean.concerns
    patient.concerns_notes = clean.concerns_notes
    patient.email = clean.email
    after = {"full_name": patient.full_name, "date_of_birth": patient.date_of_birth,
             "fitzpatrick": patient.fitzpatrick, "concerns": patient.concerns, "email": patient.email}
    changed = {k: {"before": before[k], "after": after[k]} for k in before if before[k] != after[k]}
    if changed:
        audit.record(session, actor, "patient.updated", "patient", patient.id, changes=changed)
    return patient


def list_patients(session: Session, actor: User, *, search: str = "") -> list[Patient]:
    require_staff(actor)
    stmt = patients_query(actor)
    term = (search or "").strip()
    if term:
        like = f"%{term.lower()}%"
        stmt = stmt.where(or_(func.lower(Patient.full_name).like(like), func.lower(Patient.email).like(like)))
    return list(session.scalars(stmt.order_by(func.lower(Patient.full_name))))


def photo_counts(session: Session, clinic_id: str) -> dict[str, int]:
    rows = session.execute(
        select(Photo.patient_id, func.count()).where(Photo.clinic_id == clinic_id).group_by(Photo.patient_id)
    )
    return {pid: n for pid, n in rows}


def series_counts(session: Session, clinic_id: str) -> dict[str, int]:
    rows = session.execute(
        select(TreatmentSeries.patient_id, func.count())
        .where(TreatmentSeries.clinic_id == clinic_id)
        .group_by(TreatmentSeries.patient_id)
    )
    return {pid: n for pid, n in rows}


# Consents ------------------------------------------------------------------------------
def active_consent(patient: Patient, kind: str) -> Consent | None:
    """The consent of ``kind`` in force now, or None."""
    for consent in reversed(patient.consents):
        if consent.kind == kind and consent.revoked_at is None:
            return consent
    return None


def grant_consent(session: Session, actor: User, patient_id: str, kind: str, *,
                  granted_on: dt.date | None = None) -> Consent:
    require_staff(actor)
    patient = get_patient(session, actor, patient_id)
    if kind not in CONSENT_KINDS:
        raise ValidationFailed("Unknown consent.", field="kind")
    if active_consent(patient, kind) is not None:
        raise Conflict(f"{CONSENT_KINDS[kind]} consent is already recorded.")
    day = granted_on or dt.date.today()
    if day > dt.date.today():
        raise ValidationFailed("A consent cannot be dated in the future.", field="granted_on")
    consent = Consent(clinic_id=patient.clinic_id, patient_id=patient.id, kind=kind, granted_on=day,
                      recorded_by_id=actor.id)
    session.add(consent)
    patient.consents.append(consent)
    session.flush()
    audit.record(session, actor, "consent.granted", "patient", patient.id, kind=kind, granted_on=day)
    return consent


def revoke_consent(session: Session, actor: User, patient_id: str, kind: str, *,
                   revoked_on: dt.date | None = None) -> Consent:
    require_staff(actor)
    patient = get_patient(session, actor, patient_id)
    consent = active_consent(patient, kind)
    if consent is None:
        raise Conflict(f"There is no {CONSENT_KINDS.get(kind, kind).lower()} consent to revoke.")
    day = revoked_on or dt.date.today()
    if day < consent.granted_on:
        raise ValidationFailed("A consent cannot be revoked before it was given.", field="revoked_on")
    consent.revoked_on = day
    consent.revoked_at = utcnow()
    consent.revoked_by_id = actor.id
    audit.record(session, actor, "consent.revoked", "patient", patient.id, kind=kind, revoked_on=day)
    return consent


def require_photography_consent(patient: Patient) -> None:
    if active_consent(patient, CONSENT_PHOTOGRAPHY) is None:
        raise ConsentRequired(
            f"{patient.full_name} has no clinical photography consent on record, so no photo can be "
            "uploaded. Record the consent on the patient page first."
        )
