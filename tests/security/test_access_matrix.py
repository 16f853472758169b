"""The object access matrix, enumerated from Flask's URL map.

Every route argument must be declared below; an undeclared one fails the test, so a new
route with object ids cannot slip in untested. For every route taking object ids, every
role is tried against its own objects, another patient's (same clinic) and another
clinic's, plus ids nobody has: nothing outside what the role may see is ever reachable,
and no request from clinic A changes anything of clinic B.
"""

from __future__ import annotations

import re

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from tracker.models import Analysis, AuditEvent, Clinic, Invitation, Patient, Photo, TreatmentSeries, User, Visit, new_id
from tracker.models.vocabulary import PATIENT, TECHNICIAN
from tracker.services import invitations
from tracker.services.dispatch import bind_sink
from tracker.web.access import ANONYMOUS, ROLES, ROUTE_ACCESS

from .conftest import resources

#: How each URL argument is filled. "object": an id of a record that belongs to a clinic
#: (tried as own / another patient's / another clinic's / guessed); "secret": a bearer token
#: (only a guessed one is tried); "static": a file name of the static folder; "word" and
#: "extension": an overlay's name and its file type.
ARGUMENTS = {
    "patient_id": "object",
    "series_id": "object",
    "visit_id": "object",
    "photo_id": "object",
    "user_id": "object",
    "invitation_id": "object",
    "analysis_id": "object",
    "token": "secret",
    "filename": "static",
    "name": "word",
    "ext": "extension",
}
#: Objects whose own file may legitimately not exist yet (an analysis still queued): 404 allowed.
MAY_BE_MISSING = {"analysis_id"}

TARGETS = ("own", "other_patient", "other_clinic", "guessed")


@dataclass
class Ids:
    own: dict[str, str]
    other_patient: dict[str, str]
    other_clinic: dict[str, str]
    guessed: dict[str, str]
    other_clinic_name: str
    other_patient_name: str


def collect_ids(app, site) -> Ids:
    res = resources(app)
    with res.session_factory() as s:
        bind_sink(s, res.queue)
        other_visit = s.scalar(select(Visit.id).where(Visit.series_id == site.other_series_id))
        clinic_b = s.scalar(select(Clinic).where(Clinic.id != site.clinic_id, Clinic.name == "Clinic B"))
        patient_b = s.scalar(select(Patient).where(Patient.clinic_id == clinic_b.id))
        series_b = s.scalar(select(TreatmentSeries.id).where(TreatmentSeries.patient_id == patient_b.id))
        tech_b = s.scalar(select(User).where(User.clinic_id == clinic_b.id, User.role == TECHNICIAN))
        inv_b, _ = invitations.create_invitation(s, tech_b, patient_b.id)
        s.commit()
        other_name = s.get(Patient, site.other_patient_id).full_name

        def analysis_of(photo_id: str) -> str:
            return s.scalar(select(Analysis.id).where(Analysis.photo_id == photo_id))
        ids = Ids(
            own={"patient_id": site.patient_id, "series_id": site.series_id, "visit_id": site.visit_id,
                 "photo_id": site.photo_id, "user_id": site.spare_tech_id, "invitation_id": site.invitation_id,
                 "analysis_id": analysis_of(site.photo_id)},
            other_patient={"patient_id": site.other_patient_id, "series_id": site.other_series_id,
                           "visit_id": other_visit, "photo_id": site.other_photo_id, "user_id": site.spare_tech_id,
                           "invitation_id": site.invitation_id, "analysis_id": analysis_of(site.other_photo_id)},
            other_clinic={"patient_id": patient_b.id, "series_id": series_b, "visit_id": site.other_clinic_visit_id,
                          "photo_id": site.other_clinic_photo_id, "user_id": tech_b.id, "invitation_id": inv_b.id,
                          "analysis_id": analysis_of(site.other_clinic_photo_id)},
            guessed={k: new_id() for k in ("patient_id", "series_id", "visit_id", "photo_id", "user_id",
                                           "invitation_id", "analysis_id")},
            other_clinic_name=patient_b.full_name, other_patient_name=other_name,
        )
    return ids


