"""Progress of a series: which photos are compared, chart series, flags, summaries, outcomes.

- The **progress pair** of a view is its baseline and a later "before treatment" or
  "follow-up" photo (default: the latest). "After k sessions" is the photo taken
  before session k+1, or the follow-up after the last session.
- A **healing pair** is a session's "before" photo and its "N days after" photo:
  healing, never progress.
- Photos inside the clinic's **healing window** of the treatment type never count
  as progress; redness measured within 90 days of a session may include residual
  pinkness.

Every figure comes from a stored analysis (``analyses.result_json``); nothing here
measures images.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import (
    Analysis,
    Baseline,
    ClinicDisplaySettings,
    HealingWindow,
    Photo,
    PhotoRetake,
    TreatmentSeries,
    User,
    Visit,
)
from tracker.models.base import utcnow
from tracker.models.vocabulary import (
    TIME_AFTER,
    TIME_BEFORE,
    TIME_FOLLOW_UP,
    TREATMENT_TYPES,
    VISIT_TREATMENT,
    view_label,
)

from . import audit
from .access import get_series, require_admin, require_staff
from .analysis_queue import analysis_against, quality_failed, result_of
from .errors import NotFound, ValidationFailed

#: Days after a session during which photos show healing (issue 4 defaults).
DEFAULT_HEALING_DAYS = {"fractional_co2": 14, "erbium": 3, "micro_laser_peel": 7, "non_ablative": 2, "other": 7}
#: Redness within this many days of a session may include the treatment's residual pinkness.
RESIDUAL_PINK_DAYS = 90
RESIDUAL_PINK_NOTE = "may include residual pinkness (measured within 90 days of a session)"
HEALING_LABEL = "healing, not progress"


@dataclass(frozen=True)
class Measure:
    key: str
    section: str
    label: str
    unit: str
    family: str  # redness | pigment | texture
    charted: bool = True


MEASURES = (
    Measure("red_area_pct", "redness", "Red area", "% of the treated skin", "redness"),
    Measure("erythema_index_mean", "redness", "Erythema index", "EI", "redness"),
    Measure("spot_area_pct", "pigment", "Pigment-spot area", "% of the treated skin", "pigment"),
    Measure("spot_count", "pigment", "Pigment spots", "spots", "pigment"),
    Measure("melanin_index_mean", "pigment", "Melanin index", "MI", "pigment", charted=False),
    Measure("background_melanin_index_mean", "pigment", "Melanin outside spots", "MI", "pigment", charted=False),
    Measure("pigment_load", "pigment", "Pigment load", "", "pigment", charted=False),
    Measure("roughness", "texture", "Texture roughness", "", "texture"),
    Measure("line_density", "texture", "Line density", "", "texture"),
)
MEASURE_BY_KEY = {m.key: m for m in MEASURES}
CHARTED = tuple(m for m in MEASURES if m.charted)


# Clinic settings ----------------------------------------------------------------------
def healing_windows(session: Session, clinic_id: str) -> dict[str, int]:
    """Healing window (days) per treatment type for a clinic: its own values over the defaults."""
    days = dict(DEFAULT_HEALING_DAYS)
    for row in session.scalars(select(HealingWindow).where(HealingWindow.clinic_id == clinic_id)):
        days[row.treatment_type] = row.days
    return days


def set_healing_window(session: Session, actor: User, treatment_type: str, days: int) -> HealingWindow:
    require_admin(actor)
    if treatment_type not in TREATMENT_TYPES:
        raise ValidationFailed("Choose a treatment type.", field="treatment_type")
    if not isinstance(days, int) or not 0 <= days <= 90:
        raise ValidationFailed("A healing window is 0 to 90 days.", field="days")
    row = session.scalar(select(HealingWindow).where(HealingWindow.clinic_id == actor.clinic_id,
                                                     HealingWindow.treatment_type == treatment_type))
    if row is None:
        row = HealingWindow(clinic_id=actor.clinic_id, treatment_type=treatment_type, days=days)
        session.add(row)
    row.days = days
    row.updated_at = utcnow()
    audit.record(session, actor, "clinic.healing_window_set", "clinic", actor.clinic_id,
                 treatment_type=treatment_type, days=days)
    session.flush()
    return row


def overlays_hidden_from_patients(session: Session, clinic_id: str) -> bool:
    row = session.get(ClinicDisplaySettings, clinic_id)
    return bool(row and row.hide_overlays_from_patients)


def set_overlays_hidden(session: Session, actor: User, hidden: bool) -> None:
    require_admin(actor)
    row = session.get(ClinicDisplaySettings, actor.clinic_id)
    if row is None:
        row = ClinicDisplaySettings(clinic_id=actor.clinic_id)
        session.add(row)
    row.hide_overlays_from_patients = bool(hidden)
    row.updated_at = utcnow()
    audit.record(session, actor, "clinic.patient_overlays_set", "clinic", actor.clinic_id, hidden=bool(hidden))
    session.flush()


# Photos on the timeline ---------------------------------------------------------------
@dataclass
class Point:
    """One photo of a view on the series timeline, with its stored analysis."""

    photo: Photo
    date: dt.date
    kind: str  # baseline | progress | healing | refused
    sessions_done: int
    days_since_session: int | None
    analysis: Analysis | None
    result: dict[str, Any] | None
    reason: str | None = None  # why it is not progress (healing window, refused)

    @property
    def comparison(self) -> dict[str, Any] | None:
        return (self.result or {}).get("comparison") if self.result else None

    @property
    def label(self) -> str:
        if self.kind == "baseline":
            return "Baseline"
        if self.kind == "healing":
            return f"{self.photo.time_point_label} session {self.photo.visit.session_number or ''}".strip()
        if self.photo.time_point == TIME_FOLLOW_UP:
            return f"Follow-up after {self.sessions_done} session{'s' if self.sessions_done != 1 else ''}"
        return f"After {self.sessions_done} session{'s' if self.sessions_done != 1 else ''}"


def photo_date(photo: Photo) -> dt.date:
    """The day a photo shows: its visit's date, plus the days after for an "after" photo."""
    extra = photo.days_after or 0 if photo.time_point == TIME_AFTER else 0
    return photo.visit.visit_date + dt.timedelta(days=extra)


