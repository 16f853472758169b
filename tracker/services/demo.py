"""The demo clinic: accounts and a complete simulated treatment series (``tracker demo``).

Idempotent: running it again finds what exists and adds only what is missing.
The photos come from :func:`tracker.simulate.simulate_series` and go through the
same intake service as a technician's upload. Everything is labelled simulated.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Clinic, Patient, Photo, TreatmentSeries, User, Visit
from tracker.models.vocabulary import CONSENT_PHOTOGRAPHY, TECHNICIAN, VIEW_CLOSEUP, VISIT_TREATMENT
from tracker.storage import Storage

from . import accounts, invitations, patients, review, series as series_svc
from .errors import DuplicatePhoto
from .intake import IntakeLimits, PhotoTags, ingest_photo

log = logging.getLogger(__name__)

CLINIC_NAME = "Demo Skin Clinic"
PATIENT_NAME = "Alex Demo"
SEED = 7
#: Photos of the demo series: 3 sessions x (front, close-up) before, close-up "after" photos
#: of sessions 1 and 2, and the follow-up (simulate_series defaults; the real face of the
#: clinic front view has no healing "after" photos). Fewer means "complete it".
EXPECTED_PHOTOS = 10


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


LOGINS = (
    DemoLogin("clinic admin", "admin@demo.test", "demo-admin-pass"),
    DemoLogin("technician", "tech@demo.test", "demo-tech-pass"),
    DemoLogin("patient", "patient@demo.test", "demo-patient-pass"),
)


@dataclass(frozen=True)
class DemoResult:
    clinic_id: str
    patient_id: str
    series_id: str
    photos_added: int
    photos_total: int


def demo_clinic(session: Session) -> Clinic | None:
    return session.scalar(select(Clinic).where(Clinic.name == CLINIC_NAME))


def _user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email))


def _ensure_accounts(session: Session) -> tuple[Clinic, User, User]:
    admin_login, tech_login, _ = LOGINS
    clinic = demo_clinic(session)
    if clinic is None:
        clinic, admin = accounts.create_clinic(session, name=CLINIC_NAME, admin_email=admin_login.email,
                                               admin_password=admin_login.password, admin_name="Dana Admin")
    else:
        found = _user(session, admin_login.email)
        if found is None or found.clinic_id != clinic.id:
            raise RuntimeError(f"the demo clinic exists but {admin_login.email} is not its admin")
        admin = found
    tech = _user(session, tech_login.email)
    if tech is None:
        tech, _ = accounts.create_staff(session, admin, email=tech_login.email, full_name="Toni Technician",
                                        role=TECHNICIAN, password=tech_login.password)
    session.commit()
    return clinic, admin, tech


def _ensure_patient(session: Session, tech: User, start: dt.date) -> Patient:
    patient = session.scalar(select(Patient).where(Patient.clinic_id == tech.clinic_id,
                                                   Patient.full_name == PATIENT_NAME))
    if patient is None:
        patient = patients.create_patient(session, tech, patients.PatientInput(
            full_name=PATIENT_NAME, date_of_birth=dt.date(1979, 4, 12), fitzpatrick=2,
            concerns=["fine_lines", "sun_spots", "redness", "texture"],
            concerns_notes="Simulated patient: sun damage on the cheeks, fine lines, diffuse redness.",
            email=LOGINS[2].email), is_simulated=True)
        patients.grant_consent(session, tech, patient.id, CONSENT_PHOTOGRAPHY, granted_on=start)
        session.commit()
    if accounts.patient_account(session, patient.id) is None:
        _, token = invitations.create_invitation(session, tech, patient.id)
        invitations.accept_invitation(session, token, email=LOGINS[2].email, password=LOGINS[2].password)
        session.commit()
    return patient


def _ensure_series(session: Session, tech: User, patient: Patient) -> TreatmentSeries:
    series = session.scalar(select(TreatmentSeries).where(TreatmentSeries.patient_id == patient.id,
                                                          TreatmentSeries.is_simulated.is_(True)))
    if series is None:
        series = series_svc.create_series(session, tech, patient.id, series_svc.SeriesInput(
            treatment_type="fractional_co2", treated_areas=["full_face"], planned_sessions=3, interval_days=91,
            notes="Simulated series made by the tracker's skin simulator for the demo."), is_simulated=True)
        session.commit()
    return series


def _ensure_visit(session: Session, tech: User, series: TreatmentSeries, kind: str, day: dt.date) -> Visit:
    for visit in series.visits:
        if visit.kind == kind and visit.visit_date == day:
            return visit
    treatment = kind == VISIT_TREATMENT
    visit = series_svc.create_visit(session, tech, series.id, series_svc.VisitInput(
        kind=kind, visit_date=day, technician_id=tech.id,
        device="CO2RE (simulated)" if treatment else "", energy_mj=70.0 if treatment else None,
        density_pct=10.0 if treatment else None, passes=1 if treatment else None,
        spot_size_mm=0.12 if treatment else None, anaesthesia="topical" if treatment else "none",
        notes="Simulated visit."))
    session.commit()
    return visit


def load_demo(session: Session, storage: Storage, limits: IntakeLimits, *, size: str = "full",
              today: dt.date | None = None, progress: Callable[[str], None] = lambda _msg: None) -> DemoResult:
    """Create (or complete) the demo clinic, its accounts and the simulated series."""
    today = today or dt.date.today()
    # Sessions on days 0, 91, 182; the follow-up on day 273, two weeks before today.
    start = today - dt.timedelta(days=273 + 14)
    clinic, _admin, tech = _ensure_accounts(session)
    patient = _ensure_patient(session, tech, start)
    series = _ensure_series(session, tech, patient)
    existing = len(list(session.scalars(select(Photo.id).where(Photo.series_id == series.id))))
    added = 0
    if existing < EXPECTED_PHOTOS:
        from tracker.simulate import simulate_series

        progress(f"Simulating the demo series ({size} size photos; this takes a minute)...")
        simulated = simulate_series(seed=SEED, trend="improving", size=size, front_scene="clinic")
        for sim_visit in simulated.visits:
            visit = _ensure_visit(session, tech, series, sim_visit.kind, start + dt.timedelta(days=sim_visit.day))
            for photo in sim_visit.photos:
                closeup = photo.view != "front"
                tags = PhotoTags(view=VIEW_CLOSEUP if closeup else "front", region=photo.region if closeup else "",
                                 time_point=photo.time_point,
                                 days_after=photo.days_after if photo.time_point == "after" else None)
                name = (f"demo-{visit.label.lower().replace(' ', '')}-{'closeup' if closeup else 'front'}-"
                        f"{photo.time_point}.jpg")
                try:
                    ingest_photo(session, storage, tech, visit.id, photo.jpeg, filename=name, tags=tags, limits=limits)
                    added += 1
                except DuplicatePhoto:
                    session.rollback()  # already there from an earlier run
        progress(f"Added {added} simulated photos.")
    for visit in series.visits:  # reviewed by the technician: the demo's patient sees every visit
        review.mark_reviewed(session, tech, visit.id)
    session.commit()
    total = len(list(session.scalars(select(Photo.id).where(Photo.series_id == series.id))))
    return DemoResult(clinic.id, patient.id, series.id, added, total)
