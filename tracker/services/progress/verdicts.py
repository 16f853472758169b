"""Each measure's change against the baseline, technician flags, and sentences a patient understands."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .measures import MEASURE_BY_KEY, MEASURES, Measure
from .timeline import HEALING_LABEL, RESIDUAL_PINK_DAYS, RESIDUAL_PINK_NOTE, Pair, Point


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


@dataclass(frozen=True)
class RegionChanges:
    """One anatomical region of a face photo: its area and each measure's change against its own MDC."""

    key: str
    label: str
    area_px: int
    reason: str | None
    changes: tuple[Change, ...]


def region_changes(point: Point) -> list[RegionChanges]:
    """Per-region changes of a face photo (empty for a close-up or a photo not compared)."""
    from tracker.models.vocabulary import FACE_REGIONS

    result = point.result or {}
    regions = result.get("regions") or {}
    compared = (point.comparison or {}).get("regions") or {}
    out = []
    for key, label in FACE_REGIONS.items():
        region = regions.get(key)
        if not isinstance(region, dict):
            continue
        deltas = (compared.get(key) or {}).get("delta") or {}
        rows = []
        for m in MEASURES:
            d = deltas.get(m.key)
            if not m.charted or not isinstance(d, dict):
                continue
            verdict = "not comparable" if point.kind == "healing" else d.get("verdict", "not comparable")
            rows.append(Change(m, d.get("baseline"), d.get("photo"), d.get("value"), d.get("mdc"), verdict,
                               (d["note"],) if d.get("note") else ()))
        out.append(RegionChanges(key, label, int(region.get("area_px") or 0), region.get("reason"), tuple(rows)))
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

        def beyond(key: str, sign: int, delta: dict[str, Any] = delta) -> tuple[float, float] | None:
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