def _sessions(series: TreatmentSeries) -> list[Visit]:
    return sorted((v for v in series.visits if v.kind == VISIT_TREATMENT), key=lambda v: v.visit_date)


def _session_context(photo: Photo, sessions: list[Visit]) -> tuple[int, int | None]:
    """(sessions done when the photo was taken, days since the last of them)."""
    day = photo_date(photo)
    done = [v for v in sessions
            if v.visit_date < day or (v.id == photo.visit_id and photo.time_point != TIME_BEFORE)]
    if not done:
        return 0, None
    return len(done), (day - done[-1].visit_date).days


def superseded_ids(session: Session, photo_ids: list[str]) -> dict[str, PhotoRetake]:
    if not photo_ids:
        return {}
    rows = session.scalars(select(PhotoRetake).where(PhotoRetake.refused_photo_id.in_(photo_ids)))
    return {r.refused_photo_id: r for r in rows}


def view_points(session: Session, series: TreatmentSeries, view: str, region: str = "") -> list[Point]:
    """Every photo of one view, in date order, classified and with its analysis."""
    photos = list(session.scalars(select(Photo).where(Photo.series_id == series.id, Photo.view == view,
                                                      Photo.region == region)))
    if not photos:
        return []
    base_row = session.scalar(select(Baseline).where(Baseline.series_id == series.id, Baseline.view == view,
                                                     Baseline.region == region))
    baseline_id = base_row.photo_id if base_row else None
    sessions = _sessions(series)
    window = healing_windows(session, series.clinic_id).get(series.treatment_type, DEFAULT_HEALING_DAYS["other"])
    hidden = superseded_ids(session, [p.id for p in photos])
    points = []
    for p in photos:
        if p.id in hidden:
            continue
        analysis = analysis_against(session, p, baseline_id)
        done, since = _session_context(p, sessions)
        result = result_of(analysis) if analysis is not None and analysis.state in ("done", "refused") else None
        reason = None
        if p.id == baseline_id:
            kind = "baseline"
        elif analysis is not None and quality_failed(analysis):
            kind, reason = "refused", analysis.error or "the photo failed the quality check"
        elif p.time_point == TIME_AFTER or (since is not None and since < window):
            kind = "healing"
            reason = (f"{HEALING_LABEL}: taken {since} day{'s' if since != 1 else ''} after a session, inside the "
                      f"{window}-day healing window of {TREATMENT_TYPES.get(series.treatment_type, 'this treatment')}"
                      if since is not None else HEALING_LABEL)
        else:
            kind = "progress"
        points.append(Point(p, photo_date(p), kind, done, since, analysis, result, reason))
    points.sort(key=lambda pt: (pt.date, {"baseline": 0}.get(pt.kind, 1), pt.photo.uploaded_at))
    return points


