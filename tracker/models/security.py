"""Server-side sign-in sessions and the sign-in throttle's counters."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import ID_LENGTH, Base, UTCDateTime, new_id, utcnow


class UserSession(Base):
    """One signed-in browser. The cookie carries a random token; only its SHA-256 is stored,
    so a database copy cannot be replayed, and ending the row ends the session everywhere
    the cookie was copied to."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The user's ``auth_version`` at sign-in: a reset or deactivation ends older sessions.
    auth_version: Mapped[int] = mapped_column(Integer)
    client: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class SignInThrottle(Base):
    """Attempts counted against one key (an account's email or a client address) in the
    window that started at ``window_started_at``. Rows are claimed with one conditional
    UPDATE, so concurrent guesses cannot overtake the limit."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
