"""Each measure's change against the baseline, technician flags, and sentences a patient understands."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from collections.abc import Iterable
from typing import Any

from tracker.analysis.results import Comparison

from .measures import COMPARED, MEASURE_BY_KEY, MeasureSpec
from .timeline import HEALING_LABEL, RESIDUAL_PINK_DAYS, RESIDUAL_PINK_NOTE, Pair, Point


@dataclass(frozen=True)
class Change:
    """One measure of one pair, read from the pair's stored record (never recomputed).

    ``baseline`` and ``photo`` are the two photos' figures over their common region; ``mdc``
    is the band the verdict used. Values are in the measure's stored unit; ``shown`` gives
    them as every page prints them.
    """

    measure: MeasureSpec
    baseline: float | None
    photo: float | None
    value: float | None
    mdc: float | None
    verdict: str
    reasons: tuple[str, ...]

    def shown(self, which: str) -> str:
        """One figure as printed everywhere: "baseline", "photo", "change" (signed) or "mdc"."""
        if which == "change":
            return self.measure.format_delta(self.value)
        return self.measure.format({"baseline": self.baseline, "photo": self.photo, "mdc": self.mdc}[which])

    @property
    def band(self) -> tuple[float, float] | None:
        """The pair's baseline ± the MDC its verdict used, in stored units (None when unknown)."""
        if self.baseline is None or self.mdc is None:
            return None
        low = self.baseline - self.mdc
        if self.measure.minimum is not None:
            low = max(low, self.measure.minimum)
        high = self.baseline + self.mdc
        if self.measure.maximum is not None:
            high = min(high, self.measure.maximum)
        return low, high


def changes(point: Point) -> list[Change]:
    """Each measure's change against the baseline, with the reasons a figure is not trustworthy."""
    comp = point.comparison
    if comp is None:
        return []
    out = []
    extra = [point.reason or HEALING_LABEL] if point.kind == "healing" else []
    for m in COMPARED:
        c = comp.change(m.key)
        if c is None:
            continue
        reasons = ([c.note] if c.note else []) + extra
        verdict = "not comparable" if point.kind == "healing" else c.verdict
        if m.group == "redness" and point.days_since_session is not None \
                and point.days_since_session < RESIDUAL_PINK_DAYS:
            reasons.append(RESIDUAL_PINK_NOTE)
        out.append(Change(m, c.baseline, c.photo, c.delta, c.mdc, verdict, tuple(reasons)))
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

    if point.result is None or point.result.face is None:  # a declared close-up has no face to divide
        return []
    compared = point.comparison.regions if point.comparison is not None else {}
    out = []
    for key, label in FACE_REGIONS.items():
        region = point.result.regions.get(key)
        if region is None:
            continue
        area = compared.get(key)
        rows = []
        for m in COMPARED:
            c = area.change(m.key) if area is not None else None
            if not m.charted or c is None:
                continue
            verdict = "not comparable" if point.kind == "healing" else c.verdict
            rows.append(Change(m, c.baseline, c.photo, c.delta, c.mdc, verdict, (c.note,) if c.note else ()))
        out.append(RegionChanges(key, label, region.area_px, region.reason, tuple(rows)))
    return out


def comparison_notes(point: Point) -> list[str]:
    result = point.result
    if result is None:
        return []
    notes = list(point.comparison.notes) if point.comparison is not None else []
    align = result.alignment
    if align is not None and not align.ok:
        notes.append(f"alignment refused: {align.reason or 'the photo could not be aligned'}")
    if result.comparison is None and point.kind != "baseline" and align is None:
        notes.append("not compared with a baseline")
    if not result.calibration.calibrated:
        notes.append("uncalibrated: no colour chart was found, so colour figures carry wider uncertainty")
    if point.analysis is not None and result.analysis_version not in ("", point.analysis.analysis_version):
        notes.append("made with a different analysis version")
    if point.status.note:
        notes.append(point.status.note)
    return notes


