"""Clinics and accounts: creation, sign-in, password changes and resets."""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.models import Clinic, User, utcnow
from tracker.models.vocabulary import CLINIC_ADMIN, ROLES, STAFF_ROLES

from . import audit, sessions, throttle
from .access import get_staff_member, require_admin
from .errors import AuthenticationFailed, Conflict, TooManyAttempts, ValidationFailed
from .text import plain_text

MIN_PASSWORD_LENGTH = 10
#: Sign-in attempts allowed per account within the throttle's window before it is paused.
MAX_FAILED_SIGN_INS = throttle.ACCOUNT_LIMIT
#: Said whenever an email cannot be used: emails are unique across clinics, so saying
#: "already exists" would tell one clinic's admin who another clinic's users are.
EMAIL_UNAVAILABLE = "This email address cannot be used for a new account. Use another one."
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# A real hash to compare against when the email is unknown, so that a wrong email
# and a wrong password take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def normalise_email(email: str) -> str:
    value = (email or "").strip().lower()
    if not _EMAIL_RE.match(value) or len(value) > 254:
        raise ValidationFailed("Enter a valid email address.", field="email")
    return value


def check_password_rules(password: str, *, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.", field=field
        )


def generate_temporary_password() -> str:
    """A readable one-time password (about 60 bits), e.g. ``kqzp-7trm-w3xa``."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))


def email_taken(session: Session, email: str) -> bool:
    return (session.scalar(select(func.count()).select_from(User).where(User.email == email)) or 0) > 0


def create_clinic(session: Session, *, name: str, admin_email: str, admin_password: str,
                  admin_name: str = "Clinic admin") -> tuple[Clinic, User]:
    """Create a clinic and its first admin (``tracker clinic create``)."""
    name = plain_text(name)
    if not name:
        raise ValidationFailed("The clinic needs a name.", field="name")
    if session.scalar(select(Clinic).where(Clinic.name == name)) is not None:
        raise Conflict(f"A clinic called {name!r} already exists.", field="name")
    email = normalise_email(admin_email)
    if email_taken(session, email):
        raise Conflict(EMAIL_UNAVAILABLE, field="admin_email")
    check_password_rules(admin_password, field="admin_password")
    clinic = Clinic(name=name)
    session.add(clinic)
    session.flush()
    admin = User(
        clinic_id=clinic.id,
        email=email,
        full_name=plain_text(admin_name) or "Clinic admin",
        role=CLINIC_ADMIN,
        password_hash=hash_password(admin_password),
    )
    session.add(admin)
    session.flush()
    audit.record(session, None, "clinic.created", "clinic", clinic.id, clinic_id=clinic.id, name=name)
    audit.record(session, None, "user.created", "user", admin.id, clinic_id=clinic.id,
                 email=email, role=CLINIC_ADMIN)
    return clinic, admin


def _too_many(wait: dt.timedelta, *, address: bool) -> TooManyAttempts:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    when = f"Try again in {minutes} minute{'s' if minutes != 1 else ''}"
    if address:
        return TooManyAttempts(f"Too many sign-in attempts from this network. {when}.")
    return TooManyAttempts(f"Too many failed sign-ins for this account. {when}, "
                           "or ask your clinic admin to reset the password.")


def _claim_attempt(session: Session, email: str, client: str) -> None:
    """Count this attempt per address, then per account, and commit the claim at once:
    concurrent attempts must see it, and a refused one must still count."""
    now = utcnow()
    throttle.forget_expired(session, now=now)
    wait = throttle.claim(session, throttle.address_key(client), throttle.ADDRESS_LIMIT, now=now)
    if wait is None:
        account_wait = throttle.claim(session, throttle.account_key(email), throttle.ACCOUNT_LIMIT, now=now)
        session.commit()
        if account_wait is not None:
            raise _too_many(account_wait, address=False)
        return
    session.commit()
    raise _too_many(wait, address=True)


def authenticate(session: Session, email: str, password: str, *, client: str = "") -> User:
    """The active user with this email and password, or :class:`AuthenticationFailed`.

    Every attempt is counted first (:mod:`tracker.services.throttle`): past
    :data:`MAX_FAILED_SIGN_INS` attempts per email, or the higher per-address limit,
    within the window, every attempt is refused (even the right password) with
    :class:`TooManyAttempts`, for unknown emails exactly as for known ones. A right
    password clears the account's count. Commits the attempt's claim.
    """
    value = (email or "").strip().lower()
    try:
        _claim_attempt(session, value, client)
    except TooManyAttempts:
        check_password_hash(_DUMMY_HASH, password or "")
        user = session.scalar(select(User).where(User.email == value)) if value else None
        if user is not None:
            audit.record(session, None, "user.sign_in_throttled", "user", user.id, clinic_id=user.clinic_id,
                         client=client[:64])
        raise
    user = session.scalar(select(User).where(User.email == value)) if value else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        raise AuthenticationFailed("That email and password do not match an account.")
    if not check_password_hash(user.password_hash, password or ""):
        audit.record(session, None, "user.sign_in_failed", "user", user.id, clinic_id=user.clinic_id,
                     client=client[:64])
        raise AuthenticationFailed("That email and password do not match an account.")
    if not user.active:
        raise AuthenticationFailed("This account has been deactivated. Ask your clinic admin.")
    throttle.clear(session, throttle.account_key(value))
    throttle.refund(session, throttle.address_key(client))
    user.last_login_at = utcnow()
    audit.record(session, user, "user.signed_in", "user", user.id, client=client[:64])
    return user


def sign_out_everywhere(session: Session, actor: User) -> User:
    """End every open session of ``actor`` (on all devices)."""
    sessions.end_all_sessions(session, actor)
    audit.record(session, actor, "user.signed_out_everywhere", "user", actor.id)
    return actor


def create_staff(session: Session, actor: User, *, email: str, full_name: str, role: str,
                 password: str | None = None) -> tuple[User, str]:
    """A new technician or admin in the actor's clinic. Returns the user and the
    temporary password to hand over (they must change it at first sign-in)."""
    require_admin(actor)
    if role not in STAFF_ROLES:
        raise ValidationFailed(f"Choose a staff role: {', '.join(ROLES[r] for r in sorted(STAFF_ROLES))}.",
                               field="role")
    email = normalise_email(email)
    if email_taken(session, email):
        raise Conflict(EMAIL_UNAVAILABLE, field="email")
    full_name = plain_text(full_name)
    if not full_name:
        raise ValidationFailed("Enter the person's name.", field="full_name")
    temporary = password is None
    if password is None:
        password = generate_temporary_password()
    else:
        check_password_rules(password)
    user = User(clinic_id=actor.clinic_id, email=email, full_name=full_name, role=role,
                password_hash=hash_password(password), must_change_password=temporary)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.created", "user", user.id, email=email, role=role)
    return user, password


def reset_staff_password(session: Session, actor: User, user_id: str) -> tuple[User, str]:
    """Give a staff member a temporary password; their open sessions end."""
    user = get_staff_member(session, actor, user_id)
    temporary = generate_temporary_password()
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    user.auth_version += 1
    throttle.clear(session, throttle.account_key(user.email))  # the new password must work at once
    audit.record(session, actor, "user.password_reset", "user", user.id, email=user.email)
    return user, temporary


def set_staff_active(session: Session, actor: User, user_id: str, active: bool) -> User:
    user = get_staff_member(session, actor, user_id)
    if user.id == actor.id and not active:
        raise Conflict("You cannot deactivate your own account.")
    if user.active != active:
        user.active = active
        user.auth_version += 1
        audit.record(session, actor, "user.activated" if active else "user.deactivated", "user", user.id)
    return user


def change_password(session: Session, actor: User, *, current: str, new: str) -> User:
    """Set a new password after checking the current one; wrong current passwords count
    against the account's sign-in throttle (a stolen session cannot guess it)."""
    wait = throttle.claim(session, throttle.account_key(actor.email), throttle.ACCOUNT_LIMIT)
    session.commit()  # the attempt counts even when the caller rolls back the refusal
    if wait is not None:
        raise _too_many(wait, address=False)
    if not check_password_hash(actor.password_hash, current or ""):
        raise ValidationFailed("Your current password is not right.", field="current_password")
    throttle.clear(session, throttle.account_key(actor.email))
    check_password_rules(new, field="new_password")
    if check_password_hash(actor.password_hash, new):
        raise ValidationFailed("Choose a password different from the current one.", field="new_password")
    actor.password_hash = hash_password(new)
    actor.must_change_password = False
    actor.auth_version += 1
    audit.record(session, actor, "user.password_changed", "user", actor.id)
    return actor


