"""What progress tracking adds: healing windows and display settings per clinic,
measurement-region revisions per baseline view, retakes that supersede refused photos,
and staff notes on photos."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import ID_LENGTH, Base, UTCDateTime, new_id, utcnow

if TYPE_CHECKING:
    from .accounts import User


class HealingWindow(Base):
    """Days after a session of one treatment type during which photos show healing, not progress."""

    __tablename__ = "healing_windows"
    __table_args__ = (UniqueConstraint("clinic_id", "treatment_type"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    treatment_type: Mapped[str] = mapped_column(String(40))
    days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClinicDisplaySettings(Base):
    """How a clinic's progress pages look to its patients."""

    __tablename__ = "clinic_display_settings"

    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), primary_key=True)
    hide_overlays_from_patients: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Publish a visit's quality-passing, comparable results without waiting for a review.
    auto_publish: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Show patients the measures' names and figures (else plain sentences only).
    patient_details: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PhotoNote(Base):
    """A staff note on a photo (never shown to patients)."""

    __tablename__ = "photo_notes"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    photo_id: Mapped[str] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class RegionRevision(Base):
    """One revision of a baseline view's measurement region and chart corners.

    ``mask_key`` names a PNG in storage on the baseline photo's full-resolution grid
    (white = measured); ``chart_corners`` is JSON of 8 numbers (TL, TR, BR, BL).
    """

    __tablename__ = "region_revisions"
    __table_args__ = (UniqueConstraint("series_id", "view", "region", "revision"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[str] = mapped_column(ForeignKey("treatment_series.id", ondelete="CASCADE"), index=True)
    view: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(80), default="")
    baseline_photo_id: Mapped[str] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    polygon_json: Mapped[str | None] = mapped_column(Text, default=None)
    mask_key: Mapped[str | None] = mapped_column(String(200), default=None)
    #: SHA-256 of the mask PNG as written (``tracker verify`` re-hashes it).
    mask_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    chart_corners: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)


class PhotoRetake(Base):
    """A retake that supersedes a refused photo; the refused one is kept, hidden, with its reason."""

    __tablename__ = "photo_retakes"

    refused_photo_id: Mapped[str] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    retake_photo_id: Mapped[str] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
