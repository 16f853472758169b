"""Reading analysis rows: a photo's latest or finished analysis, its result, its quality verdict, its state."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Analysis, Photo
from tracker.models.vocabulary import AnalysisState

from . import states


def latest_analysis(session: Session, photo_id: str) -> Analysis | None:
    stmt = select(Analysis).where(Analysis.photo_id == photo_id).order_by(Analysis.created_at.desc()).limit(1)
    return session.scalar(stmt)


def result_of(analysis: Analysis) -> dict[str, Any] | None:
    if not analysis.result_json:
        return None
    try:
        value = json.loads(analysis.result_json)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def quality_failed(analysis: Analysis) -> bool:
    """True when the analysis says the photo itself is unusable.

    ``state == "refused"`` is the signal; a finished result may also say
    ``{"quality": {"ok": false}}``. Until an analysis says so, a photo passes.
    """
    if analysis.state == AnalysisState.REFUSED:
        return True
    if analysis.state == AnalysisState.DONE:
        result = result_of(analysis) or {}
        quality = result.get("quality")
        if isinstance(quality, dict) and quality.get("ok") is False:
            return True
    return False


def latest_finished(session: Session, photo_id: str) -> Analysis | None:
    stmt = (
        select(Analysis)
        .where(Analysis.photo_id == photo_id, Analysis.state.in_(states.FINISHED))
        .order_by(Analysis.finished_at.desc(), Analysis.created_at.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def photo_quality_failed(session: Session, photo_id: str) -> bool:
    """Judged by the most recently finished analysis of the photo (none finished: passes)."""
    finished = latest_finished(session, photo_id)
    return finished is not None and quality_failed(finished)


def quality_refusal(session: Session, photo_id: str) -> Analysis | None:
    """The analysis that found the photo unusable (its ``error`` says why), if the latest did."""
    finished = latest_finished(session, photo_id)
    return finished if finished is not None and quality_failed(finished) else None


def quality_failed_ids(session: Session, photo_ids: list[str]) -> set[str]:
    """Which of these photos the latest finished analysis found unusable (one query)."""
    if not photo_ids:
        return set()
    rows = session.scalars(
        select(Analysis).where(Analysis.photo_id.in_(photo_ids), Analysis.state.in_(states.FINISHED))
        .order_by(Analysis.finished_at, Analysis.created_at)
    )
    last: dict[str, Analysis] = {}
    for row in rows:
        last[row.photo_id] = row
    return {pid for pid, row in last.items() if quality_failed(row)}


def analysis_against(session: Session, photo: Photo, baseline_photo_id: str | None) -> Analysis | None:
    """The newest analysis of ``photo`` against this baseline (None: measured on its own)."""
    if baseline_photo_id == photo.id:
        baseline_photo_id = None
    cond = (Analysis.baseline_photo_id.is_(None) if baseline_photo_id is None
            else Analysis.baseline_photo_id == baseline_photo_id)
    stmt = (select(Analysis).where(Analysis.photo_id == photo.id, cond)
            .order_by(Analysis.created_at.desc()).limit(1))
    return session.scalar(stmt)


def analyses_against(session: Session, photos: list[Photo], baseline_photo_id: str | None
                     ) -> dict[str, Analysis | None]:
    """:func:`analysis_against` for each of ``photos`` (one view's), in one query."""
    if not photos:
        return {}
    newest: dict[str, Analysis | None] = {p.id: None for p in photos}
    rows = session.scalars(select(Analysis).where(Analysis.photo_id.in_(list(newest)))
                           .order_by(Analysis.created_at))
    for row in rows:
        photo_id = row.photo_id
        wanted = None if baseline_photo_id == photo_id else baseline_photo_id
        if row.baseline_photo_id == wanted:
            newest[photo_id] = row  # ordered by creation: the last one seen is the newest
    return newest


#: What a person sees for each analysis state (state, badge label).
STATE_LABELS = states.LABELS


def photo_state(session: Session, photo: Photo) -> dict[str, Any]:
    """The state of ``photo``'s current analysis (against its view's baseline) for the live badges:
    ``{"state": queued|analysing|done|refused|failed|none, "label", "reason", "attempts"}``."""
    from ..baselines import current_baseline_photo_id, key_of  # baselines read analyses: a cycle

    row = analysis_against(session, photo, current_baseline_photo_id(session, key_of(photo)))
    if row is None:
        row = quality_refusal(session, photo.id)  # unusable: not measured again against a new baseline
    if row is None:
        return {"state": "none", "label": STATE_LABELS["none"], "reason": None, "attempts": 0}
    state = "analysing" if row.state == AnalysisState.RUNNING else str(row.state)
    reason = row.error if row.state in (AnalysisState.REFUSED, AnalysisState.FAILED) else None
    return {"state": state, "label": STATE_LABELS.get(row.state, str(row.state)), "reason": reason,
            "attempts": row.attempts}


def series_photo_states(session: Session, series_id: str) -> dict[str, dict[str, Any]]:
    """:func:`photo_state` of every photo of a series (the caller has checked access to it)."""
    photos = session.scalars(select(Photo).where(Photo.series_id == series_id).order_by(Photo.uploaded_at))
    return {photo.id: photo_state(session, photo) for photo in photos}
