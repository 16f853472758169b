"""Server-side sign-in sessions: the cookie carries a random token, the database says
whether it is still open. Sign-out ends the row, so a copied cookie stops working."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.models import User, UserSession, utcnow

#: The longest a sign-in lasts, whatever the browser keeps.
SESSION_LIFETIME = dt.timedelta(hours=12)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, *, client: str = "",
                  lifetime: dt.timedelta = SESSION_LIFETIME) -> str:
    """Open a session for ``user`` and return its token (kept only in the cookie)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(UserSession(token_hash=_hash(token), user_id=user.id, auth_version=user.auth_version,
                            client=client[:64], created_at=now, expires_at=now + lifetime))
    user.session_token = token
    return token


def load_session_user(session: Session, token: str) -> User | None:
    """The user of an open session, or None when it ended, expired or the account changed."""
    if not token:
        return None
    found = session.execute(select(UserSession, User).join(User, User.id == UserSession.user_id)
                            .where(UserSession.token_hash == _hash(token))).first()  # one query per request
    if found is None:
        return None
    row, user = found
    if row.ended_at is not None or row.expires_at <= utcnow():
        return None
    if not user.active or user.auth_version != row.auth_version:
        return None
    user.session_token = token
    return user


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(update(UserSession).where(UserSession.token_hash == _hash(token),
                                                  UserSession.ended_at.is_(None))
                        .values(ended_at=utcnow()).execution_options(synchronize_session=False))


def end_all_sessions(session: Session, user: User) -> None:
    """End every open session of ``user`` (all devices)."""
    session.execute(update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
                    .values(ended_at=utcnow()).execution_options(synchronize_session=False))
