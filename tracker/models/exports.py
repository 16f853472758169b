"""What left the system: one row per export, and each clinic's export setting.

An export row is written in the same transaction that hands the file out. It keeps
the SHA-256 of every file produced (and of the manifest, for bundles) so that
``tracker verify-export`` can tell whether a bundle is what the server produced.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import ID_LENGTH, Base, UTCDateTime, new_id, utcnow

if TYPE_CHECKING:
    from .accounts import User
    from .clinical import Patient, TreatmentSeries

EXPORT_COMPARISON = "comparison"
EXPORT_REPORT = "report"
EXPORT_BUNDLE = "bundle"
EXPORT_MARKETING = "marketing"
EXPORT_KINDS = {
    EXPORT_COMPARISON: "Comparison image",
    EXPORT_REPORT: "PDF report",
    EXPORT_BUNDLE: "ZIP bundle",
    EXPORT_MARKETING: "Marketing image",
}


class ExportRecord(Base):
    """One export: who, what, when, and the hashes of what was handed out."""

    __tablename__ = "exports"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[str] = mapped_column(ForeignKey("treatment_series.id", ondelete="CASCADE"))
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    #: The view of a comparison or marketing image ("front", "closeup:left cheek"); empty for a series.
    view: Mapped[str] = mapped_column(String(120), default="")
    filename: Mapped[str] = mapped_column(String(255))
    #: SHA-256 of the file handed out (the PNG, the PDF, the ZIP).
    sha256: Mapped[str] = mapped_column(String(64))
    #: Bundles: SHA-256 of manifest.json as written into the ZIP.
    manifest_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    #: Bundles: {file name in the ZIP: SHA-256}; other kinds: {filename: SHA-256}.
    files: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: {photo id: SHA-256 of the original} of every photo the export derives from.
    originals: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    created_by: Mapped[User | None] = relationship()
    patient: Mapped[Patient] = relationship()
    series: Mapped[TreatmentSeries] = relationship()

    @property
    def kind_label(self) -> str:
        return EXPORT_KINDS.get(self.kind, self.kind)


class ExportSettings(Base):
    """Per-clinic export settings (a missing row means the defaults)."""

    __tablename__ = "export_settings"

    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), primary_key=True)
    #: Technicians may export too (clinic admins always may).
    technicians_may_export: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)


Index("ix_exports_clinic_created", ExportRecord.clinic_id, ExportRecord.created_at)
