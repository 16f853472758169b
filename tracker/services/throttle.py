"""The sign-in throttle: attempts counted per account and per client address.

Each attempt first *claims* a slot with one conditional UPDATE (``attempts < limit``),
committed before the password is checked, so concurrent guesses cannot overtake the
limit: 40 simultaneous guesses at one account get at most :data:`ACCOUNT_LIMIT`
password checks. Accounts are keyed by the normalised email, known or not, so an
unknown email is answered exactly like a known one. A clinic behind one NAT shares an
address, so the per-address limit is higher than the per-account one.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import case, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tracker.models import SignInThrottle, utcnow

#: Attempts allowed per account (email) within :data:`WINDOW`.
ACCOUNT_LIMIT = 5
#: Attempts allowed per client address within :data:`WINDOW` (a clinic's NAT shares one).
ADDRESS_LIMIT = 50
WINDOW = dt.timedelta(minutes=15)


def account_key(email: str) -> str:
    """The throttle key of an account: the email's hash (known or unknown alike)."""
    digest = hashlib.sha256((email or "").strip().lower().encode()).hexdigest()
    return f"account:{digest[:40]}"


def address_key(client: str) -> str:
    return f"address:{(client or 'unknown')[:60]}"


def _ensure_row(session: Session, key: str, now: dt.datetime) -> None:
    values = {"key": key, "attempts": 0, "window_started_at": now}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(SignInThrottle).values(**values).on_conflict_do_nothing(index_elements=["key"]))


def claim(session: Session, key: str, limit: int, *, now: dt.datetime | None = None) -> dt.timedelta | None:
    """Count one attempt against ``key``. None when it is allowed, else the time until
    the window ends (nothing is counted then)."""
    now = now or utcnow()
    _ensure_row(session, key, now)
    expired = SignInThrottle.window_started_at <= now - WINDOW
    result = session.execute(
        update(SignInThrottle)
        .where(SignInThrottle.key == key, or_(SignInThrottle.attempts < limit, expired))
        .values(attempts=case((expired, 1), else_=SignInThrottle.attempts + 1),
                window_started_at=case((expired, now), else_=SignInThrottle.window_started_at))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return None
    row = session.get(SignInThrottle, key, populate_existing=True)
    started = row.window_started_at if row is not None else now
    return max(started + WINDOW - now, dt.timedelta(seconds=1))


def refund(session: Session, key: str) -> None:
    """Give back one attempt (a right password from a shared address)."""
    session.execute(update(SignInThrottle).where(SignInThrottle.key == key, SignInThrottle.attempts > 0)
                    .values(attempts=SignInThrottle.attempts - 1).execution_options(synchronize_session=False))


def clear(session: Session, key: str) -> None:
    """Forget every attempt against ``key`` (a right password, or an admin's reset)."""
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == key)
                    .execution_options(synchronize_session=False))


def forget_expired(session: Session, *, now: dt.datetime | None = None) -> None:
    """Drop counters whose window has passed (guessed emails leave no lasting rows)."""
    cutoff = (now or utcnow()) - WINDOW
    session.execute(delete(SignInThrottle).where(SignInThrottle.window_started_at <= cutoff)
                    .execution_options(synchronize_session=False))
