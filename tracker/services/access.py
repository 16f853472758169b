"""Object-level access: the ONE place that decides whether a user may see a record.

Every view and service fetches patients, series, visits, photos, users and
invitations through these functions. A record of another clinic, or (for a
patient) of another patient, is reported as :class:`NotFound`: we never confirm
that somebody else's record exists.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tracker.models import Invitation, Patient, Photo, TreatmentSeries, User, Visit
from tracker.models.vocabulary import CLINIC_ADMIN, STAFF_ROLES

from .errors import Forbidden, NotFound

T = TypeVar("T", Patient, TreatmentSeries, Visit, Photo)


def require_staff(actor: User) -> None:
    if actor.role not in STAFF_ROLES or not actor.active:
        raise Forbidden("Only clinic staff can do this.")


def require_admin(actor: User) -> None:
    if actor.role != CLINIC_ADMIN or not actor.active:
        raise Forbidden("Only a clinic admin can do this.")


def _patient_id_of(obj: Patient | TreatmentSeries | Visit | Photo) -> str:
    if isinstance(obj, Patient):
        return obj.id
    if isinstance(obj, Visit):
        return obj.series.patient_id
    return obj.patient_id


def can_see(actor: User, obj: Patient | TreatmentSeries | Visit | Photo) -> bool:
    """True when ``actor`` may see ``obj``: same clinic, and for a patient their own record."""
    if not actor.active or obj.clinic_id != actor.clinic_id:
        return False
    if actor.role in STAFF_ROLES:
        return True
    return actor.patient_id is not None and _patient_id_of(obj) == actor.patient_id


def _get(session: Session, actor: User, model: type[T], obj_id: str, what: str) -> T:
    obj = session.get(model, obj_id) if isinstance(obj_id, str) and obj_id else None
    if obj is None or not can_see(actor, obj):
        raise NotFound(f"That {what} does not exist or is not in your clinic.")
    return obj


def get_patient(session: Session, actor: User, patient_id: str) -> Patient:
    return _get(session, actor, Patient, patient_id, "patient")


def get_series(session: Session, actor: User, series_id: str) -> TreatmentSeries:
    return _get(session, actor, TreatmentSeries, series_id, "treatment series")


def get_visit(session: Session, actor: User, visit_id: str) -> Visit:
    return _get(session, actor, Visit, visit_id, "visit")


def get_photo(session: Session, actor: User, photo_id: str) -> Photo:
    """A photo ``actor`` may see; for a patient only once published (see :mod:`.review`)."""
    photo = _get(session, actor, Photo, photo_id, "photo")
    if actor.role not in STAFF_ROLES:
        from .review import photo_visible  # review builds on these checks

        if not photo_visible(session, actor, photo):
            raise NotFound("That photo does not exist or is not in your clinic.")
    return photo


def get_staff_member(session: Session, actor: User, user_id: str) -> User:
    """A staff account of the actor's clinic (admins only)."""
    require_admin(actor)
    user = session.get(User, user_id) if user_id else None
    if user is None or user.clinic_id != actor.clinic_id or user.role not in STAFF_ROLES:
        raise NotFound("That staff member does not exist or is not in your clinic.")
    return user


def get_invitation(session: Session, actor: User, invitation_id: str) -> Invitation:
    require_staff(actor)
    inv = session.get(Invitation, invitation_id) if invitation_id else None
    if inv is None or inv.clinic_id != actor.clinic_id:
        raise NotFound("That invitation does not exist or is not in your clinic.")
    return inv


def patients_query(actor: User) -> Select[Patient]:
    """A SELECT of the patients ``actor`` may see (staff: the clinic; patient: themself)."""
    stmt = select(Patient).where(Patient.clinic_id == actor.clinic_id)
    if actor.role not in STAFF_ROLES:
        stmt = stmt.where(Patient.id == (actor.patient_id or ""))
    return stmt