def views_of(session: Session, series: TreatmentSeries) -> list[tuple[str, str]]:
    rows = session.execute(select(Photo.view, Photo.region).where(Photo.series_id == series.id).distinct())
    order = {"front": 0}
    return sorted({(v, r or "") for v, r in rows}, key=lambda k: (order.get(k[0], 1), k[0], k[1]))


# Pairs ----------------------------------------------------------------------------------
@dataclass
class Pair:
    baseline: Point
    later: Point
    label: str
    is_healing: bool = False
    candidates: list[Point] = field(default_factory=list)


def progress_pair(points: list[Point], later_id: str | None = None) -> Pair | None:
    """The view's baseline and a later progress photo (default: the latest one)."""
    base = next((pt for pt in points if pt.kind == "baseline"), None)
    candidates = [pt for pt in points if pt.kind == "progress" and pt.photo.time_point in (TIME_BEFORE, TIME_FOLLOW_UP)]
    if base is None or not candidates:
        return None
    later = next((pt for pt in candidates if pt.photo.id == later_id), candidates[-1])
    return Pair(base, later, later.label, candidates=candidates)


def healing_pairs(points: list[Point]) -> list[Pair]:
    """Each session's "before" photo with its "N days after" photos: healing, not progress."""
    pairs = []
    for pt in points:
        if pt.photo.time_point != TIME_AFTER:
            continue
        before = next((b for b in points if b.photo.visit_id == pt.photo.visit_id
                       and b.photo.time_point == TIME_BEFORE), None)
        if before is not None:
            pairs.append(Pair(before, pt, f"{pt.photo.time_point_label} session "
                              f"{pt.photo.visit.session_number or ''}: {HEALING_LABEL}".replace("  ", " "),
                              is_healing=True))
    return pairs


# Verdicts ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    measure: Measure
    baseline: float | None
    photo: float | None
    value: float | None
    mdc: float | None
    verdict: str
    reasons: tuple[str, ...]


def changes(point: Point) -> list[Change]:
    """Each measure's change against the baseline, with the reasons a figure is not trustworthy."""
    comp = point.comparison
    if not comp:
        return []
    out = []
    extra = []
    if point.kind == "healing":
        extra.append(point.reason or HEALING_LABEL)
    for m in MEASURES:
        d = (comp.get("delta") or {}).get(m.key)
        if not isinstance(d, dict):
            continue
        reasons = [d["note"]] if d.get("note") else []
        verdict = d.get("verdict", "not comparable")
        reasons += extra
        if point.kind == "healing":
            verdict = "not comparable"
        if (m.family == "redness" and point.days_since_session is not None
                and point.days_since_session < RESIDUAL_PINK_DAYS):
            reasons.append(RESIDUAL_PINK_NOTE)
        out.append(Change(m, d.get("baseline"), d.get("photo"), d.get("value"), d.get("mdc"), verdict,
                          tuple(reasons)))
    return out


