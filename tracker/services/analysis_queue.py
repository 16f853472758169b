"""Creating ``analyses`` rows (state "queued") and handing them to the queue.

The analysis itself is :func:`tracker.services.analysis.run_analysis`, run by the
``analyze_photo`` job. Here we only decide *what* must be measured: a photo
against its view's current baseline (the baseline itself against nothing).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.models import Analysis, Photo, analysis_inputs_key

from .dispatch import ANALYSIS, defer


def current_analysis_version() -> str:
    """``tracker.analysis.ANALYSIS_VERSION``, or "0" until the analysis package defines it."""
    import tracker.analysis

    return str(getattr(tracker.analysis, "ANALYSIS_VERSION", "0"))


def ensure_analysis(
    session: Session,
    photo: Photo,
    baseline_photo_id: str | None,
    *,
    roi_revision: int | None = None,
    chart_corners: str | None = None,
    analysis_version: str | None = None,
) -> tuple[Analysis, bool]:
    """The analysis row for these inputs, created (queued, and deferred to the queue) if new.

    Returns ``(row, created)``. The same inputs never make a second row. Without an
    explicit ``roi_revision`` the view's newest measurement region drawn on this
    baseline is used, so a photo uploaded after the region was drawn is measured in it.
    """
    if baseline_photo_id == photo.id:
        baseline_photo_id = None
    if roi_revision is None:
        roi_revision = _newest_region_revision(session, photo, baseline_photo_id or photo.id)
    version = analysis_version or current_analysis_version()
    key = analysis_inputs_key(photo.id, baseline_photo_id, roi_revision, chart_corners, version)
    existing = session.scalar(select(Analysis).where(Analysis.inputs_key == key))
    if existing is not None:
        return existing, False
    row = Analysis(
        clinic_id=photo.clinic_id,
        photo_id=photo.id,
        baseline_photo_id=baseline_photo_id,
        roi_revision=roi_revision,
        chart_corners=chart_corners,
        analysis_version=version,
        inputs_key=key,
        state="queued",
        attempts=0,
    )
    session.add(row)
    session.flush()
    defer(session, ANALYSIS, row.id)
    return row, True


def _newest_region_revision(session: Session, photo: Photo, baseline_photo_id: str) -> int:
    from tracker.models.progress import RegionRevision

    newest = session.scalar(
        select(func.max(RegionRevision.revision)).where(
            RegionRevision.series_id == photo.series_id,
            RegionRevision.view == photo.view,
            RegionRevision.region == photo.region,
            RegionRevision.baseline_photo_id == baseline_photo_id,
        )
    )
    return int(newest or 0)


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
    if analysis.state == "refused":
        return True
    if analysis.state == "done":
        result = result_of(analysis) or {}
        quality = result.get("quality")
        if isinstance(quality, dict) and quality.get("ok") is False:
            return True
    return False


def latest_finished(session: Session, photo_id: str) -> Analysis | None:
    stmt = (
        select(Analysis)
        .where(Analysis.photo_id == photo_id, Analysis.state.in_(("done", "refused")))
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
        select(Analysis).where(Analysis.photo_id.in_(photo_ids), Analysis.state.in_(("done", "refused")))
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


def photo_ids_in_order(session: Session) -> list[str]:
    """Every photo id (oldest first): what ``tracker reanalyze`` walks through."""
    return list(session.scalars(select(Photo.id).order_by(Photo.uploaded_at, Photo.id)))


def reanalyze_photo(session: Session, photo_id: str) -> bool:
    """Make sure ``photo_id`` has an analysis for today's inputs (current baseline and analysis
    version); returns True when a new one was queued. Running it again queues nothing.

    A photo the current analysis version already found unusable is left alone, as when a
    baseline moves: its quality does not depend on the baseline.
    """
    from .baselines import current_baseline_photo_id, key_of

    photo = session.get(Photo, photo_id)
    if photo is None:
        return False
    baseline_id = current_baseline_photo_id(session, key_of(photo))
    refused = quality_refusal(session, photo.id)
    if refused is not None and photo.id != baseline_id and refused.analysis_version == current_analysis_version():
        return False
    _, created = ensure_analysis(session, photo, baseline_id)
    return created


#: What a person sees for each analysis state (state, badge label).
STATE_LABELS = {"queued": "queued", "running": "analysing", "done": "measured", "refused": "refused",
                "failed": "failed", "none": "not analysed"}


def photo_state(session: Session, photo: Photo) -> dict[str, Any]:
    """The state of ``photo``'s current analysis (against its view's baseline) for the live badges:
    ``{"state": queued|analysing|done|refused|failed|none, "label", "reason", "attempts"}``."""
    from .baselines import current_baseline_photo_id, key_of

    row = analysis_against(session, photo, current_baseline_photo_id(session, key_of(photo)))
    if row is None:
        row = quality_refusal(session, photo.id)  # unusable: not measured again against a new baseline
    if row is None:
        return {"state": "none", "label": STATE_LABELS["none"], "reason": None, "attempts": 0}
    state = "analysing" if row.state == "running" else row.state
    reason = row.error if row.state in ("refused", "failed") else None
    return {"state": state, "label": STATE_LABELS.get(row.state, row.state), "reason": reason,
            "attempts": row.attempts}


def series_photo_states(session: Session, series_id: str) -> dict[str, dict[str, Any]]:
    """:func:`photo_state` of every photo of a series (the caller has checked access to it)."""
    photos = session.scalars(select(Photo).where(Photo.series_id == series_id).order_by(Photo.uploaded_at))
    return {photo.id: photo_state(session, photo) for photo in photos}
