"""Test data made by the tests themselves: images with known content and a small clinic.

Shared by tests/services, tests/web and tests/e2e.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import numpy as np
import pillow_heif
from PIL import Image
from sqlalchemy.orm import Session

from tracker.models import Clinic, Patient, TreatmentSeries, User, Visit
from tracker.models.vocabulary import CONSENT_PHOTOGRAPHY, TECHNICIAN, VISIT_FOLLOW_UP, VISIT_TREATMENT
from tracker.services import accounts, patients, series as series_svc

pillow_heif.register_heif_opener()

PASSWORD = "correct horse battery"


# Images --------------------------------------------------------------------------------
def skin_image(width: int = 400, height: int = 300, *, seed: int = 0, marker: bool = True) -> Image.Image:
    """A skin-coloured image with mild noise; unique per seed. With ``marker``, the top-left
    quarter is dark so a test can tell which way up the image is."""
    rng = np.random.default_rng(seed)
    base = np.array([205, 160, 140], dtype=np.float32)
    arr = base + rng.normal(0, 6, (height, width, 3)).astype(np.float32)
    if marker:
        arr[: height // 2, : width // 2] *= 0.3
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def exif_block(*, orientation: int | None = None, taken: str | None = None, gps: bool = False,
               make: str | None = None) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if make:
        exif[0x010F] = make
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    if gps:
        g = exif.get_ifd(0x8825)
        g[1] = "N"
        g[2] = (52.0, 22.0, 30.5)
        g[3] = "E"
        g[4] = (4.0, 53.0, 12.0)
    return exif


def jpeg_bytes(width: int = 400, height: int = 300, *, seed: int = 0, exif: Image.Exif | None = None,
               quality: int = 90) -> bytes:
    buf = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    skin_image(width, height, seed=seed).save(buf, "JPEG", quality=quality, **kwargs)
    return buf.getvalue()


def png_bytes(width: int = 400, height: int = 300, *, seed: int = 0) -> bytes:
    buf = io.BytesIO()
    skin_image(width, height, seed=seed).save(buf, "PNG")
    return buf.getvalue()


def heic_bytes(width: int = 320, height: int = 240, *, seed: int = 0, exif: Image.Exif | None = None) -> bytes:
    buf = io.BytesIO()
    kwargs = {"exif": exif.tobytes()} if exif is not None else {}
    skin_image(width, height, seed=seed).save(buf, "HEIF", quality=80, **kwargs)
    return buf.getvalue()


def bomb_png(width: int = 12000, height: int = 12000) -> bytes:
    """A tiny file that claims a huge image (compresses to a few hundred KB)."""
    buf = io.BytesIO()
    Image.new("L", (width, height), 0).save(buf, "PNG", optimize=False, compress_level=9)
    return buf.getvalue()


# A small clinic ------------------------------------------------------------------------
@dataclass
class World:
    clinic: Clinic
    admin: User
    tech: User
    patient: Patient
    series: TreatmentSeries
    visits: list[Visit]


def make_world(session: Session, *, name: str = "Clinic A", prefix: str = "a", consent: bool = True,
               sessions: int = 2, follow_up: bool = False, start: dt.date = dt.date(2024, 1, 10),
               admin_name: str | None = None, tech_name: str | None = None, patient_name: str | None = None,
               with_series: bool = True) -> World:
    """A clinic with an admin, a technician, one patient (photo consent), one series and visits."""
    clinic, admin = accounts.create_clinic(session, name=name, admin_email=f"admin@{prefix}.test",
                                           admin_password=PASSWORD, admin_name=admin_name or f"Admin {prefix.upper()}")
    tech, _ = accounts.create_staff(session, admin, email=f"tech@{prefix}.test",
                                    full_name=tech_name or f"Tech {prefix.upper()}", role=TECHNICIAN,
                                    password=PASSWORD)
    patient = patients.create_patient(session, tech, patients.PatientInput(
        full_name=patient_name or f"Patient {prefix.upper()}", date_of_birth=dt.date(1980, 5, 17), fitzpatrick=2,
        concerns=["fine_lines", "sun_spots"]))
    if consent:
        patients.grant_consent(session, tech, patient.id, CONSENT_PHOTOGRAPHY, granted_on=start)
    s = None
    visits = []
    if with_series:
        s = series_svc.create_series(session, tech, patient.id, series_svc.SeriesInput(
            treatment_type="fractional_co2", treated_areas=["full_face"]))
        for i in range(sessions):
            visits.append(series_svc.create_visit(session, tech, s.id, series_svc.VisitInput(
                kind=VISIT_TREATMENT, visit_date=start + dt.timedelta(days=91 * i), device="CO2RE",
                energy_mj=40.0, density_pct=10.0, passes=2, anaesthesia="topical")))
        if follow_up:
            visits.append(series_svc.create_visit(session, tech, s.id, series_svc.VisitInput(
                kind=VISIT_FOLLOW_UP, visit_date=start + dt.timedelta(days=91 * sessions + 30))))
    session.commit()
    return World(clinic, admin, tech, patient, s, visits)  # type: ignore[arg-type]


def add_patient_with_series(session: Session, actor: User, name: str, *, consent: bool = True,
                            start: dt.date = dt.date(2024, 2, 1)) -> tuple[Patient, TreatmentSeries, Visit]:
    patient = patients.create_patient(session, actor, patients.PatientInput(
        full_name=name, date_of_birth=dt.date(1975, 3, 3), fitzpatrick=4))
    if consent:
        patients.grant_consent(session, actor, patient.id, CONSENT_PHOTOGRAPHY, granted_on=start)
    s = series_svc.create_series(session, actor, patient.id, series_svc.SeriesInput(
        treatment_type="erbium", treated_areas=["cheeks"]))
    visit = series_svc.create_visit(session, actor, s.id, series_svc.VisitInput(
        kind=VISIT_TREATMENT, visit_date=start))
    session.commit()
    return patient, s, visit
