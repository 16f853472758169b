"""What ``/healthz`` reports: the database answers, the worker of ``tracker serve`` runs
(when it supervises one), and how long the oldest waiting analysis has waited."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.models import Analysis, utcnow
from tracker.models.vocabulary import AnalysisState


#: The status file ``tracker serve``'s supervisor keeps in the instance folder (see tracker.jobs.supervisor).
STATUS_FILE = "worker-status.json"


def read_status(instance: Path) -> dict[str, object] | None:
    """The supervisor's record, or None when no supervisor runs for this instance."""
    try:
        status = json.loads((instance / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
    pid = status.get("supervisor_pid")
    try:
        os.kill(int(str(pid)), 0)
    except (OSError, TypeError, ValueError):
        return None  # left by a server that is gone
    return status if isinstance(status, dict) else None


def queue_age(session: Session) -> dict[str, Any]:
    """Analyses waiting for a worker: how many, and the oldest one's wait in seconds."""
    waiting, oldest = session.execute(select(func.count(), func.min(Analysis.created_at))
                                      .where(Analysis.state == AnalysisState.QUEUED)).one()
    age = None
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=utcnow().tzinfo)
        age = round((utcnow() - oldest).total_seconds(), 1)
    return {"waiting": int(waiting or 0), "oldest_waiting_s": age}


def health(session: Session, instance: Path) -> tuple[int, dict[str, Any]]:
    """``(HTTP status, body)``: 503 when the supervised worker is not running."""
    body: dict[str, Any] = {"status": "ok", "queue": queue_age(session)}
    worker = read_status(instance)
    if worker is not None:
        body["worker"] = {k: worker.get(k) for k in ("state", "pid", "restarts")}
        if worker.get("state") != "running":
            body["status"] = "unavailable"
            what = {"stopped": "stopped; it is being restarted", "starting": "is starting",
                    "stalled": "stopped answering"}.get(str(worker.get("state")), str(worker.get("state")))
            body["problem"] = f"the background worker (pid {worker.get('pid')}) {what}"
            return 503, body
    return 200, body
