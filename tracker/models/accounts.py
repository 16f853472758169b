"""Clinics, the people who sign in, and patient invitations."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import ID_LENGTH, Base, UTCDateTime, new_id, utcnow
from .vocabulary import PATIENT, STAFF_ROLES

if TYPE_CHECKING:
    from .clinical import Patient


class Clinic(Base):
    """One clinic. Every other record belongs to exactly one clinic."""

    __tablename__ = "clinics"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Staff must sign in with a second factor (an authenticator app) when set.
    require_two_factor: Mapped[bool] = mapped_column(Boolean, default=False)


class User(Base):
    """Somebody who signs in: a clinic admin, a technician or a patient.

    Sign-ins are server-side :class:`~tracker.models.security.UserSession` rows;
    bumping ``auth_version`` (password reset, deactivation) ends all of them.
    """

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    patient_id: Mapped[str | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), unique=True, default=None
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    auth_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    #: Base32 TOTP secret once two-factor sign-in is set up (None: not set up).
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    #: JSON list of scrypt hashes of the unused recovery codes.
    recovery_codes: Mapped[str | None] = mapped_column(Text, default=None)

    clinic: Mapped[Clinic] = relationship(lazy="joined")
    patient: Mapped[Patient | None] = relationship(foreign_keys=[patient_id])

    # Flask-Login's user protocol -------------------------------------------------------
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    #: The token of the server-side session this object was loaded for (not a column):
    #: Flask-Login keeps it in the cookie as the session's id.
    session_token = None  # type: str | None

    def get_id(self) -> str:
        if not self.session_token:
            raise RuntimeError("sign in through tracker.services.sessions.start_session")
        return self.session_token

    # Convenience -----------------------------------------------------------------------
    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_patient(self) -> bool:
        return self.role == PATIENT


class Invitation(Base):
    """A single-use, expiring link that lets a patient set their password.

    Only the SHA-256 of the token is stored; the token itself is shown once.
    """

    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    patient: Mapped[Patient] = relationship()
    created_by: Mapped[User | None] = relationship()

    def state(self, now: dt.datetime) -> str:
        """"used", "revoked", "expired" or "open"."""
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        return "open"


Index("ix_users_clinic_role", User.clinic_id, User.role)
