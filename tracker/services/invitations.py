"""Patient invitations: single-use, expiring links (shown as a link and a QR code).

Only the SHA-256 of the token is stored. Accepting one sets the patient's
password (creating their account the first time); a new invitation for the same
patient revokes the open ones, so it also serves as a password reset.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.models import Invitation, User, utcnow
from tracker.models.db import rows_changed
from tracker.models.vocabulary import PATIENT

from . import audit, throttle
from .access import get_invitation, get_patient, require_staff
from .accounts import EMAIL_UNAVAILABLE, check_password_rules, hash_password, normalise_email
from .errors import Conflict, InvitationInvalid, ValidationFailed


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_invitation(session: Session, actor: User, patient_id: str, *, valid_days: int = 7,
                      now: dt.datetime | None = None) -> tuple[Invitation, str]:
    """A new invitation for the patient; returns it and the token (shown once, never stored)."""
    require_staff(actor)
    patient = get_patient(session, actor, patient_id)
    now = now or utcnow()
    session.execute(
        update(Invitation)
        .where(Invitation.patient_id == patient.id, Invitation.used_at.is_(None), Invitation.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    token = secrets.token_urlsafe(32)
    inv = Invitation(clinic_id=patient.clinic_id, patient_id=patient.id, token_hash=hash_token(token),
                     created_by_id=actor.id, created_at=now, expires_at=now + dt.timedelta(days=valid_days))
    session.add(inv)
    session.flush()
    audit.record(session, actor, "invitation.created", "patient", patient.id, invitation_id=inv.id,
                 expires_at=inv.expires_at)
    return inv, token


def open_invitation(session: Session, token: str, *, now: dt.datetime | None = None) -> Invitation:
    """The invitation for ``token`` if it can still be used; otherwise a clear refusal."""
    now = now or utcnow()
    inv = session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token or "")))
    if inv is None:
        raise InvitationInvalid("This invitation link is not valid. Check that you copied all of it, "
                                "or ask your clinic for a new one.")
    state = inv.state(now)
    if state == "used":
        raise InvitationInvalid("This invitation has already been used. Sign in with the password you chose, "
                                "or ask your clinic for a new invitation.")
    if state == "revoked":
        raise InvitationInvalid("This invitation was replaced by a newer one. Use the latest link from your clinic.")
    if state == "expired":
        raise InvitationInvalid("This invitation has expired. Ask your clinic for a new one.")
    return inv


def existing_account(session: Session, inv: Invitation) -> User | None:
    return session.scalar(select(User).where(User.patient_id == inv.patient_id))


def accept_invitation(session: Session, token: str, *, email: str, password: str,
                      now: dt.datetime | None = None) -> User:
    """Use the invitation: set the patient's email and password. Single use, even under races."""
    now = now or utcnow()
    inv = open_invitation(session, token, now=now)
    email = normalise_email(email)
    check_password_rules(password)
    user = existing_account(session, inv)
    other = session.scalar(select(User).where(User.email == email))
    if other is not None and (user is None or other.id != user.id):
        raise Conflict(EMAIL_UNAVAILABLE, field="email")
    # Claim the invitation atomically: only one request can turn used_at from NULL to now.
    claimed = rows_changed(
        session,
        update(Invitation)
        .where(Invitation.id == inv.id, Invitation.used_at.is_(None), Invitation.revoked_at.is_(None))
        .values(used_at=now),
    )
    if claimed != 1:
        raise InvitationInvalid("This invitation has already been used. Sign in with the password you chose.")
    patient = inv.patient
    if user is None:
        user = User(clinic_id=inv.clinic_id, email=email, full_name=patient.full_name, role=PATIENT,
                    patient_id=patient.id, password_hash=hash_password(password))
        session.add(user)
    else:
        user.email = email
        user.password_hash = hash_password(password)
        user.active = True
        user.must_change_password = False
        user.auth_version += 1
    if not patient.email:
        patient.email = email
    throttle.clear(session, throttle.account_key(email))  # a new password lifts a pause
    session.flush()
    audit.record(session, user, "invitation.accepted", "patient", patient.id, invitation_id=inv.id)
    return user


def invitations_for(session: Session, actor: User, patient_id: str) -> list[Invitation]:
    require_staff(actor)
    patient = get_patient(session, actor, patient_id)
    stmt = select(Invitation).where(Invitation.patient_id == patient.id).order_by(Invitation.created_at.desc())
    return list(session.scalars(stmt))


def revoke_invitation(session: Session, actor: User, invitation_id: str) -> Invitation:
    inv = get_invitation(session, actor, invitation_id)
    if inv.state(utcnow()) != "open":
        raise ValidationFailed("Only an open invitation can be withdrawn.")
    inv.revoked_at = utcnow()
    audit.record(session, actor, "invitation.revoked", "patient", inv.patient_id, invitation_id=inv.id)
    return inv