def alignment_of(point: Point) -> dict[str, Any] | None:
    return (point.result or {}).get("alignment") if point.result else None


def comparison_notes(point: Point) -> list[str]:
    notes = list((point.comparison or {}).get("notes") or [])
    align = alignment_of(point)
    if point.result and align and not align.get("ok"):
        notes.append(f"alignment refused: {align.get('reason') or 'the photo could not be aligned'}")
    if point.result and point.result.get("comparison") is None and point.kind != "baseline" and not align:
        notes.append("not compared with a baseline")
    calib = (point.result or {}).get("calibration") or {}
    if point.result and calib and not calib.get("calibrated"):
        notes.append("uncalibrated: no colour chart was found, so colour figures carry wider uncertainty")
    if point.analysis is not None and point.result and point.result.get("analysis_version") not in (
            None, point.analysis.analysis_version):
        notes.append("made with a different analysis version")
    return notes


# Flags ----------------------------------------------------------------------------------
PIGMENT_RISING = ("melanin_index_mean", "spot_area_pct", "pigment_load")
REDNESS_RISING = ("erythema_index_mean", "red_area_pct")


@dataclass(frozen=True)
class Flag:
    kind: str  # hyperpigmentation | prolonged_redness | hypopigmentation
    title: str
    detail: str
    photo_id: str
    date: dt.date
    measure: str
    value: float
    mdc: float
    prominent: bool  # Fitzpatrick IV-VI

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "detail": self.detail, "photo_id": self.photo_id,
                "date": self.date.isoformat(), "measure": self.measure, "value": self.value, "mdc": self.mdc,
                "prominent": self.prominent}


def flags(points: list[Point], fitzpatrick: int) -> list[Flag]:
    """Signals for the technician: pigment or redness rising beyond the MDC after a session,
    melanin outside spots falling beyond the MDC; prominent for Fitzpatrick IV-VI."""
    out = []
    dark = fitzpatrick >= 4
    for pt in points:
        # Healing-window photos show the treatment's own reaction, not the patient's course.
        if pt.kind != "progress" or pt.sessions_done < 1:
            continue
        delta = (pt.comparison or {}).get("delta") or {}

        def beyond(key: str, sign: int) -> tuple[float, float] | None:
            d = delta.get(key)
            if not isinstance(d, dict) or d.get("value") is None or d.get("mdc") is None:
                return None
            if d.get("verdict") == "not comparable":
                return None
            value, mdc = float(d["value"]), float(d["mdc"])
            return (value, mdc) if sign * value > mdc else None

        for key in PIGMENT_RISING:
            hit = beyond(key, +1)
            if hit:
                out.append(Flag("hyperpigmentation", "Possible post-inflammatory hyperpigmentation",
                                f"{MEASURE_BY_KEY[key].label} rose by {hit[0]:.2f} (detectable change {hit[1]:.2f})"
                                f" after session {pt.sessions_done}", pt.photo.id, pt.date, key, hit[0], hit[1], dark))
                break
        for key in REDNESS_RISING:
            hit = beyond(key, +1)
            if hit:
                out.append(Flag("prolonged_redness", "Prolonged redness",
                                f"{MEASURE_BY_KEY[key].label} rose by {hit[0]:.2f} (detectable change "
                                f"{hit[1]:.2f}) after session {pt.sessions_done}", pt.photo.id, pt.date, key,
                                hit[0], hit[1], dark))
                break
        hit = beyond("background_melanin_index_mean", -1)
        if hit:
            out.append(Flag("hypopigmentation", "Possible hypopigmentation",
                            f"melanin outside spots fell by {-hit[0]:.2f} (detectable change {hit[1]:.2f}) after "
                            f"session {pt.sessions_done}", pt.photo.id, pt.date, "background_melanin_index_mean",
                            hit[0], hit[1], dark))
    return out


