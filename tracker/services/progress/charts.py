"""The numbers a progress chart draws, and the same numbers as CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy.orm import Session

from tracker.models import User
from tracker.models.vocabulary import view_label

from ..access import get_series
from ..errors import NotFound
from .measures import CHARTED, MEASURES
from .timeline import treatment_sessions, view_points
from .verdicts import changes, flags


def _own_measures(result: dict[str, Any] | None) -> dict[str, float | None]:
    if not result:
        return {}
    return {m.key: (result.get(m.section) or {}).get(m.key) for m in MEASURES}


def chart_data(session: Session, actor: User, series_id: str, view: str, region: str = "") -> dict[str, Any]:
    """The numbers a chart draws (and the CSV holds) for one view of a series.

    A later photo is plotted at ``baseline + change``: its change is measured against
    the baseline over their common region, so its place relative to the MDC band
    around the baseline is exactly its verdict.
    """
    series = get_series(session, actor, series_id)
    points = view_points(session, series, view, region)
    if not points:
        raise NotFound("This view has no photos in the series.")
    base = next((pt for pt in points if pt.kind == "baseline"), None)
    base_values = _own_measures(base.result if base else None)
    mdc = (base.result or {}).get("mdc", {}) if base else {}
    out_points = []
    for pt in points:
        if pt.kind == "refused":
            continue
        values: dict[str, float | None] = {}
        verdicts: dict[str, str] = {}
        notes: dict[str, list[str]] = {}
        if pt.kind == "baseline":
            values = {m.key: base_values.get(m.key) for m in CHARTED}
            verdicts = {m.key: "baseline" for m in CHARTED}
        else:
            for c in changes(pt):
                if not c.measure.charted:
                    continue
                b = base_values.get(c.measure.key)
                values[c.measure.key] = (round(b + c.value, 4) if b is not None and c.value is not None else None)
                verdicts[c.measure.key] = c.verdict
                notes[c.measure.key] = list(c.reasons)
                mdc.setdefault(c.measure.key, c.mdc)
        out_points.append({
            "photo_id": pt.photo.id, "date": pt.date.isoformat(), "kind": pt.kind, "label": pt.label,
            "visit": pt.photo.visit.label, "time_point": pt.photo.time_point_label,
            "sessions_done": pt.sessions_done, "values": values, "verdicts": verdicts, "notes": notes,
            "state": pt.analysis.state if pt.analysis else "waiting",
        })
    sessions = [{"date": v.visit_date.isoformat(), "label": v.label, "device": v.device,
                 "settings": {k: val for k, val in v.settings_summary.items() if val is not None}}
                for v in treatment_sessions(series)]
    return {
        "series_id": series.id, "view": view, "region": region, "view_label": view_label(view, region),
        "measures": [{"key": m.key, "label": m.label, "unit": m.unit, "family": m.family,
                      "baseline": base_values.get(m.key), "mdc": mdc.get(m.key)} for m in CHARTED],
        "points": out_points, "sessions": sessions,
        "flags": [f.to_dict() for f in flags(points, series.patient.fitzpatrick)],
    }


CSV_COLUMNS = ("date", "label", "visit", "time_point", "kind", "measure", "unit", "value", "baseline", "mdc",
               "verdict", "notes")


def chart_csv(data: dict[str, Any]) -> str:
    """The chart's numbers as CSV (one row per photo and measure), the same values as the JSON."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    measures = {m["key"]: m for m in data["measures"]}
    for pt in data["points"]:
        for key, value in pt["values"].items():
            m = measures[key]
            writer.writerow([pt["date"], pt["label"], pt["visit"], pt["time_point"], pt["kind"], key, m["unit"],
                             "" if value is None else value, "" if m["baseline"] is None else m["baseline"],
                             "" if m["mdc"] is None else m["mdc"], pt["verdicts"].get(key, ""),
                             "; ".join(pt["notes"].get(key, []))])
    return buf.getvalue()
