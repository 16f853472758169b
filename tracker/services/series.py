"""Treatment series and their visits (treatment sessions and follow-ups), and the timeline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tracker.models import TreatmentSeries, User, Visit
from tracker.models.vocabulary import (
    ANAESTHESIA,
    COMPLICATIONS,
    DEFAULT_INTERVAL_DAYS,
    DEFAULT_PLANNED_SESSIONS,
    TREATED_AREAS,
    TREATMENT_TYPES,
    TIME_BEFORE,
    TIME_FOLLOW_UP,
    VISIT_FOLLOW_UP,
    VISIT_KINDS,
    VISIT_TREATMENT,
)

from . import audit
from .access import get_patient, get_series, get_visit, require_staff
from .errors import Conflict, ValidationFailed


@dataclass
class SeriesInput:
    treatment_type: str
    treated_areas: list[str] = field(default_factory=list)
    planned_sessions: int = DEFAULT_PLANNED_SESSIONS
    interval_days: int = DEFAULT_INTERVAL_DAYS
    notes: str = ""


@dataclass
class VisitInput:
    kind: str
    visit_date: dt.date
    technician_id: str | None = None
    device: str = ""
    energy_mj: float | None = None
    fluence_j_cm2: float | None = None
    density_pct: float | None = None
    passes: int | None = None
    spot_size_mm: float | None = None
    anaesthesia: str = "none"
    complications: list[str] = field(default_factory=list)
    notes: str = ""


def _validate_series(data: SeriesInput) -> None:
    if data.treatment_type not in TREATMENT_TYPES:
        raise ValidationFailed("Choose a treatment type.", field="treatment_type")
    if not data.treated_areas:
        raise ValidationFailed("Choose at least one treated area.", field="treated_areas")
    bad = [a for a in data.treated_areas if a not in TREATED_AREAS]
    if bad:
        raise ValidationFailed(f"Unknown treated area: {', '.join(bad)}.", field="treated_areas")
    if not 1 <= int(data.planned_sessions) <= 12:
        raise ValidationFailed("Planned sessions must be between 1 and 12.", field="planned_sessions")
    if not 7 <= int(data.interval_days) <= 730:
        raise ValidationFailed("The interval must be between 7 and 730 days.", field="interval_days")


def create_series(session: Session, actor: User, patient_id: str, data: SeriesInput, *,
                  is_simulated: bool = False) -> TreatmentSeries:
    require_staff(actor)
    patient = get_patient(session, actor, patient_id)
    _validate_series(data)
    series = TreatmentSeries(
        clinic_id=patient.clinic_id, patient_id=patient.id, treatment_type=data.treatment_type,
        treated_areas=list(dict.fromkeys(data.treated_areas)), planned_sessions=int(data.planned_sessions),
        interval_days=int(data.interval_days), notes=(data.notes or "").strip(), is_simulated=is_simulated,
        created_by_id=actor.id,
    )
    session.add(series)
    session.flush()
    audit.record(session, actor, "series.created", "series", series.id, patient_id=patient.id,
                 treatment_type=data.treatment_type)
    return series


def update_series(session: Session, actor: User, series_id: str, data: SeriesInput) -> TreatmentSeries:
    require_staff(actor)
    series = get_series(session, actor, series_id)
    _validate_series(data)
    series.treatment_type = data.treatment_type
    series.treated_areas = list(dict.fromkeys(data.treated_areas))
    series.planned_sessions = int(data.planned_sessions)
    series.interval_days = int(data.interval_days)
    series.notes = (data.notes or "").strip()
    audit.record(session, actor, "series.updated", "series", series.id)
    return series


def _validate_visit(session: Session, actor: User, data: VisitInput) -> None:
    if data.kind not in VISIT_KINDS:
        raise ValidationFailed("Choose whether this is a treatment session or a follow-up.", field="kind")
    if data.visit_date is None:
        raise ValidationFailed("Enter the visit date.", field="visit_date")
    if data.visit_date > dt.date.today() + dt.timedelta(days=366):
        raise ValidationFailed("The visit date is more than a year ahead.", field="visit_date")
    if data.anaesthesia not in ANAESTHESIA:
        raise ValidationFailed("Choose the anaesthesia used.", field="anaesthesia")
    bad = [c for c in data.complications if c not in COMPLICATIONS]
    if bad:
        raise ValidationFailed(f"Unknown complication: {', '.join(bad)}.", field="complications")
    for name, low, high in (("energy_mj", 0, 1000), ("fluence_j_cm2", 0, 1000), ("density_pct", 0, 100),
                            ("passes", 0, 50), ("spot_size_mm", 0, 100)):
        value = getattr(data, name)
        if value is not None and not low <= value <= high:
            raise ValidationFailed(f"Check the value of {name.split('_')[0]}: {value}.", field=name)
    if data.technician_id:
        tech = session.get(User, data.technician_id)
        if tech is None or tech.clinic_id != actor.clinic_id or not tech.is_staff:
            raise ValidationFailed("Choose a technician of this clinic.", field="technician_id")


def _apply_visit(visit: Visit, data: VisitInput) -> None:
    visit.kind = data.kind
    visit.visit_date = data.visit_date
    visit.technician_id = data.technician_id or None
    treatment = data.kind == VISIT_TREATMENT
    visit.device = (data.device or "").strip() if treatment else ""
    for name in ("energy_mj", "fluence_j_cm2", "density_pct", "passes", "spot_size_mm"):
        setattr(visit, name, getattr(data, name) if treatment else None)
    visit.anaesthesia = data.anaesthesia if treatment else "none"
    visit.complications = list(dict.fromkeys(data.complications))
    visit.notes = (data.notes or "").strip()


def renumber_sessions(series: TreatmentSeries) -> None:
    """Number the treatment sessions 1, 2, 3... in date order (follow-ups get None)."""
    n = 0
    for visit in sorted(series.visits, key=lambda v: (v.visit_date, v.created_at)):
        if visit.kind == VISIT_TREATMENT:
            n += 1
            visit.session_number = n
        else:
            visit.session_number = None


def create_visit(session: Session, actor: User, series_id: str, data: VisitInput) -> Visit:
    require_staff(actor)
    series = get_series(session, actor, series_id)
    _validate_visit(session, actor, data)
    visit = Visit(clinic_id=series.clinic_id, series_id=series.id, created_by_id=actor.id,
                  kind=data.kind, visit_date=data.visit_date)
    _apply_visit(visit, data)
    series.visits.append(visit)
    session.add(visit)
    session.flush()
    renumber_sessions(series)
    audit.record(session, actor, "visit.created", "visit", visit.id, series_id=series.id, kind=data.kind,
                 visit_date=data.visit_date)
    return visit


def update_visit(session: Session, actor: User, visit_id: str, data: VisitInput) -> Visit:
    from .baselines import refresh_series_baselines  # sessions renumbered -> baselines may move

    require_staff(actor)
    visit = get_visit(session, actor, visit_id)
    _validate_visit(session, actor, data)
    if visit.kind != data.kind and visit.photos:
        raise Conflict("This visit already has photos; its kind cannot change.", field="kind")
    _apply_visit(visit, data)
    renumber_sessions(visit.series)
    session.flush()
    audit.record(session, actor, "visit.updated", "visit", visit.id, kind=data.kind, visit_date=data.visit_date)
    refresh_series_baselines(session, visit.series, actor=actor)
    return visit


# Timeline ------------------------------------------------------------------------------
@dataclass(frozen=True)
class VisitTimeline:
    visit: Visit
    days_since_previous_session: int | None


@dataclass(frozen=True)
class SeriesTimeline:
    visits: list[VisitTimeline]
    sessions_done: int
    next_session_due: dt.date | None
    follow_up_due: dt.date | None

    @property
    def complete(self) -> bool:
        return self.next_session_due is None


def timeline(series: TreatmentSeries) -> SeriesTimeline:
    """Visits in date order with days since the previous session, and what is due next."""
    items = []
    last_session: dt.date | None = None
    for visit in sorted(series.visits, key=lambda v: (v.visit_date, v.created_at)):
        since = (visit.visit_date - last_session).days if last_session is not None else None
        items.append(VisitTimeline(visit, since))
        if visit.kind == VISIT_TREATMENT:
            last_session = visit.visit_date
    done = sum(1 for v in series.visits if v.kind == VISIT_TREATMENT)
    next_due = None
    follow_up_due = None
    interval = dt.timedelta(days=series.interval_days)
    if last_session is not None and done < series.planned_sessions:
        next_due = last_session + interval
    elif last_session is not None:
        has_follow_up = any(v.kind != VISIT_TREATMENT and v.visit_date > last_session for v in series.visits)
        if not has_follow_up:
            follow_up_due = last_session + interval
    return SeriesTimeline(items, done, next_due, follow_up_due)


#: A session's laser settings as people write them: (field, how the value reads).
_SETTING_FORMS = (("energy_mj", "{} mJ"), ("fluence_j_cm2", "{} J/cm²"), ("density_pct", "{} % density"),
                  ("passes", "{} passes"), ("spot_size_mm", "{} mm spot"))


def settings_text(visit: Visit) -> str:
    """The session's device settings as a clinic writes them: "70 mJ, 10 % density, 2 passes".

    >>> settings_text(Visit(energy_mj=70.0, density_pct=10.0, passes=1))
    '70 mJ, 10 % density, 1 pass'
    """
    parts = []
    for key, form in _SETTING_FORMS:
        value = getattr(visit, key)
        if value is None:
            continue
        text = form.format(f"{value:g}")
        parts.append(text.replace("passes", "pass") if key == "passes" and value == 1 else text)
    return ", ".join(parts)


def capture_visit(series: TreatmentSeries, today: dt.date) -> Visit | None:
    """The visit photos taken now belong to: today's, else the newest one (None without visits)."""
    visits = sorted(series.visits, key=lambda v: (v.visit_date, v.created_at))
    return next((v for v in reversed(visits) if v.visit_date == today), visits[-1] if visits else None)


def default_time_point(visit: Visit) -> str:
    """The time point a capture of ``visit`` starts on: a follow-up visit's photos are
    "follow-up", a treatment session's "before treatment"."""
    return TIME_FOLLOW_UP if visit.kind == VISIT_FOLLOW_UP else TIME_BEFORE


def default_visit_kind(series: TreatmentSeries) -> str:
    """What a new visit of ``series`` is, unless the technician says otherwise: a treatment session
    until the planned sessions are done, then a follow-up."""
    return VISIT_TREATMENT if len(series.treatment_visits) < series.planned_sessions else VISIT_FOLLOW_UP
