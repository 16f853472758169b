"""What an export shows: each view's progress pair, the measures as rows, the chart numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tracker.analysis.measures import COMPARED, MEASURE_BY_KEY, MeasureSpec
from tracker.analysis.results import AnalysisResult
from tracker.models import Analysis, Photo, TreatmentSeries, User
from tracker.models.vocabulary import view_label

from .. import progress
from ..errors import Conflict, ValidationFailed

#: Measures shown in exports, in order, with the words people read: the registry's compared measures.
MEASURES: tuple[MeasureSpec, ...] = COMPARED
MEASURE_LABELS = {m.key: m.label_with_unit for m in COMPARED}


def fmt_measure(measure: str, value: float | None, *, signed: bool = False) -> str:
    """A measure's value as printed everywhere ("12.3", "+0.42"; "–" when unknown), from the registry."""
    spec = MEASURE_BY_KEY[measure]
    return spec.format_delta(value) if signed else spec.format(value)


@dataclass(frozen=True)
class ProgressPair:
    """A view's baseline and its latest comparable later photo (or the one staff chose).

    ``changes`` are read from the pair's one stored record; ``skipped`` says why a view has no
    later photo to export (e.g. the newest needs a retake), for a line in the PDF and bundle.
    """

    view: str
    region: str
    baseline: Photo
    later: Photo | None
    analysis: Analysis | None
    point: progress.Point | None = None
    candidates: tuple[progress.Point, ...] = ()
    retakes: tuple[progress.Point, ...] = ()

    @property
    def label(self) -> str:
        return view_label(self.view, self.region)

    @property
    def key(self) -> str:
        return f"{self.view}:{self.region}" if self.region else self.view

    @property
    def result(self) -> AnalysisResult | None:
        return self.point.result if self.point is not None else None

    @property
    def changes(self) -> list[progress.Change]:
        return progress.changes(self.point) if self.point is not None else []

    @property
    def notes(self) -> list[str]:
        comparison = self.result.comparison if self.result is not None else None
        return list(comparison.notes) if comparison is not None else []

    @property
    def skipped(self) -> list[str]:
        """Why newer photos of this view are not in the export (shown as lines, never an error)."""
        return [f"{pt.photo.time_point_label.lower()} of {pt.date:%d %b %Y} skipped: "
                f"{'not comparable' if pt.kind == 'not_comparable' else 'retake needed'} ({pt.reason})"
                for pt in self.retakes]


def progress_pairs(session: Session, series: TreatmentSeries,
                   chosen: Mapping[str, str] | None = None) -> list[ProgressPair]:
    """One pair per view with a baseline: the latest comparable later "before treatment" or
    "follow-up" photo (the rule of :mod:`tracker.services.progress`), or the one ``chosen`` by
    staff (view key -> photo id) when it is comparable. ``later`` is None until there is one."""
    pairs = []
    for view, region in progress.views_of(session, series):
        points = progress.view_points(session, series, view, region)
        base = next((pt for pt in points if pt.kind == "baseline"), None)
        if base is None:
            continue
        key = f"{view}:{region}" if region else view
        pair = progress.progress_pair(points, (chosen or {}).get(key))
        later = pair.later if pair is not None else None
        pairs.append(ProgressPair(view, region, base.photo, later.photo if later else None,
                                  later.analysis if later else None, later,
                                  tuple(pair.candidates) if pair else (),
                                  tuple(progress.retake_needed(points, pair))))
    return pairs


def views_without_baseline(session: Session, series: TreatmentSeries) -> list[str]:
    """Labels of the views that have photos but no usable baseline yet (e.g. every "before" photo refused)."""
    out = []
    for view, region in progress.views_of(session, series):
        points = progress.view_points(session, series, view, region)
        if not any(pt.kind == "baseline" for pt in points):
            out.append(view_label(view, region))
    return out


def find_pair(session: Session, series: TreatmentSeries, view_key: str, later_id: str | None = None) -> ProgressPair:
    for pair in progress_pairs(session, series, {view_key: later_id} if later_id else None):
        if pair.key == view_key:
            if pair.later is None or pair.analysis is None:
                raise Conflict(f"{pair.label}: there is no measured later photo to compare with the baseline yet.")
            return pair
    raise ValidationFailed("Choose a view that has a baseline in this series.", field="view")


def measure_rows(pairs: list[ProgressPair]) -> list[dict[str, Any]]:
    """One row per view and measure, the figures as every page prints them (registry precision)."""
    rows = []
    for pair in pairs:
        if pair.later is None:
            continue
        for c in pair.changes:
            m = c.measure
            rows.append({
                "view": pair.label, "measure": m.key, "measure_label": m.label, "unit": m.unit,
                "baseline_date": pair.baseline.visit.visit_date.isoformat(),
                "photo_date": pair.later.visit.visit_date.isoformat(),
                "photo_visit": pair.later.visit.label, "baseline": c.shown("baseline"),
                "value": c.shown("photo"), "change": c.shown("change"), "mdc": c.shown("mdc"),
                "verdict": c.verdict, "note": "; ".join(c.reasons),
                "baseline_photo_sha256": pair.baseline.sha256, "photo_sha256": pair.later.sha256,
            })
    return rows


CSV_COLUMNS = ("view", "measure", "measure_label", "unit", "baseline_date", "photo_date", "photo_visit", "baseline",
               "value", "change", "mdc", "verdict", "note", "baseline_photo_sha256", "photo_sha256")


def measures_csv(rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in CSV_COLUMNS})
    return buf.getvalue().encode("utf-8")


@dataclass(frozen=True)
class ChartPoint:
    date: dt.date
    label: str
    value: float | None  # display unit (registry), the pair's own photo value
    verdict: str
    kind: str  # baseline | progress | healing
    band: tuple[float, float] | None = None  # that pair's baseline ± MDC, display unit


@dataclass(frozen=True)
class ChartSeries:
    view: str
    measure: str
    label: str
    unit: str
    decimals: int
    minimum: float | None
    points: list[ChartPoint] = field(default_factory=list)
    #: The technician flags of this view (the same on every measure of the view), as ``Flag.to_dict()``.
    flags: tuple[dict[str, Any], ...] = ()


def chart_points(session: Session, actor: User, series: TreatmentSeries,
                 pairs: list[ProgressPair]) -> list[ChartSeries]:
    """The app's chart numbers (:func:`tracker.services.progress.chart_data`) per view and measure."""
    out = []
    for pair in pairs:
        data = progress.chart_data(session, actor, series.id, pair.view, pair.region)
        for m in data["measures"]:
            points = []
            for p in data["points"]:
                if m["key"] not in p["values"]:
                    continue
                band = p["bands"].get(m["key"])
                points.append(ChartPoint(dt.date.fromisoformat(p["date"]), p["label"], p["values"][m["key"]],
                                         p["verdicts"].get(m["key"], "not comparable"), p["kind"],
                                         (band[0], band[1]) if band and None not in band else None))
            out.append(ChartSeries(pair.label, m["key"], m["label"], m["unit"], m["decimals"], m["minimum"], points,
                                   tuple(data.get("flags") or ())))
    return out
