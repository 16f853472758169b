"""What the series page shows: one row per view (close-ups per region), one column per visit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Baseline, Photo, TreatmentSeries, User
from tracker.models.vocabulary import TIME_BEFORE, VIEWS, view_label

from . import audit
from .access import get_series
from .analysis import quality_failed_ids
from .baselines import baseline_label
from .review import visible_photo_ids
from .series import SeriesTimeline, timeline

_VIEW_ORDER = {v: i for i, v in enumerate(VIEWS)}
ALWAYS_SHOWN_VIEWS = ("front",)


@dataclass(frozen=True)
class ViewRow:
    view: str
    region: str
    label: str
    #: One list of photos per visit column (same order as the timeline's visits).
    cells: list[list[Photo]]
    baseline: Photo | None
    baseline_label: str | None
    baseline_is_override: bool
    #: No baseline because every "before" photo of the view failed the quality check.
    awaiting_retake: bool = False

    @property
    def is_empty(self) -> bool:
        return not any(self.cells)


@dataclass(frozen=True)
class SeriesGrid:
    series: TreatmentSeries
    timeline: SeriesTimeline
    rows: list[ViewRow]
    #: Photos the analysis found unusable (a retake is advised).
    retake_ids: frozenset[str] = frozenset()

    @property
    def photo_count(self) -> int:
        return sum(len(c) for r in self.rows for c in r.cells)


def series_grid(session: Session, actor: User, series_id: str) -> SeriesGrid:
    series = get_series(session, actor, series_id)
    tl = timeline(series)
    column = {item.visit.id: i for i, item in enumerate(tl.visits)}
    photos = list(session.scalars(
        select(Photo).where(Photo.series_id == series.id).order_by(Photo.captured_at, Photo.uploaded_at)
    ))
    visible = visible_photo_ids(session, actor, photos)  # a patient: only what was published
    photos = [p for p in photos if p.id in visible]
    baselines = {(b.view, b.region): b for b in session.scalars(
        select(Baseline).where(Baseline.series_id == series.id))}
    keys = {(p.view, p.region or "") for p in photos} | {(v, "") for v in ALWAYS_SHOWN_VIEWS}
    rows = []
    by_id = {p.id: p for p in photos}
    retake = frozenset(quality_failed_ids(session, list(by_id)))
    for view, region in sorted(keys, key=lambda k: (_VIEW_ORDER.get(k[0], 99), k[1])):
        cells: list[list[Photo]] = [[] for _ in tl.visits]
        for p in photos:
            if p.view == view and (p.region or "") == region and p.visit_id in column:
                cells[column[p.visit_id]].append(p)
        for cell in cells:
            cell.sort(key=lambda p: ({"before": 0, "after": 1, "follow_up": 2}.get(p.time_point, 3),
                                     p.days_after or 0))
        b = baselines.get((view, region))
        base = by_id.get(b.photo_id) if b else None
        befores = [p for cell in cells for p in cell if p.time_point == TIME_BEFORE]
        awaiting = base is None and bool(befores) and all(p.id in retake for p in befores)
        rows.append(ViewRow(view, region, view_label(view, region), cells, base,
                            baseline_label(base) if base else None, bool(b and b.is_override), awaiting))
    return SeriesGrid(series, tl, rows, retake)


def record_view(session: Session, actor: User, grid: SeriesGrid) -> None:
    """One activity-log line for a page showing the grid, not one per thumbnail."""
    ids = [p.id for row in grid.rows for cell in row.cells for p in cell]
    if ids:
        audit.record_view(session, actor, ids, patient_id=grid.series.patient_id, page="series",
                          obj_type="series", obj_id=grid.series.id)