# Chart data --------------------------------------------------------------------------------
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
                for v in _sessions(series)]
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


# Plain language -----------------------------------------------------------------------------
def _pct(v: float) -> str:
    return f"{v:.0f} %" if abs(v) >= 10 else f"{v:.1f} %"


def plain_summary(pair: Pair) -> list[str]:
    """Sentences a patient understands, honest about noise. No percentages of log indices."""
    by_key = {c.measure.key: c for c in changes(pair.later)}
    if not by_key:
        notes = comparison_notes(pair.later)
        return ["We can't compare these photos yet" + (f": {notes[0]}." if notes else ".")]
    lines = []

    def area(key: str, what: str) -> None:
        c = by_key.get(key)
        if c is None:
            return
        if c.verdict == "not comparable":
            lines.append(f"{what}: not comparable this time ({c.reasons[0] if c.reasons else 'see the clinic'}).")
        elif c.verdict == "no measurable change" or c.baseline is None or c.photo is None:
            lines.append(f"{what}: no measurable change yet.")
        else:
            word = "down" if c.photo < c.baseline else "up"
            lines.append(f"{what} {word} from {_pct(c.baseline)} to {_pct(c.photo)} of the treated skin.")

    area("red_area_pct", "Red area")
    area("spot_area_pct", "Dark-spot area")
    c = by_key.get("spot_count")
    if c is not None and c.verdict in ("improved", "worse") and c.baseline is not None and c.photo is not None:
        lines.append(f"Dark spots counted: {c.baseline:.0f} at the start, {c.photo:.0f} now.")
    c = by_key.get("roughness")
    if c is not None and c.verdict != "not comparable":
        lines.append({"improved": "Skin texture: smoother than at the start.",
                      "worse": "Skin texture: rougher than at the start."}.get(c.verdict,
                                                                                 "Skin texture: no measurable change yet."))
    return lines


# The view a page shows --------------------------------------------------------------------
@dataclass
class ViewProgress:
    view: str
    region: str
    label: str
    points: list[Point]
    pair: Pair | None
    healing: list[Pair]
    flags: list[Flag]

    @property
    def summary(self) -> list[str]:
        return plain_summary(self.pair) if self.pair else []


def series_progress(session: Session, actor: User, series_id: str, *, view: str | None = None,
                    region: str = "", later_id: str | None = None) -> list[ViewProgress]:
    series = get_series(session, actor, series_id)
    keys = views_of(session, series) if view is None else [(view, region)]
    out = []
    for v, r in keys:
        points = view_points(session, series, v, r)
        if not points:
            continue
        out.append(ViewProgress(v, r, view_label(v, r), points, progress_pair(points, later_id),
                                healing_pairs(points), flags(points, series.patient.fitzpatrick)))
    return out


def overlay_keys(point: Point) -> dict[str, str]:
    if point.analysis is None or not point.analysis.overlay_keys:
        return {}
    try:
        value = json.loads(point.analysis.overlay_keys)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# Outcomes across patients ----------------------------------------------------------------
@dataclass
class OutcomeRow:
    treatment_type: str
    label: str
    series_count: int
    #: after k sessions -> measure -> (mean change, n)
    means: dict[int, dict[str, tuple[float, int]]]

    @property
    def has_figures(self) -> bool:
        return any(self.means.values())


