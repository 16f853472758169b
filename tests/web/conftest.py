"""Web fixtures: an app on a temporary instance (real SQLite, real files, real Huey queue),
clients signed in as each role, and a small clinic made through the services."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tracker.config import TestConfig
from tracker.models import Base
from tracker.models.vocabulary import TECHNICIAN
from tracker.services import accounts, invitations, review
from tracker.services.dispatch import bind_sink
from tracker.services.intake import PhotoTags, ingest_photo
from tracker.web import create_app
from tracker.web.context import EXTENSION, Resources

from tests.services.factories import PASSWORD, add_patient_with_series, jpeg_bytes, make_world

PATIENT_PASSWORD = "patient password 1"


def build_app(instance, **overrides) -> Flask:
    return create_app(TestConfig(instance, **overrides))


def dispose(app: Flask) -> None:
    engine = app.extensions[EXTENSION].session_factory.kw["bind"]
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


@dataclass
class Template:
    instance: Path
    site: "Site"
    cookies: dict[str, str]


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Template:
    """The clinic is built (and each role signed in) once; every test gets a copy of it.

    Password hashing (scrypt) makes building it take a second or two; copying takes milliseconds.
    """
    instance = tmp_path_factory.mktemp("site-template") / "instance"
    app = build_app(instance, WTF_CSRF_ENABLED=False)
    Base.metadata.create_all(app.extensions[EXTENSION].session_factory.kw["bind"])
    site = make_site(app)
    cookies = {
        "patient": login(app.test_client(), site.patient_email, PATIENT_PASSWORD).get_cookie("session").value,
        "technician": login(app.test_client(), site.tech_email).get_cookie("session").value,
        "clinic_admin": login(app.test_client(), site.admin_email).get_cookie("session").value,
    }
    dispose(app)
    return Template(instance, site, cookies)


def _copy(template: Template, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(template.instance, target)
    return target


@pytest.fixture
def app(template, tmp_path) -> Iterator[Flask]:
    """The template clinic in a private copy. CSRF is off so tests can post plain forms;
    ``csrf_app`` keeps it on."""
    app = build_app(_copy(template, tmp_path, "instance"), WTF_CSRF_ENABLED=False)
    yield app
    dispose(app)


@pytest.fixture
def csrf_app(template, tmp_path) -> Iterator[Flask]:
    app = build_app(_copy(template, tmp_path, "instance-csrf"))
    yield app
    dispose(app)


def resources(app: Flask) -> Resources:
    return app.extensions[EXTENSION]


@pytest.fixture
def db(app) -> Iterator[Session]:
    res = resources(app)
    session = bind_sink(res.session_factory(), res.queue)
    yield session
    session.close()


@dataclass
class Site:
    """Everything the web tests need, with ids to put in URLs."""

    clinic_id: str
    admin_email: str
    tech_email: str
    spare_tech_id: str
    patient_email: str
    patient_id: str
    series_id: str
    visit_id: str
    photo_id: str
    other_patient_id: str
    other_series_id: str
    other_photo_id: str
    other_clinic_photo_id: str
    other_clinic_visit_id: str
    invitation_id: str
    invitation_token: str
    no_consent_visit_id: str
    #: A finished analysis of ``photo_id`` with one stored overlay (for the progress routes).
    analysis_id: str = ""


def make_site(app: Flask) -> Site:
    res = resources(app)
    with res.session_factory() as s:
        bind_sink(s, res.queue)
        a = make_world(s, name="Clinic A", prefix="a")
        b = make_world(s, name="Clinic B", prefix="b")
        spare, _ = accounts.create_staff(s, a.admin, email="spare@a.test", full_name="Spare Tech", role=TECHNICIAN,
                                         password=PASSWORD)
        other, other_series, other_visit = add_patient_with_series(s, a.tech, "Other Patient")
        _, _, no_consent_visit = add_patient_with_series(s, a.tech, "Not Consented", consent=False)

        def put(actor, visit, seed):
            return ingest_photo(s, res.storage, actor, visit.id, jpeg_bytes(seed=seed), filename=f"{seed}.jpg",
                                tags=PhotoTags(view="front", time_point="before"), limits=res.limits)

        mine = put(a.tech, a.visits[0], 1)
        put(a.tech, a.visits[1], 2)
        theirs = put(a.tech, other_visit, 3)
        foreign = put(b.tech, b.visits[0], 4)
        for visit in (*a.visits, other_visit):  # reviewed: their photos reach the patients
            review.mark_reviewed(s, a.tech, visit.id)
        _, token = invitations.create_invitation(s, a.tech, a.patient.id)
        invitations.accept_invitation(s, token, email="patient@a.test", password=PATIENT_PASSWORD)
        inv, open_token = invitations.create_invitation(s, a.tech, other.id)
        s.commit()
        res.queue.run_pending(only=("make_derivatives",))
        analysis_id = _finished_analysis(s, res.storage, mine)
        return Site(a.clinic.id, "admin@a.test", "tech@a.test", spare.id, "patient@a.test", a.patient.id,
                    a.series.id, a.visits[0].id, mine.id, other.id, other_series.id, theirs.id, foreign.id,
                    b.visits[0].id, inv.id, open_token, no_consent_visit.id, analysis_id)


def _finished_analysis(session: Session, storage, photo) -> str:
    """Mark the photo's queued analysis finished with one overlay JPEG, as a worker would leave it."""
    import io
    import json

    from PIL import Image

    from tracker.models import Analysis
    from tracker.services.analysis import overlay_key

    row = session.query(Analysis).filter_by(photo_id=photo.id).first()
    key = overlay_key(row.id, "redness.jpg")
    buf = io.BytesIO()
    Image.new("RGB", (160, 120), (200, 60, 60)).save(buf, "JPEG")
    storage.put_bytes(key, buf.getvalue())
    row.state, row.overlay_keys = "done", json.dumps({"redness": key})
    row.result_json = json.dumps({"quality": {"ok": True, "reasons": []}, "comparison": None, "alignment": None})
    session.commit()
    return row.id


@pytest.fixture
def site(template) -> Site:
    return template.site


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> FlaskClient:
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, f"sign-in as {email} failed: {response.status_code}"
    return client


def signed_in(app: Flask, cookie: str) -> FlaskClient:
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


@pytest.fixture
def clients(app, template) -> dict[str, FlaskClient]:
    """A signed-in client per role (and an anonymous one)."""
    out = {"anonymous": app.test_client()}
    out.update({role: signed_in(app, cookie) for role, cookie in template.cookies.items()})
    return out


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)

