"""Clinics and accounts: creation, sign-in, password changes and resets."""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.models import AuditEvent, Clinic, User, utcnow
from tracker.models.vocabulary import CLINIC_ADMIN, ROLES, STAFF_ROLES

from . import audit
from .access import get_staff_member, require_admin
from .errors import AuthenticationFailed, Conflict, TooManyAttempts, ValidationFailed

MIN_PASSWORD_LENGTH = 10
#: Wrong passwords allowed per account within THROTTLE_WINDOW before it is paused.
MAX_FAILED_SIGN_INS = 5
THROTTLE_WINDOW = dt.timedelta(minutes=15)
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
    return session.scalar(select(func.count()).select_from(User).where(User.email == email)) > 0


def create_clinic(session: Session, *, name: str, admin_email: str, admin_password: str,
                  admin_name: str = "Clinic admin") -> tuple[Clinic, User]:
    """Create a clinic and its first admin (``tracker clinic create``)."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("The clinic needs a name.", field="name")
    if session.scalar(select(Clinic).where(Clinic.name == name)) is not None:
        raise Conflict(f"A clinic called {name!r} already exists.", field="name")
    email = normalise_email(admin_email)
    if email_taken(session, email):
        raise Conflict(f"An account for {email} already exists.", field="admin_email")
    check_password_rules(admin_password, field="admin_password")
    clinic = Clinic(name=name)
    session.add(clinic)
    session.flush()
    admin = User(
        clinic_id=clinic.id,
        email=email,
        full_name=admin_name.strip() or "Clinic admin",
        role=CLINIC_ADMIN,
        password_hash=hash_password(admin_password),
    )
    session.add(admin)
    session.flush()
    audit.record(session, None, "clinic.created", "clinic", clinic.id, clinic_id=clinic.id, name=name)
    audit.record(session, None, "user.created", "user", admin.id, clinic_id=clinic.id,
                 email=email, role=CLINIC_ADMIN)
    return clinic, admin


def recent_failures(session: Session, user: User, now: dt.datetime) -> list[dt.datetime]:
    """Times of the failed sign-ins counted against ``user`` now (oldest first): those of the
    last :data:`THROTTLE_WINDOW` after their latest successful sign-in."""
    since = now - THROTTLE_WINDOW
    if user.last_login_at is not None and user.last_login_at > since:
        since = user.last_login_at
    stmt = (select(AuditEvent.created_at)
            .where(AuditEvent.object_type == "user", AuditEvent.object_id == user.id,
                   AuditEvent.action == "user.sign_in_failed", AuditEvent.created_at > since)
            .order_by(AuditEvent.created_at))
    return list(session.scalars(stmt))


def _throttled_for(session: Session, user: User, now: dt.datetime) -> dt.timedelta | None:
    failures = recent_failures(session, user, now)
    if len(failures) < MAX_FAILED_SIGN_INS:
        return None
    return failures[-MAX_FAILED_SIGN_INS] + THROTTLE_WINDOW - now


def authenticate(session: Session, email: str, password: str, *, client: str = "") -> User:
    """The active user with this email and password, or :class:`AuthenticationFailed`.

    After :data:`MAX_FAILED_SIGN_INS` wrong passwords within :data:`THROTTLE_WINDOW`
    the account refuses every attempt (even the right password) until the window
    has passed: :class:`TooManyAttempts`. Failures and refusals are audited.
    """
    value = (email or "").strip().lower()
    user = session.scalar(select(User).where(User.email == value)) if value else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        raise AuthenticationFailed("That email and password do not match an account.")
    now = utcnow()
    wait = _throttled_for(session, user, now)
    if wait is not None:
        check_password_hash(_DUMMY_HASH, password or "")
        audit.record(session, None, "user.sign_in_throttled", "user", user.id, clinic_id=user.clinic_id,
                     client=client[:64])
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        raise TooManyAttempts(f"Too many failed sign-ins for this account. Try again in {minutes} "
                              f"minute{'s' if minutes != 1 else ''}, or ask your clinic admin to reset the password.")
    if not check_password_hash(user.password_hash, password or ""):
        audit.record(session, None, "user.sign_in_failed", "user", user.id, clinic_id=user.clinic_id,
                     client=client[:64])
        raise AuthenticationFailed("That email and password do not match an account.")
    if not user.active:
        raise AuthenticationFailed("This account has been deactivated. Ask your clinic admin.")
    user.last_login_at = now
    audit.record(session, user, "user.signed_in", "user", user.id, client=client[:64])
    return user


def sign_out_everywhere(session: Session, actor: User) -> User:
    """End every open session of ``actor`` (on all devices): the session version moves on."""
    actor.auth_version += 1
    audit.record(session, actor, "user.signed_out_everywhere", "user", actor.id)
    return actor


def load_session_user(session: Session, session_id: str) -> User | None:
    """The user for a Flask-Login id ``"<user id>.<auth version>"``, or None when stale."""
    user_id, _, version = (session_id or "").partition(".")
    user = session.get(User, user_id) if user_id else None
    if user is None or not user.active or str(user.auth_version) != version:
        return None
    return user


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
        raise Conflict(f"An account for {email} already exists.", field="email")
    full_name = (full_name or "").strip()
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
    if not check_password_hash(actor.password_hash, current or ""):
        raise ValidationFailed("Your current password is not right.", field="current_password")
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