def outcomes(session: Session, actor: User, *, since: dt.date | None = None, until: dt.date | None = None,
             technician_id: str | None = None) -> tuple[list[OutcomeRow], list[tuple[TreatmentSeries, Flag]]]:
    """Per treatment type: number of series, mean change per measure after 1, 2, 3 sessions; the flags."""
    require_staff(actor)
    all_series = list(session.scalars(select(TreatmentSeries).where(TreatmentSeries.clinic_id == actor.clinic_id)))
    rows: dict[str, OutcomeRow] = {}
    all_flags = []
    for s in all_series:
        sessions = _sessions(s)
        if not sessions:
            continue
        if since and sessions[-1].visit_date < since or until and sessions[0].visit_date > until:
            continue
        if technician_id and not any(v.technician_id == technician_id for v in s.visits):
            continue
        row = rows.setdefault(s.treatment_type, OutcomeRow(s.treatment_type, TREATMENT_TYPES.get(
            s.treatment_type, s.treatment_type), 0, {1: {}, 2: {}, 3: {}}))
        row.series_count += 1
        sums: dict[int, dict[str, list[float]]] = {1: {}, 2: {}, 3: {}}
        for v, r in views_of(session, s):
            points = view_points(session, s, v, r)
            all_flags += [(s, f) for f in flags(points, s.patient.fitzpatrick)]
            for pt in points:
                if pt.kind != "progress" or pt.sessions_done not in sums:
                    continue
                for c in changes(pt):
                    if c.value is not None and c.verdict != "not comparable":
                        sums[pt.sessions_done].setdefault(c.measure.key, []).append(float(c.value))
        for k, per in sums.items():
            for key, vals in per.items():
                mean, n = row.means[k].get(key, (0.0, 0))
                row.means[k][key] = ((mean * n + sum(vals)) / (n + len(vals)), n + len(vals))
    return sorted(rows.values(), key=lambda r: r.label), all_flags


# One photo's measurement, for the technician ----------------------------------------------
@dataclass
class PhotoMeasures:
    state: str  # waiting | queued | running | done | refused | failed
    quality_ok: bool | None
    quality_reasons: list[str]
    alignment_ok: bool | None
    alignment_reason: str | None
    residual_px: float | None
    changes: list[Change]
    notes: list[str]
    retake_reason: str | None  # set when a retake is needed
    healing_reason: str | None
    superseded_by: str | None = None
    retake_of: list[PhotoRetake] = field(default_factory=list)


def photo_measures(session: Session, actor: User, photo_id: str) -> PhotoMeasures:
    """Quality, alignment, measures and verdicts of a photo against its baseline, with retake advice."""
    from .access import get_photo

    photo = get_photo(session, actor, photo_id)
    retake = session.get(PhotoRetake, photo.id)
    retake_of = list(session.scalars(select(PhotoRetake).where(PhotoRetake.retake_photo_id == photo.id)))
    points = view_points(session, photo.series, photo.view, photo.region or "")
    pt = next((x for x in points if x.photo.id == photo.id), None)
    if pt is None:  # superseded: shown on its own
        analysis = analysis_against(session, photo, None)
        pt = Point(photo, photo_date(photo), "refused", 0, None, analysis,
                   result_of(analysis) if analysis else None, analysis.error if analysis else None)
    res = pt.result or {}
    quality = res.get("quality") or {}
    align = res.get("alignment")
    state = pt.analysis.state if pt.analysis is not None else "waiting"
    retake_reason = None
    if pt.kind == "refused" or (state == "refused"):
        retake_reason = pt.reason or (pt.analysis.error if pt.analysis else None) or "the photo failed the check"
    elif align and not align.get("ok"):
        retake_reason = f"it could not be aligned with the baseline: {align.get('reason') or 'unknown reason'}"
    return PhotoMeasures(
        state=state, quality_ok=quality.get("ok") if quality else None, quality_reasons=list(quality.get("reasons") or []),
        alignment_ok=align.get("ok") if align else None, alignment_reason=align.get("reason") if align else None,
        residual_px=align.get("residual_px") if align else None, changes=changes(pt),
        notes=comparison_notes(pt) if pt.result else [], retake_reason=retake_reason,
        healing_reason=pt.reason if pt.kind == "healing" else None,
        superseded_by=retake.retake_photo_id if retake else None, retake_of=retake_of)


