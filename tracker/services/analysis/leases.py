"""Who is working on an analysis: atomic claims, leases renewed while working, the sweep.

The ``analyses`` row is the truth about a job; the queue is only a doorbell that
may ring twice or not at all. A worker *claims* a row with one conditional UPDATE
(queued, or running with an expired lease, and attempts left), which works the
same on SQLite and PostgreSQL: exactly one of two racing workers sees rowcount 1.
The claim increments ``attempts``; that number is the claim's fencing token, so a
worker whose lease was taken over can no longer renew it or write a result.

A worker that dies leaves its row "running" until the lease expires; the
:func:`sweep` (every worker runs it periodically and at start-up) puts it back
to "queued", or marks it "failed" once it used up its attempts, so nothing stays
"analysing" for ever. Timestamps come from the workers' clocks: hosts keep them
in sync (NTP), and the lease is far longer than any plausible skew.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from tracker.config import DEFAULT_ANALYSIS_LEASE_SECONDS, DEFAULT_ANALYSIS_MAX_ATTEMPTS, Config
from tracker.models import Analysis
from tracker.models.base import utcnow
from tracker.models.db import rows_changed
from tracker.models.vocabulary import AnalysisState

from . import states

log = logging.getLogger(__name__)


class LeaseLost(RuntimeError):
    """Another worker took over this analysis (our lease expired); our result is not written."""


@dataclass(frozen=True)
class LeasePolicy:
    """How long a claim lasts without renewal, and how many claims a row gets."""

    lease_seconds: float = float(DEFAULT_ANALYSIS_LEASE_SECONDS)
    max_attempts: int = DEFAULT_ANALYSIS_MAX_ATTEMPTS

    @classmethod
    def from_config(cls, config: Config) -> LeasePolicy:
        return cls(lease_seconds=float(config.ANALYSIS_LEASE_SECONDS), max_attempts=config.ANALYSIS_MAX_ATTEMPTS)

    @property
    def lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.lease_seconds)

    @property
    def renew_every_s(self) -> float:
        return max(0.2, self.lease_seconds / 3)


@dataclass(frozen=True)
class Claim:
    """This worker holds ``analysis_id``; ``attempt`` (the row's attempts) is the fencing token."""

    analysis_id: str
    attempt: int


def lease_holder() -> str:
    """Who is claiming, as shown on the job's record: ``host:pid/thread``."""
    return f"{socket.gethostname()}:{os.getpid()}/{threading.current_thread().name}"[:200]


def _held(claim: Claim) -> ColumnElement[bool]:
    return and_(Analysis.id == claim.analysis_id, Analysis.state == AnalysisState.RUNNING, Analysis.attempts == claim.attempt)


def claim_analysis(session: Session, analysis_id: str, policy: LeasePolicy) -> Claim | None:
    """Take the row if nobody holds it; None when it is finished, held, or out of attempts. Commits."""
    now = utcnow()
    stmt = (
        update(Analysis)
        .where(Analysis.id == analysis_id,
               or_(Analysis.state == AnalysisState.QUEUED,
                   and_(Analysis.state == AnalysisState.RUNNING, Analysis.lease_expires_at < now)),
               Analysis.attempts < policy.max_attempts)
        .values(**states.claimed(now, policy.lease), lease_holder=lease_holder())
        .execution_options(synchronize_session=False)
    )
    if rows_changed(session, stmt) != 1:
        session.rollback()
        return None
    attempt = session.scalar(select(Analysis.attempts).where(Analysis.id == analysis_id))
    assert attempt is not None  # the row we just claimed
    session.commit()
    return Claim(analysis_id, int(attempt))


def renew(session: Session, claim: Claim, policy: LeasePolicy, *, commit: bool = True) -> bool:
    """Extend the lease if we still hold it. With ``commit=False`` the row stays locked
    (PostgreSQL row lock, SQLite write lock) until the caller commits: the result is
    then written by the holder only."""
    stmt = (update(Analysis).where(_held(claim)).values(lease_expires_at=utcnow() + policy.lease)
            .execution_options(synchronize_session=False))
    ok = rows_changed(session, stmt) == 1
    if not ok:
        session.rollback()
    elif commit:
        session.commit()
    return ok


def give_up(session: Session, claim: Claim, error: str, policy: LeasePolicy, *, retry: bool) -> str | None:
    """End our claim after an error: back to "queued" (``retry`` and attempts left) or
    "failed" with ``error``. Returns the new state, or None if the claim was no longer ours."""
    again = retry and claim.attempt < policy.max_attempts
    values = states.requeued(error[:4000]) if again else states.failed(error[:4000], utcnow())
    stmt = update(Analysis).where(_held(claim)).values(**values).execution_options(synchronize_session=False)
    ok = rows_changed(session, stmt) == 1
    session.commit()
    return str(values["state"]) if ok else None


@dataclass
class SweepReport:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def sweep(session: Session, policy: LeasePolicy) -> SweepReport:
    """Rows whose worker vanished (lease expired): back to "queued", or "failed" when out of
    attempts. Safe to run from every worker at once (each change is conditional). Commits."""
    now = utcnow()
    report = SweepReport()
    expired = session.execute(
        select(Analysis.id, Analysis.attempts)
        .where(Analysis.state == AnalysisState.RUNNING, Analysis.lease_expires_at < now)
    ).all()
    for analysis_id, attempts in expired:
        cond = (Analysis.id == analysis_id, Analysis.state == AnalysisState.RUNNING, Analysis.lease_expires_at < now,
                Analysis.attempts == attempts)
        if attempts >= policy.max_attempts:
            values = states.failed(f"The analysis was interrupted {attempts} times (its worker stopped or "
                                   "crashed each time); it was given up. Reanalyse to try again.", now)
        else:
            values = states.requeued()
        changed = rows_changed(session, update(Analysis).where(*cond).values(**values)
                               .execution_options(synchronize_session=False))
        if changed:
            (report.failed if values["state"] == AnalysisState.FAILED else report.requeued).append(analysis_id)
    # Queued with no attempts left (the limit was lowered meanwhile): nobody may claim it; say so.
    for analysis_id in session.scalars(select(Analysis.id).where(Analysis.state == AnalysisState.QUEUED,
                                                                 Analysis.attempts >= policy.max_attempts)):
        changed = rows_changed(
            session,
            update(Analysis).where(Analysis.id == analysis_id, Analysis.state == AnalysisState.QUEUED)
            .values(**states.failed(f"Given up after {policy.max_attempts} attempts.", now))
            .execution_options(synchronize_session=False))
        if changed:
            report.failed.append(analysis_id)
    session.commit()
    if report.requeued or report.failed:
        log.warning("sweep: %d interrupted analyses re-queued, %d given up", len(report.requeued),
                    len(report.failed))
    return report


def waiting_ids(session: Session, *, older_than_s: float = 5.0, limit: int = 10_000) -> list[str]:
    """Queued rows older than a few seconds: their doorbell may have been lost."""
    cutoff = utcnow() - dt.timedelta(seconds=older_than_s)
    stmt = (select(Analysis.id).where(Analysis.state == AnalysisState.QUEUED, Analysis.created_at < cutoff)
            .order_by(Analysis.created_at).limit(limit))
    return list(session.scalars(stmt))


class Heartbeat:
    """Renews a claim's lease from a background thread while the work runs.

    ``lost`` is set when the renewal finds the row taken over (the work's result
    will then be refused by :func:`renew` with ``commit=False`` at write time).
    """

    def __init__(self, session_factory: Callable[[], Session], claim: Claim, policy: LeasePolicy) -> None:
        self._factory = session_factory
        self.claim = claim
        self.policy = policy
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{claim.analysis_id}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.policy.renew_every_s):
            try:
                with self._factory() as session:
                    if not renew(session, self.claim, self.policy):
                        self.lost.set()
                        return
            except Exception:  # the database is briefly unreachable: try again next beat
                log.exception("could not renew the lease of analysis %s", self.claim.analysis_id)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass(frozen=True)
class LeaseRow:
    analysis_id: str
    state: str
    attempts: int
    holder: str | None
    lease_expires_at: dt.datetime | None
    finished_at: dt.datetime | None


def lease_report(session: Session, *, finished: int = 10) -> tuple[dict[str, int], list[LeaseRow]]:
    """Counts per state, then the running analyses and the last ``finished`` ones with the
    worker (host:pid/thread) that holds or held each (``tracker worker --status``)."""
    from sqlalchemy import func

    counts = {str(state): n for state, n in session.execute(select(Analysis.state, func.count())
                                                            .group_by(Analysis.state))}
    cols = (Analysis.id, Analysis.state, Analysis.attempts, Analysis.lease_holder, Analysis.lease_expires_at,
            Analysis.finished_at)
    running = session.execute(select(*cols).where(Analysis.state == AnalysisState.RUNNING)
                              .order_by(Analysis.lease_expires_at))
    done = session.execute(select(*cols).where(Analysis.finished_at.is_not(None))
                           .order_by(Analysis.finished_at.desc()).limit(finished))
    return counts, [LeaseRow(*r) for r in [*running, *done]]
