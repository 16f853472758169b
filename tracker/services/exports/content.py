"""What an export shows: each view's progress pair, the measures as rows, the chart numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tracker.models import Analysis, Photo, TreatmentSeries, User
from tracker.models.vocabulary import AnalysisState
from tracker.models.vocabulary import view_label

from .. import progress
from ..analysis import result_of
from ..errors import Conflict, ValidationFailed

#: Measures shown in exports, in order, with the words people read and how to print them.
MEASURES: tuple[tuple[str, str, str], ...] = (
    ("erythema_index_mean", "Redness (erythema index)", "{:.1f}"),
    ("red_area_pct", "Red area (% of skin)", "{:.1f}"),
    ("spot_count", "Pigment spots (count)", "{:.0f}"),
    ("spot_area_pct", "Spot area (% of skin)", "{:.2f}"),
    ("pigment_load", "Pigment load", "{:.2f}"),
    ("melanin_index_mean", "Pigment (melanin index)", "{:.1f}"),
    ("roughness", "Roughness", "{:.3f}"),
    ("line_density", "Fine lines (density)", "{:.4f}"),
)
MEASURE_LABELS = {key: label for key, label, _ in MEASURES}


def fmt_measure(measure: str, value: float | None, *, signed: bool = False) -> str:
    """A measure's value as printed in exports ("12.3", "+0.42"; "-" when unknown)."""
    if value is None:
        return "-"
    pattern = next((f for k, _, f in MEASURES if k == measure), "{:.2f}")
    text = pattern.format(value)
    return f"+{text}" if signed and value > 0 else text


@dataclass(frozen=True)
class ProgressPair:
    """A view's baseline and the latest later "before treatment" or "follow-up" photo."""

    view: str
    region: str
    baseline: Photo
    later: Photo | None
    analysis: Analysis | None

    @property
    def label(self) -> str:
        return view_label(self.view, self.region)

    @property
    def key(self) -> str:
        return f"{self.view}:{self.region}" if self.region else self.view

    @property
    def result(self) -> dict[str, Any] | None:
        return result_of(self.analysis) if self.analysis is not None else None

    @property
    def delta(self) -> dict[str, dict[str, Any]]:
        comparison = (self.result or {}).get("comparison") or {}
        return comparison.get("delta") or {}

    @property
    def notes(self) -> list[str]:
        comparison = (self.result or {}).get("comparison") or {}
        return list(comparison.get("notes") or [])


def progress_pairs(session: Session, series: TreatmentSeries) -> list[ProgressPair]:
    """One pair per view with a baseline (the rule of :mod:`tracker.services.progress`): the latest later
    "before treatment" or "follow-up" photo outside the healing window whose analysis against the
    baseline is done. ``later`` is None until there is one."""
    pairs = []
    for view, region in progress.views_of(session, series):
        points = progress.view_points(session, series, view, region)
        base = next((pt for pt in points if pt.kind == "baseline"), None)
        if base is None:
            continue
        chosen = progress.progress_pair(points)
        candidates = chosen.candidates if chosen is not None else []
        done = [pt for pt in candidates if pt.analysis is not None and pt.analysis.state == AnalysisState.DONE]
        later = done[-1] if done else None
        pairs.append(ProgressPair(view, region, base.photo, later.photo if later else None,
                                  later.analysis if later else None))
    return pairs


def views_without_baseline(session: Session, series: TreatmentSeries) -> list[str]:
    """Labels of the views that have photos but no usable baseline yet (e.g. every "before" photo refused)."""
    out = []
    for view, region in progress.views_of(session, series):
        points = progress.view_points(session, series, view, region)
        if not any(pt.kind == "baseline" for pt in points):
            out.append(view_label(view, region))
    return out


def find_pair(session: Session, series: TreatmentSeries, view_key: str) -> ProgressPair:
    for pair in progress_pairs(session, series):
        if pair.key == view_key:
            if pair.later is None or pair.analysis is None:
                raise Conflict(f"{pair.label}: there is no measured later photo to compare with the baseline yet.")
            return pair
    raise ValidationFailed("Choose a view that has a baseline in this series.", field="view")


def measure_rows(pairs: list[ProgressPair]) -> list[dict[str, Any]]:
    rows = []
    for pair in pairs:
        if pair.later is None:
            continue
        for measure, label, _ in MEASURES:
            d = pair.delta.get(measure)
            if not d:
                continue
            rows.append({
                "view": pair.label, "measure": measure, "measure_label": label,
                "baseline_date": pair.baseline.visit.visit_date.isoformat(),
                "photo_date": pair.later.visit.visit_date.isoformat(),
                "photo_visit": pair.later.visit.label, "baseline": d.get("baseline"),
                "value": d.get("photo"), "change": d.get("value"), "mdc": d.get("mdc"),
                "verdict": d.get("verdict"), "note": d.get("note") or "",
                "baseline_photo_sha256": pair.baseline.sha256, "photo_sha256": pair.later.sha256,
            })
    return rows


CSV_COLUMNS = ("view", "measure", "measure_label", "baseline_date", "photo_date", "photo_visit", "baseline",
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
    value: float | None
    verdict: str
    kind: str  # baseline | progress | healing


@dataclass(frozen=True)
class ChartSeries:
    view: str
    measure: str
    label: str
    unit: str
    baseline: float | None
    mdc: float | None
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
            points = [ChartPoint(dt.date.fromisoformat(p["date"]), p["label"], p["values"].get(m["key"]),
                                 p["verdicts"].get(m["key"], "not comparable"), p["kind"])
                      for p in data["points"] if m["key"] in p["values"]]
            out.append(ChartSeries(pair.label, m["key"], m["label"], m["unit"], m["baseline"], m["mdc"], points,
                                   tuple(data.get("flags") or ())))
    return out