def photo_of_analysis(session: Session, analysis_id: str) -> Photo:
    """The photo an analysis measured (call after an access-checked lookup of the analysis)."""
    row = session.get(Analysis, analysis_id)
    if row is None:
        raise NotFound("That image does not exist.")
    return session.get(Photo, row.photo_id)


def overlay_key_for(session: Session, actor: User, analysis_id: str, name: str) -> str:
    """The storage key of one overlay PNG, if ``actor`` may see it (patients: unless the clinic hides them)."""
    from .access import get_photo

    row = session.get(Analysis, analysis_id) if analysis_id else None
    if row is None or name not in ("redness", "spots", "lines", "aligned"):
        raise NotFound("That image does not exist.")
    get_photo(session, actor, row.photo_id)
    if actor.role not in ("technician", "clinic_admin") and name != "aligned" and \
            overlays_hidden_from_patients(session, actor.clinic_id):
        raise NotFound("That image does not exist.")
    keys = json.loads(row.overlay_keys) if row.overlay_keys else {}
    if name not in keys:
        raise NotFound("That image does not exist.")
    return str(keys[name])


def record_retake(session: Session, actor: User, refused_photo_id: str, retake_photo_id: str) -> PhotoRetake:
    """The retake supersedes the refused photo, which is kept (hidden) with its reason."""
    from .access import get_photo

    require_staff(actor)
    if not retake_photo_id:
        raise ValidationFailed("Upload the retake first.")
    refused = get_photo(session, actor, refused_photo_id)
    retake = get_photo(session, actor, retake_photo_id)
    if (refused.series_id, refused.view, refused.region) != (retake.series_id, retake.view, retake.region):
        raise ValidationFailed("A retake must be of the same view of the same series.")
    analysis = analysis_against(session, refused, None) or None
    from .analysis_queue import quality_refusal

    refusal = quality_refusal(session, refused.id)
    reason = (refusal.error if refusal else None) or (analysis.error if analysis else None) or "retaken"
    row = session.get(PhotoRetake, refused.id)
    if row is None:
        row = PhotoRetake(refused_photo_id=refused.id, clinic_id=refused.clinic_id, retake_photo_id=retake.id,
                          reason=reason, created_by_id=actor.id)
        session.add(row)
    audit.record(session, actor, "photo.retaken", "photo", refused.id, retake_photo_id=retake.id, reason=reason)
    session.flush()
    return row


def hide_superseded(session: Session, grid: Any) -> Any:
    """Leave photos that a retake superseded out of a :class:`tracker.services.gallery.SeriesGrid`.

    They stay stored (and reachable from their retake's page) with the reason they were refused.
    """
    ids = [p.id for row in grid.rows for cell in row.cells for p in cell]
    hidden = superseded_ids(session, ids)
    if hidden:
        for row in grid.rows:
            for cell in row.cells:
                cell[:] = [p for p in cell if p.id not in hidden]
    return grid


def any_pair(points: list[Point], a_id: str | None, b_id: str | None) -> Pair | None:
    """Any two usable photos of a view (default first: the baseline), earlier one first.

    Verdicts stay against the baseline: a change between two later photos is not judged.
    """
    usable = [pt for pt in points if pt.kind != "refused"]
    by_id = {pt.photo.id: pt for pt in usable}
    a = by_id.get(a_id or "") or next((pt for pt in usable if pt.kind == "baseline"), None)
    b = by_id.get(b_id or "")
    if a is None or b is None or a is b:
        return None
    if (b.date, b.kind != "baseline") < (a.date, a.kind != "baseline"):
        a, b = b, a
    label = b.label if a.kind == "baseline" else f"{a.label} and {b.label}"
    return Pair(a, b, label, is_healing=b.kind == "healing", candidates=usable)
