"""Clinic settings that shape progress: healing windows per treatment type, overlays shown to patients."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import ClinicDisplaySettings, HealingWindow, User
from tracker.models.base import utcnow
from tracker.models.vocabulary import TREATMENT_TYPES

from .. import audit
from ..access import require_admin
from ..errors import ValidationFailed

#: Days after a session during which photos show healing (issue 4 defaults).
DEFAULT_HEALING_DAYS = {"fractional_co2": 14, "erbium": 3, "micro_laser_peel": 7, "non_ablative": 2, "other": 7}


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


def save_progress_settings(session: Session, actor: User, healing_days: Mapping[str, str], *,
                           hide_overlays: bool) -> None:
    """The clinic's progress settings as typed on the settings page: each treatment type's healing
    window in days as text (blank leaves it unchanged), and whether patients see overlays."""
    for kind in TREATMENT_TYPES:
        raw = (healing_days.get(kind) or "").strip()
        if raw:
            if not raw.isdecimal() or not raw.isascii():  # "²" is a digit, not a number
                raise ValidationFailed("Healing windows are whole numbers of days (0 to 90).")
            set_healing_window(session, actor, kind, int(raw))
    set_overlays_hidden(session, actor, hide_overlays)
