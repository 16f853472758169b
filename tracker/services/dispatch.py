"""Background work is handed to the queue only after the database commit that needs it.

A service calls :func:`defer` while it changes rows; when that session commits,
the deferred jobs go to the session's :class:`JobSink` (``session.info``). A
rollback drops them. So a worker never receives an id whose row is not there
yet, and an upload never waits for the work it starts.
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

DERIVATIVES = "derivatives"
ANALYSIS = "analysis"

_PENDING = "tracker_pending_jobs"
_SINK = "tracker_job_sink"


class JobSink(Protocol):
    """Something that runs work later: the Huey queue in production and in tests."""

    def submit(self, kind: str, object_id: str) -> None: ...


def bind_sink(session: Session, sink: JobSink | None) -> Session:
    """Make ``sink`` receive the jobs this session's commits release."""
    session.info[_SINK] = sink
    return session


def defer(session: Session, kind: str, object_id: str) -> None:
    pending: list[tuple[str, str]] = session.info.setdefault(_PENDING, [])
    if (kind, object_id) not in pending:
        pending.append((kind, object_id))


@event.listens_for(Session, "after_commit")
def _release(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    sink: JobSink | None = session.info.get(_SINK)
    if not pending:
        return
    if sink is None:
        log.warning("dropping %d background jobs: no job sink bound to the session", len(pending))
        return
    for kind, object_id in pending:
        try:
            sink.submit(kind, object_id)
        except Exception:  # the broker is down: the row stays pending; a sweep re-queues it
            log.exception("could not queue %s job for %s", kind, object_id)


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_PENDING, None)
