"""Patients, their consents, treatment series and visits."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import ID_LENGTH, Base, UTCDateTime, new_id, utcnow
from .vocabulary import (
    DEFAULT_INTERVAL_DAYS,
    DEFAULT_PLANNED_SESSIONS,
    TREATED_AREAS,
    TREATMENT_TYPES,
    VISIT_TREATMENT,
)

if TYPE_CHECKING:
    from .accounts import User
    from .photos import Photo


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[dt.date] = mapped_column(Date)
    fitzpatrick: Mapped[int] = mapped_column(Integer)
    concerns: Mapped[list[str]] = mapped_column(JSON, default=list)
    concerns_notes: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    is_simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    consents: Mapped[list[Consent]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="Consent.recorded_at"
    )
    series: Mapped[list[TreatmentSeries]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="TreatmentSeries.created_at"
    )


class Consent(Base):
    """One consent given on a date; revoking it records when and by whom. History is kept."""

    __tablename__ = "consents"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    granted_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    revoked_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )

    patient: Mapped[Patient] = relationship(back_populates="consents")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class TreatmentSeries(Base):
    __tablename__ = "treatment_series"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    treatment_type: Mapped[str] = mapped_column(String(40))
    treated_areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    planned_sessions: Mapped[int] = mapped_column(Integer, default=DEFAULT_PLANNED_SESSIONS)
    interval_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_INTERVAL_DAYS)
    notes: Mapped[str] = mapped_column(Text, default="")
    is_simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )

    patient: Mapped[Patient] = relationship(back_populates="series")
    visits: Mapped[list[Visit]] = relationship(
        back_populates="series",
        cascade="all, delete-orphan",
        order_by="(Visit.visit_date, Visit.created_at)",
    )

    @property
    def title(self) -> str:
        kind = TREATMENT_TYPES.get(self.treatment_type, self.treatment_type)
        areas = ", ".join(TREATED_AREAS.get(a, a).lower() for a in self.treated_areas)
        return f"{kind}: {areas}" if areas else kind

    @property
    def treatment_visits(self) -> list[Visit]:
        return [v for v in self.visits if v.kind == VISIT_TREATMENT]


class Visit(Base):
    """A treatment session or a follow-up visit without treatment."""

    __tablename__ = "visits"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[str] = mapped_column(
        ForeignKey("treatment_series.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    visit_date: Mapped[dt.date] = mapped_column(Date)
    #: 1, 2, 3... for treatment sessions in date order; None for follow-up visits.
    session_number: Mapped[int | None] = mapped_column(Integer, default=None)
    technician_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    device: Mapped[str] = mapped_column(String(200), default="")
    energy_mj: Mapped[float | None] = mapped_column(Float, default=None)
    fluence_j_cm2: Mapped[float | None] = mapped_column(Float, default=None)
    density_pct: Mapped[float | None] = mapped_column(Float, default=None)
    passes: Mapped[int | None] = mapped_column(Integer, default=None)
    spot_size_mm: Mapped[float | None] = mapped_column(Float, default=None)
    anaesthesia: Mapped[str] = mapped_column(String(20), default="none")
    complications: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    #: When a technician marked the visit's photos and results fit for the patient to see.
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    reviewed_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )

    series: Mapped[TreatmentSeries] = relationship(back_populates="visits")
    technician: Mapped[User | None] = relationship(foreign_keys=[technician_id])
    photos: Mapped[list[Photo]] = relationship(
        back_populates="visit", order_by="Photo.uploaded_at", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        if self.kind == VISIT_TREATMENT:
            return f"Session {self.session_number}" if self.session_number else "Session"
        return "Follow-up"

    @property
    def settings_summary(self) -> dict[str, Any]:
        return {
            "energy_mj": self.energy_mj,
            "fluence_j_cm2": self.fluence_j_cm2,
            "density_pct": self.density_pct,
            "passes": self.passes,
            "spot_size_mm": self.spot_size_mm,
        }


Index("ix_visits_series_date", Visit.series_id, Visit.visit_date)
