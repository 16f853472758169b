"""The analysis row's life cycle: its states and the transitions, the only code that changes them.

::

    queued --claim--> running --finish--> done | refused
      ^                 |
      +----requeue------+  (lease expired, or an error with attempts left)
                        +--give up--> failed  (an error, or out of attempts)

A row is created "queued" (:func:`new_row`). Row transitions (:func:`refuse`,
:func:`finish`) change a loaded row; the statement transitions (:func:`claimed`,
:func:`requeued`, :func:`failed`) are the values of conditional UPDATEs, so two
workers racing for a row cannot both win (see :mod:`.leases`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tracker.models import Analysis
from tracker.models.base import utcnow
from tracker.models.vocabulary import AnalysisState

#: A result is stored: the row will not change again.
FINISHED = (AnalysisState.DONE, AnalysisState.REFUSED)
#: Nothing more will happen to the row without a new analysis.
TERMINAL = (*FINISHED, AnalysisState.FAILED)
#: A worker has it or will take it: the photo is still being measured.
IN_PROGRESS = (AnalysisState.QUEUED, AnalysisState.RUNNING)
#: What a person sees for each state (plus "none": no analysis yet).
LABELS: dict[str, str] = {AnalysisState.QUEUED: "queued", AnalysisState.RUNNING: "analysing", AnalysisState.DONE: "measured",
          AnalysisState.REFUSED: "refused", AnalysisState.FAILED: "failed", "none": "not analysed"}


def new_row(**fields: Any) -> Analysis:
    """A new analysis row, queued, with no attempts yet."""
    return Analysis(state=AnalysisState.QUEUED, attempts=0, **fields)


def refuse(row: Analysis, reason: str, result: dict[str, Any] | None = None) -> None:
    """The photo cannot be measured: the row ends "refused" with the reason people read."""
    row.state = AnalysisState.REFUSED
    row.error = reason
    row.result_json = json.dumps(result, allow_nan=False) if result is not None else None
    row.finished_at = utcnow()
    row.lease_expires_at = None


def finish(row: Analysis, result: dict[str, Any], overlay_keys: dict[str, str], overlay_sha256: dict[str, str]) -> None:
    """Store a measured result: "done", or "refused" when the photo failed the quality check."""
    row.result_json = json.dumps(result, allow_nan=False)
    row.overlay_keys = json.dumps(overlay_keys)
    row.overlay_sha256 = json.dumps(overlay_sha256)
    row.finished_at = utcnow()
    row.lease_expires_at = None
    if not result["quality"]["ok"]:
        row.state = AnalysisState.REFUSED
        row.error = "; ".join(result["quality"]["reasons"]) or "the photo failed the quality check"
    else:
        row.state = AnalysisState.DONE
        row.error = None


def claimed(now: dt.datetime, lease: dt.timedelta) -> dict[str, Any]:
    """UPDATE values: a worker holds the row until ``now + lease``; the attempt counts."""
    return {"state": AnalysisState.RUNNING, "attempts": Analysis.attempts + 1, "lease_expires_at": now + lease}


def requeued(error: str | None = None) -> dict[str, Any]:
    """UPDATE values: back in the queue for another attempt (``error`` says what went wrong, if anything)."""
    values: dict[str, Any] = {"state": AnalysisState.QUEUED, "lease_expires_at": None}
    if error is not None:
        values["error"] = error
    return values


def failed(error: str, now: dt.datetime) -> dict[str, Any]:
    """UPDATE values: given up with ``error``; reanalysing makes a new attempt possible."""
    return {"state": AnalysisState.FAILED, "finished_at": now, "lease_expires_at": None, "error": error}
