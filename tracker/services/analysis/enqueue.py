"""Creating ``analyses`` rows (queued) and handing them to the queue.

The analysis itself is :func:`tracker.services.analysis.run.run_analysis`, run by the
``analyze_photo`` job. Here we only decide *what* must be measured: a photo
against its view's current baseline (the baseline itself against nothing).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.analysis.version import ANALYSIS_VERSION
from tracker.models import Analysis, Photo, analysis_inputs_key
from tracker.models.progress import RegionRevision

from ..dispatch import ANALYSIS, defer
from . import states
from .lookup import quality_refusal


def current_analysis_version() -> str:
    """The analysis version new rows are made for (``tracker.analysis.ANALYSIS_VERSION``)."""
    return ANALYSIS_VERSION


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
    row = states.new_row(
        clinic_id=photo.clinic_id,
        photo_id=photo.id,
        baseline_photo_id=baseline_photo_id,
        roi_revision=roi_revision,
        chart_corners=chart_corners,
        analysis_version=version,
        inputs_key=key,
    )
    session.add(row)
    session.flush()
    defer(session, ANALYSIS, row.id)
    return row, True


def _newest_region_revision(session: Session, photo: Photo, baseline_photo_id: str) -> int:
    newest = session.scalar(
        select(func.max(RegionRevision.revision)).where(
            RegionRevision.series_id == photo.series_id,
            RegionRevision.view == photo.view,
            RegionRevision.region == photo.region,
            RegionRevision.baseline_photo_id == baseline_photo_id,
        )
    )
    return int(newest or 0)


def photo_ids_in_order(session: Session) -> list[str]:
    """Every photo id (oldest first): what ``tracker reanalyze`` walks through."""
    return list(session.scalars(select(Photo.id).order_by(Photo.uploaded_at, Photo.id)))


def reanalyze_photo(session: Session, photo_id: str) -> bool:
    """Make sure ``photo_id`` has an analysis for today's inputs (current baseline and analysis
    version); returns True when a new one was queued. Running it again queues nothing.

    A photo the current analysis version already found unusable is left alone, as when a
    baseline moves: its quality does not depend on the baseline.
    """
    from ..baselines import current_baseline_photo_id, key_of  # baselines queue analyses: a cycle

    photo = session.get(Photo, photo_id)
    if photo is None:
        return False
    baseline_id = current_baseline_photo_id(session, key_of(photo))
    refused = quality_refusal(session, photo.id)
    if refused is not None and photo.id != baseline_id and refused.analysis_version == current_analysis_version():
        return False
    _, created = ensure_analysis(session, photo, baseline_id)
    return created
