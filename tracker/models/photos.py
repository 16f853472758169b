"""Photos, the baseline of each view, and analysis results."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import ID_LENGTH, Base, UTCDateTime, new_id, utcnow
from .vocabulary import DERIVATIVES_PENDING, AnalysisState, time_point_label, view_label

if TYPE_CHECKING:
    from .accounts import User
    from .clinical import Patient, TreatmentSeries, Visit


class Photo(Base):
    """One uploaded photo. The original file is kept byte-for-byte under ``original_key``."""

    __tablename__ = "photos"
    __table_args__ = (
        # The same file is stored once per patient (content hash).
        UniqueConstraint("patient_id", "sha256"),
        Index("ix_photos_series_view_region", "series_id", "view", "region"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[str] = mapped_column(ForeignKey("treatment_series.id", ondelete="CASCADE"))
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    view: Mapped[str] = mapped_column(String(20))
    #: Close-up region name ("left cheek"); empty for the other views.
    region: Mapped[str] = mapped_column(String(80), default="")
    time_point: Mapped[str] = mapped_column(String(20))
    days_after: Mapped[int | None] = mapped_column(Integer, default=None)
    sha256: Mapped[str] = mapped_column(String(64))
    original_key: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    size_bytes: Mapped[int] = mapped_column(Integer)
    #: Pixel size after the EXIF orientation is applied.
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    #: Camera clock from EXIF (local wall time, no zone), when the file has one.
    captured_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    thumb_key: Mapped[str | None] = mapped_column(String(200), default=None)
    display_key: Mapped[str | None] = mapped_column(String(200), default=None)
    #: SHA-256 of the derived files as written (``tracker verify`` re-hashes them).
    thumb_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    display_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    derivatives_state: Mapped[str] = mapped_column(String(20), default=DERIVATIVES_PENDING)
    derivatives_error: Mapped[str | None] = mapped_column(Text, default=None)

    patient: Mapped[Patient] = relationship()
    series: Mapped[TreatmentSeries] = relationship()
    visit: Mapped[Visit] = relationship(back_populates="photos")
    uploaded_by: Mapped[User | None] = relationship()

    @property
    def view_label(self) -> str:
        return view_label(self.view, self.region)

    @property
    def time_point_label(self) -> str:
        return time_point_label(self.time_point, self.days_after)


class Baseline(Base):
    """The photo that later photos of one (series, view, region) are compared with.

    Kept up to date by :mod:`tracker.services.baselines`: either the default rule's
    choice or a technician's override (``is_override``).
    """

    __tablename__ = "baselines"
    __table_args__ = (UniqueConstraint("series_id", "view", "region"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[str] = mapped_column(ForeignKey("treatment_series.id", ondelete="CASCADE"))
    view: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(80), default="")
    photo_id: Mapped[str] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), index=True)
    is_override: Mapped[bool] = mapped_column(Boolean, default=False)
    set_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    photo: Mapped[Photo] = relationship()


def analysis_inputs_key(
    photo_id: str,
    baseline_photo_id: str | None,
    roi_revision: int,
    chart_corners: str | None,
    analysis_version: str,
) -> str:
    """SHA-256 of everything that determines an analysis result (NULL-safe uniqueness)."""
    payload = json.dumps(
        [photo_id, baseline_photo_id, int(roi_revision), chart_corners, analysis_version],
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


class Analysis(Base):
    """One measurement of a photo (against its baseline), filled in by the analysis job.

    ``inputs_key`` is unique: the same inputs never produce two rows, and a changed
    baseline, region of interest, chart corners or analysis version makes a new one.
    """

    __tablename__ = "analyses"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    photo_id: Mapped[str] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), index=True)
    baseline_photo_id: Mapped[str | None] = mapped_column(
        ForeignKey("photos.id", ondelete="CASCADE"), index=True, default=None
    )
    roi_revision: Mapped[int] = mapped_column(Integer, default=0)
    chart_corners: Mapped[str | None] = mapped_column(Text, default=None)
    analysis_version: Mapped[str] = mapped_column(String(40))
    inputs_key: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(20), default=AnalysisState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    #: Who holds (or last held) the lease: ``host:pid/thread``, shown on the job's record.
    lease_holder: Mapped[str | None] = mapped_column(String(200), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    result_json: Mapped[str | None] = mapped_column(Text, default=None)
    overlay_keys: Mapped[str | None] = mapped_column(Text, default=None)
    #: JSON ``{storage key: SHA-256}`` of the overlay files as written.
    overlay_sha256: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    photo: Mapped[Photo] = relationship(foreign_keys=[photo_id])
    baseline_photo: Mapped[Photo | None] = relationship(foreign_keys=[baseline_photo_id])