# Flags ----------------------------------------------------------------------------------
# Flags come from the chromophore measures; the legacy indices stand in only for results
# made before them (no chromophore key in the comparison).
PIGMENT_RISING = ("melanin_density", "spot_area_pct", "pigment_load")
REDNESS_RISING = ("haemoglobin_index", "red_area_pct")
HYPOPIGMENTATION = "background_melanin_density"
LEGACY_STAND_INS = {
    "melanin_density": "melanin_index_mean",
    "haemoglobin_index": "erythema_index_mean",
    "background_melanin_density": "background_melanin_index_mean",
}


def _flag_key(key: str, comp: Comparison | None) -> str:
    """``key``, or its legacy stand-in for results stored before the chromophore measures."""
    if key not in LEGACY_STAND_INS or (comp is not None and comp.change(key) is not None):
        return key
    return LEGACY_STAND_INS[key]


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
        comp = pt.comparison

        def beyond(key: str, sign: int, comp: Comparison | None = comp) -> tuple[float, float] | None:
            c = comp.change(key) if comp is not None else None
            if c is None or c.delta is None or c.verdict == "not comparable":
                return None
            return (c.delta, c.mdc) if sign * c.delta > c.mdc else None

        for key in (_flag_key(k, comp) for k in PIGMENT_RISING):
            hit = beyond(key, +1)
            if hit:
                m = MEASURE_BY_KEY[key]
                out.append(Flag("hyperpigmentation", "Possible post-inflammatory hyperpigmentation",
                                f"{m.label} rose by {m.format(hit[0], unit=True)} (detectable change "
                                f"{m.format(hit[1])}) after session {pt.sessions_done}", pt.photo.id, pt.date, key,
                                hit[0], hit[1], dark))
                break
        for key in (_flag_key(k, comp) for k in REDNESS_RISING):
            hit = beyond(key, +1)
            if hit:
                m = MEASURE_BY_KEY[key]
                out.append(Flag("prolonged_redness", "Prolonged redness",
                                f"{m.label} rose by {m.format(hit[0], unit=True)} (detectable change "
                                f"{m.format(hit[1])}) after session {pt.sessions_done}", pt.photo.id, pt.date, key,
                                hit[0], hit[1], dark))
                break
        hypo_key = _flag_key(HYPOPIGMENTATION, comp)
        hit = beyond(hypo_key, -1)
        if hit:
            m = MEASURE_BY_KEY[hypo_key]
            out.append(Flag("hypopigmentation", "Possible hypopigmentation",
                            f"{m.label.lower()} fell by {m.format(-hit[0], unit=True)} (detectable change "
                            f"{m.format(hit[1])}) after session {pt.sessions_done}", pt.photo.id, pt.date,
                            hypo_key, hit[0], hit[1], dark))
    return out


def one_per_topic(changes: Iterable[Change]) -> list[Change]:
    """The first change (in the order given: the registry's) for each thing a patient knows.

    The haemoglobin index and the legacy erythema index both read "redness" to a patient:
    one sentence, from the first, never two that could disagree.
    """
    said: set[str] = set()
    out = []
    for c in changes:
        if c.measure.patient_label not in said:
            said.add(c.measure.patient_label)
            out.append(c)
    return out


def plain_summary(pair: Pair, *, details: bool = False) -> list[str]:
    """Sentences a patient understands, honest about noise, from the registry's wording.

    With ``details`` (the clinic's choice) each sentence adds the two figures as every page
    shows them. No internal measure names, kelvin or retake reasons either way.
    """
    by_key = {c.measure.key: c for c in changes(pair.later)}
    if not by_key:
        return ["These photos cannot be compared yet; your clinic will look at them."]
    lines = []
    for c in one_per_topic(by_key[m.key] for m in COMPARED if m.charted and m.key in by_key):
        m = c.measure
        sentence = m.patient_sentence(c.verdict)
        if details and c.verdict != "not comparable" and c.baseline is not None and c.photo is not None:
            unit = f" {m.unit}" if m.unit else ""
            sentence = sentence.rstrip(".") + f" ({c.shown('baseline')} at the start, {c.shown('photo')} now{unit})."
        lines.append(sentence)
    return lines
