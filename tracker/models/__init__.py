"""SQLAlchemy models and migrations. Every record belongs to one clinic."""

from .accounts import Clinic, Invitation, User
from .audit import AuditEvent
from .base import Base, new_id, utcnow
from .clinical import Consent, Patient, TreatmentSeries, Visit
from .db import make_engine, make_sessionmaker
from .exports import ExportRecord, ExportSettings
from .photos import Analysis, Baseline, Photo, analysis_inputs_key
from .progress import ClinicDisplaySettings, HealingWindow, PhotoNote, PhotoRetake, RegionRevision
from .security import SignInThrottle, UserSession

__all__ = [
    "Analysis",
    "AuditEvent",
    "Base",
    "Baseline",
    "Clinic",
    "ClinicDisplaySettings",
    "Consent",
    "ExportRecord",
    "ExportSettings",
    "HealingWindow",
    "Invitation",
    "Patient",
    "Photo",
    "PhotoNote",
    "PhotoRetake",
    "RegionRevision",
    "SignInThrottle",
    "TreatmentSeries",
    "User",
    "UserSession",
    "Visit",
    "analysis_inputs_key",
    "make_engine",
    "make_sessionmaker",
    "new_id",
    "utcnow",
]
