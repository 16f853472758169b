"""Two-factor sign-in for staff: a time-based code from an authenticator app (TOTP,
RFC 6238, with pyotp) after the password, or one of ten single-use recovery codes
(stored as scrypt hashes). Clinic admins can require it for every staff member.

Codes count against the same per-account throttle as passwords, so the 10^6 codes
cannot be guessed in the time a code lives.
"""

from __future__ import annotations

import json
import secrets

import pyotp
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.models import User

from . import audit, throttle
from .access import require_admin
from .errors import AuthenticationFailed, Forbidden, TooManyAttempts, ValidationFailed

ISSUER = "Skin Progress Tracker"
RECOVERY_CODES = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` link an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _code_ok(secret: str, code: str) -> bool:
    digits = "".join(ch for ch in (code or "") if not ch.isspace())
    # One step of clock drift either way (30 s), as authenticator apps expect.
    return len(digits) == 6 and digits.isdecimal() and pyotp.TOTP(secret).verify(digits, valid_window=1)


def is_enabled(user: User) -> bool:
    return user.totp_secret is not None


def must_enrol(user: User) -> bool:
    """A staff member of a clinic that requires two-factor sign-in who has not set it up."""
    return bool(user.is_staff and user.clinic.require_two_factor and user.totp_secret is None)


def _recovery_codes() -> list[str]:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return ["-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(2))
            for _ in range(RECOVERY_CODES)]


def enable(session: Session, user: User, *, secret: str, code: str) -> list[str]:
    """Turn two-factor sign-in on once the app shows the right code; returns the recovery
    codes to show once (only their hashes are kept)."""
    if not user.is_staff:
        raise Forbidden("Two-factor sign-in is for staff accounts.")
    if not _code_ok(secret, code):
        raise ValidationFailed("That code is not right. Check the time on your phone and type the 6 digits "
                               "the app shows now.", field="code")
    codes = _recovery_codes()
    user.totp_secret = secret
    user.recovery_codes = json.dumps([generate_password_hash(c, method="scrypt") for c in codes])
    audit.record(session, user, "user.two_factor_enabled", "user", user.id)
    return codes


def disable(session: Session, user: User, *, code: str) -> None:
    if user.clinic.require_two_factor and user.is_staff:
        raise Forbidden("Your clinic requires two-factor sign-in for staff.")
    if user.totp_secret is None or not _code_ok(user.totp_secret, code):
        raise ValidationFailed("That code is not right.", field="code")
    user.totp_secret = None
    user.recovery_codes = None
    audit.record(session, user, "user.two_factor_disabled", "user", user.id)


def _use_recovery_code(user: User, code: str) -> bool:
    hashes = json.loads(user.recovery_codes or "[]")
    typed = (code or "").strip().lower()
    for i, hashed in enumerate(hashes):
        if check_password_hash(hashed, typed):
            user.recovery_codes = json.dumps(hashes[:i] + hashes[i + 1:])  # single use
            return True
    return False


def check_code(session: Session, user: User, code: str, *, client: str = "") -> None:
    """Accept the app's current code or an unused recovery code, or raise. Every attempt
    counts against the account's throttle (committed at once, like a password attempt)."""
    wait = throttle.claim(session, throttle.account_key(user.email), throttle.ACCOUNT_LIMIT)
    session.commit()
    if wait is not None:
        minutes = max(1, round(wait.total_seconds() / 60))
        raise TooManyAttempts(f"Too many wrong codes. Try again in {minutes} minutes, or ask your clinic admin.")
    if user.totp_secret is None:
        raise AuthenticationFailed("Two-factor sign-in is not set up for this account.")
    if _code_ok(user.totp_secret, code):
        how = "app"
    elif "-" in (code or "") and _use_recovery_code(user, code):
        how = "recovery code"
    else:
        audit.record(session, None, "user.two_factor_failed", "user", user.id, clinic_id=user.clinic_id,
                     client=client[:64])
        raise AuthenticationFailed("That code is not right.")
    throttle.clear(session, throttle.account_key(user.email))
    audit.record(session, user, "user.two_factor_passed", "user", user.id, method=how, client=client[:64])


def set_required(session: Session, actor: User, required: bool) -> None:
    """A clinic admin requires (or stops requiring) two-factor sign-in for the clinic's staff."""
    require_admin(actor)
    clinic = actor.clinic
    if clinic.require_two_factor != required:
        clinic.require_two_factor = required
        audit.record(session, actor, "clinic.two_factor_required" if required else "clinic.two_factor_optional",
                     "clinic", clinic.id)
