"""The numbers a progress chart draws, and the same numbers as CSV.

Every figure is read from the one stored pair record (the later photo's analysis against
the baseline): a later photo is plotted at the pair's own ``photo`` value, and its band is
that pair's ``baseline`` ± the MDC its verdict used, so the chart says what the photo page
says. The baseline is plotted at its own measured value. Values are in the registry's
display unit and precision (``MeasureSpec.display``): no exponent, no impossible value.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy.orm import Session

from tracker.models import User
from tracker.analysis.results import Measures
from tracker.models.vocabulary import FACE_REGIONS, view_label

from ..access import get_series
from ..errors import NotFound
from ..series import settings_text
from .measures import CHARTED, MEASURE_BY_KEY
from .timeline import Point, treatment_sessions, view_points
from .verdicts import Change, changes, flags, region_changes


def _baseline_values(measures: Measures | None) -> dict[str, float | None]:
    """A baseline photo's own figures (measured on its own), display units."""
    if measures is None:
        return {}
    return {m.key: m.display(measures.value(m.key)) for m in CHARTED}


def _line(kind: str, rows: list[Change], baseline: Measures | None) -> dict[str, Any]:
    """One line's figures at one photo: the baseline's own values, or each charted change of the pair
    (its ``photo`` value, band = its baseline ± the MDC its verdict used)."""
    values: dict[str, float | None] = {}
    bands: dict[str, list[float | None]] = {}
    mdcs: dict[str, float | None] = {}
    baselines: dict[str, float | None] = {}
    verdicts: dict[str, str] = {}
    notes: dict[str, list[str]] = {}
    if kind == "baseline":
        values = _baseline_values(baseline)
        verdicts = {key: "baseline" for key in values}
    else:
        for c in rows:
            m = c.measure
            if not m.charted:
                continue
            if c.photo is not None and not m.plausible(c.photo):
                notes[m.key] = ["not plotted: the stored figure is outside what skin can show"]
                continue
            values[m.key] = m.display(c.photo)
            baselines[m.key] = m.display(c.baseline)
            mdcs[m.key] = m.display(c.mdc)
            band = c.band
            bands[m.key] = [m.display(band[0]), m.display(band[1])] if band else [None, None]
            verdicts[m.key] = c.verdict
            notes[m.key] = list(c.reasons)
    return {"values": values, "baselines": baselines, "mdcs": mdcs, "bands": bands, "verdicts": verdicts,
            "notes": notes}


def _region_lines(pt: Point) -> dict[str, dict[str, Any]]:
    """Each measured area of a face photo as its own line (none for a close-up)."""
    if pt.result is None or pt.result.face is None:
        return {}
    if pt.kind == "baseline":
        return {key: _line("baseline", [], region.measures) for key, region in pt.result.regions.items()
                if region.area_px}
    return {r.key: _line(pt.kind, list(r.changes), None) for r in region_changes(pt) if r.area_px and r.changes}


def _point(pt: Point) -> dict[str, Any]:
    return {
        "photo_id": pt.photo.id, "date": pt.date.isoformat(), "kind": pt.kind, "label": pt.label,
        "visit": pt.photo.visit.label, "time_point": pt.photo.time_point_label, "sessions_done": pt.sessions_done,
        **_line(pt.kind, changes(pt), pt.result.measures if pt.result is not None else None),
        "regions": _region_lines(pt), "state": pt.status.state,
    }


def chart_data(session: Session, actor: User, series_id: str, view: str, region: str = "", *,
               visible: set[str] | None = None) -> dict[str, Any]:
    """The numbers a chart draws (and the CSV holds) for one view of a series.

    Photos that need a retake or are not comparable are left out (their figures are not
    results); ``visible`` limits the photos (a patient sees the published ones).
    """
    series = get_series(session, actor, series_id)
    points = view_points(session, series, view, region, visible=visible)
    if not points:
        raise NotFound("This view has no photos in the series.")
    out_points = [_point(pt) for pt in points if pt.usable and (pt.kind == "baseline" or pt.comparison)]
    sessions = [{"date": v.visit_date.isoformat(), "label": v.label, "device": v.device,
                 "settings": settings_text(v)} for v in treatment_sessions(series)]
    measured = {key for p in out_points for key in p["regions"]}
    return {
        "series_id": series.id, "view": view, "region": region, "view_label": view_label(view, region),
        "measures": [{"key": m.key, "label": m.label, "unit": m.unit, "group": m.group, "decimals": m.decimals,
                      "minimum": m.display(m.minimum), "maximum": m.display(m.maximum)}
                     for m in CHARTED],
        "points": out_points, "sessions": sessions,
        "regions": [{"key": k, "label": label} for k, label in FACE_REGIONS.items() if k in measured],
        "flags": [f.to_dict() for f in flags(points, series.patient.fitzpatrick)],
    }


CSV_COLUMNS = ("date", "label", "visit", "time_point", "kind", "measure", "measure_label", "unit", "value",
               "baseline", "mdc", "band_low", "band_high", "verdict", "notes", "photo_id", "region")


def _fixed(key: str, value: float | None) -> str:
    """A display value as the chart prints it (fixed decimals; empty when missing)."""
    return "" if value is None else f"{value:.{MEASURE_BY_KEY[key].decimals}f}"


def chart_csv(data: dict[str, Any]) -> str:
    """The chart's numbers as CSV (one row per photo and measure, then per area of the face), the
    same values as the JSON. ``region`` is empty for the whole photo."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    measures = {m["key"]: m for m in data["measures"]}
    for pt in data["points"]:
        for region, line in [("", pt), *pt.get("regions", {}).items()]:
            for key, value in line["values"].items():
                m = measures[key]
                low, high = line["bands"].get(key, [None, None])
                base = line["baselines"].get(key) if pt["kind"] != "baseline" else value
                mdc = line["mdcs"].get(key)
                writer.writerow([pt["date"], pt["label"], pt["visit"], pt["time_point"], pt["kind"], key,
                                 m["label"], m["unit"], _fixed(key, value), _fixed(key, base), _fixed(key, mdc),
                                 _fixed(key, low), _fixed(key, high), line["verdicts"].get(key, ""),
                                 "; ".join(line["notes"].get(key, [])), pt["photo_id"], region])
    return buf.getvalue()