def clinic_rows(app, clinic_id: str) -> dict[str, list[tuple]]:
    """Everything stored for one clinic, to prove nothing of it changed."""
    out: dict[str, list[tuple]] = {}
    with resources(app).session_factory() as s:
        for model in (Patient, TreatmentSeries, Visit, Photo, User, Invitation, AuditEvent):
            rows = s.scalars(select(model).where(model.clinic_id == clinic_id))
            out[model.__tablename__] = sorted(
                tuple(str(getattr(r, c.key)) for c in model.__table__.columns) for r in rows)
    return out


def build_url(rule, values: dict[str, str]) -> str:
    path = rule.rule
    for name in rule.arguments:
        kind = ARGUMENTS[name]
        value = {"object": values.get(name), "secret": "A" * 43, "static": "css/app.css", "word": "redness",
                 "extension": "jpg"}[kind]
        path = re.sub(rf"<(?:[^<>:]+:)?{name}>", value, path)  # <name> or <converter:name>
    return path


def test_every_route_argument_is_declared(app):
    undeclared = {(r.endpoint, a) for r in app.url_map.iter_rules() for a in r.arguments if a not in ARGUMENTS}
    assert not undeclared, f"declare how to test these route arguments in ARGUMENTS: {sorted(undeclared)}"
    assert set(r.endpoint for r in app.url_map.iter_rules()) <= set(ROUTE_ACCESS), "a route has no access rule"


@pytest.fixture
def ids(app, site) -> Ids:
    return collect_ids(app, site)


def _client(app, template, role):
    client = app.test_client()
    if role != ANONYMOUS:
        client.set_cookie("session", template.cookies[role])
    return client


def test_no_object_is_reachable_outside_what_the_role_may_see(app, site, template, ids):
    res = resources(app)
    res.queue.run_pending(only=("make_derivatives",))
    with res.session_factory() as s:
        clinic_b = s.scalar(select(Clinic.id).where(Clinic.name == "Clinic B"))
    before_b = clinic_rows(app, clinic_b)
    checked = 0
    problems: list[str] = []
    for rule in app.url_map.iter_rules():
        object_args = [a for a in rule.arguments if ARGUMENTS.get(a) == "object"]
        if not object_args:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in ROLES:
                allowed = role in ROUTE_ACCESS[rule.endpoint]
                seen: dict[str, tuple[int, str]] = {}
                for target in ("guessed",) + tuple(t for t in TARGETS if t != "guessed"):
                    if method != "GET" and target == "own":
                        continue  # state-changing requests on one's own records are tested elsewhere
                    url = build_url(rule, getattr(ids, target))
                    response = _client(app, template, role).open(url, method=method, data={})
                    body = response.get_data()
                    response.close()
                    status, where = response.status_code, f"{method} {url} as {role} ({target})"
                    seen[target] = (status, response.headers.get("Location", ""))
                    checked += 1
                    not_theirs = target in ("guessed", "other_clinic") or (target == "other_patient"
                                                                          and role == PATIENT)
                    if status >= 500:
                        problems.append(f"{where}: {status}")
                    elif not allowed:
                        expected = (401 if url.startswith("/api/") else 302) if role == ANONYMOUS else 403
                        if status != expected:
                            problems.append(f"{where}: {status}, expected {expected} (role not allowed)")
                    elif not_theirs:
                        # Refused, and in exactly the way an id that exists nowhere is refused:
                        # nobody learns whether another clinic's record exists.
                        if method == "GET" and status not in (403, 404):
                            problems.append(f"{where}: {status}, expected 403/404 (not theirs)")
                        if 200 <= status < 300:
                            problems.append(f"{where}: {status} (not theirs, yet answered)")
                        if status != seen["guessed"][0]:
                            problems.append(f"{where}: {status} differs from a made-up id's {seen['guessed'][0]}")
                        for secret in (ids.other_clinic_name,) + ((ids.other_patient_name,) if role == PATIENT else ()):
                            if secret.encode() in body:
                                problems.append(f"{where}: the page names {secret!r}")
                    elif method == "GET" and status == 404 and not set(object_args) & MAY_BE_MISSING:
                        problems.append(f"{where}: 404 for a record the role may see")
    assert not problems, "\n".join(problems)
    assert checked > 200
    assert clinic_rows(app, clinic_b) == before_b, "a request from clinic A changed clinic B's records"