def list_staff(session: Session, actor: User) -> list[User]:
    require_admin(actor)
    stmt = (select(User).where(User.clinic_id == actor.clinic_id, User.role.in_(STAFF_ROLES))
            .order_by(User.active.desc(), User.full_name))
    return list(session.scalars(stmt))


def technicians(session: Session, clinic_id: str) -> list[User]:
    stmt = (select(User).where(User.clinic_id == clinic_id, User.role.in_(STAFF_ROLES),
                               User.active.is_(True)).order_by(User.full_name))
    return list(session.scalars(stmt))



def patient_account(session: Session, patient_id: str) -> User | None:
    """The sign-in account of a patient, if they have accepted an invitation."""
    return session.scalar(select(User).where(User.patient_id == patient_id))


def set_patient_access(session: Session, actor: User, patient_id: str, active: bool) -> User:
    """Allow or stop a patient's sign-in (a new invitation also turns it back on)."""
    from .access import get_patient, require_staff

    require_staff(actor)
    patient = get_patient(session, actor, patient_id)
    user = patient_account(session, patient.id)
    if user is None:
        raise Conflict(f"{patient.full_name} has no account yet.")
    if user.active != active:
        user.active = active
        user.auth_version += 1  # ends open sessions
        audit.record(session, actor, "patient.access_enabled" if active else "patient.access_disabled",
                     "patient", patient.id)
    return user
