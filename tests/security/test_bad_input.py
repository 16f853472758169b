"""Forms and the JSON API with bad input: wrong types, missing fields, overlong text, future
dates, unknown values. Each gets a clear message next to the form (or in the JSON), never a
500, and nothing is stored."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.services.factories import jpeg_bytes
from tracker.models import AuditEvent, Consent, Patient, Photo, TreatmentSeries, User, Visit

from .conftest import resources

TODAY = dt.date.today()
FUTURE = (TODAY + dt.timedelta(days=30)).isoformat()
FAR_FUTURE = (TODAY + dt.timedelta(days=800)).isoformat()

PATIENT = {"full_name": "New Person", "date_of_birth": "1990-01-01", "fitzpatrick": "3"}
SERIES = {"treatment_type": "fractional_co2", "treated_areas": "full_face", "planned_sessions": "3",
          "interval_days": "90"}
VISIT = {"kind": "treatment", "visit_date": TODAY.isoformat(), "anaesthesia": "none"}
STAFF = {"full_name": "New Tech", "email": "newtech@a.test", "role": "technician"}

#: (what, url template, valid form, changes, words the message must contain, table that must not grow)
FORM_CASES = [
    ("patient: missing name", "/patients/new", PATIENT, {"full_name": ""}, "required", Patient),
    ("patient: overlong name", "/patients/new", PATIENT, {"full_name": "x" * 201}, "200 characters", Patient),
    ("patient: future birth date", "/patients/new", PATIENT, {"date_of_birth": FUTURE}, "future", Patient),
    ("patient: birth date not a date", "/patients/new", PATIENT, {"date_of_birth": "last tuesday"},
     "not a valid date", Patient),
    ("patient: unknown skin type", "/patients/new", PATIENT, {"fitzpatrick": "9"}, "not a valid choice", Patient),
    ("patient: skin type of the wrong type", "/patients/new", PATIENT, {"fitzpatrick": "brown"}, "choice",
     Patient),
    ("patient: unknown concern", "/patients/new", PATIENT, {"concerns": "world_peace"}, "not a valid choice",
     Patient),
    ("patient: overlong notes", "/patients/new", PATIENT, {"concerns_notes": "n" * 2001}, "2000 characters",
     Patient),
    ("patient: future consent date", "/patients/new", PATIENT, {"photography_consent_on": FUTURE}, "future",
     Consent),
    ("series: unknown treatment", "/patients/{patient_id}/series/new", SERIES, {"treatment_type": "magic"},
     "not a valid choice", TreatmentSeries),
    ("series: no treated area", "/patients/{patient_id}/series/new", SERIES, {"treated_areas": None},
     "treated area", TreatmentSeries),
    ("series: 99 sessions", "/patients/{patient_id}/series/new", SERIES, {"planned_sessions": "99"},
     "between 1 and 12", TreatmentSeries),
    ("series: sessions not a number", "/patients/{patient_id}/series/new", SERIES, {"planned_sessions": "three"},
     "not a valid integer", TreatmentSeries),
    ("visit: two years ahead", "/series/{series_id}/visits/new", VISIT, {"visit_date": FAR_FUTURE},
     "more than a year ahead", Visit),
    ("visit: missing date", "/series/{series_id}/visits/new", VISIT, {"visit_date": ""}, "required", Visit),
    ("visit: unknown kind", "/series/{series_id}/visits/new", VISIT, {"kind": "party"}, "not a valid choice", Visit),
    ("visit: energy not a number", "/series/{series_id}/visits/new", VISIT, {"energy_mj": "lots"},
     "not a valid float", Visit),
    ("visit: density over 100 %", "/series/{series_id}/visits/new", VISIT, {"density_pct": "150"},
     "between 0 and 100", Visit),
    ("visit: overlong notes", "/series/{series_id}/visits/new", VISIT, {"notes": "n" * 4001}, "4000 characters",
     Visit),
    ("staff: unknown role", "/clinic/staff/new", STAFF, {"role": "superuser"}, "not a valid choice", User),
    ("staff: not an email", "/clinic/staff/new", STAFF, {"email": "not-an-email"}, "email", User),
    ("staff: overlong name", "/clinic/staff/new", STAFF, {"full_name": "y" * 201}, "200 characters", User),
]


#: The error list next to a field, or an error banner.
ERROR_TEXT = re.compile(r'<ul class="errors">(.*?)</ul>|class="flash error"[^>]*>(.*?)</div>', re.S)


def _count(app, model) -> int:
    with resources(app).session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("case", FORM_CASES, ids=[c[0] for c in FORM_CASES])
def test_bad_form_input_gets_a_clear_message_and_stores_nothing(app, site, clients, case):
    what, url, valid, changes, words, model = case
    client = clients["clinic_admin"]
    url = url.format(patient_id=site.patient_id, series_id=site.series_id)
    before = (_count(app, model), _count(app, AuditEvent))
    form = {**valid, **changes}
    response = client.post(url, data={k: v for k, v in form.items() if v is not None})
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 400), (what, response.status_code)
    shown = " ".join(a or b for a, b in ERROR_TEXT.findall(html)).lower()
    assert words.lower() in shown, f"{what}: no clear message ({words!r}); errors shown: {shown!r}"
    assert (_count(app, model), _count(app, AuditEvent)) == before, f"{what}: something was stored"


def test_the_valid_forms_of_the_table_are_accepted(app, site, clients):
    """The bad cases above differ from these by one field only: these go through."""
    client = clients["clinic_admin"]
    before = {m: _count(app, m) for m in (Patient, TreatmentSeries, Visit, User)}
    assert client.post("/patients/new", data=PATIENT).status_code == 302
    assert client.post(f"/patients/{site.patient_id}/series/new", data=SERIES).status_code == 302
    assert client.post(f"/series/{site.series_id}/visits/new", data=VISIT).status_code == 302
    assert client.post("/clinic/staff/new", data=STAFF).status_code == 200  # shows the temporary password
    assert {m: _count(app, m) - n for m, n in before.items()} == {Patient: 1, TreatmentSeries: 1, Visit: 1, User: 1}


API_CASES = [
    ("no file", {"view": "front", "time_point": "before"}, 422, "no file"),
    ("unknown view", {"view": "ceiling", "time_point": "before"}, 400, "choose the view"),
    ("missing time point", {"view": "front"}, 400, "time point"),
    ("unknown time point", {"view": "front", "time_point": "yesterday"}, 400, "time point"),
    ("days after not a number", {"view": "front", "time_point": "after", "days_after": "three"}, 422,
     "whole number"),
    ("days after absurd", {"view": "front", "time_point": "after", "days_after": "99999"}, 400,
     "between 0 and 3650"),
    ("negative days after", {"view": "front", "time_point": "after", "days_after": "-4"}, 400,
     "between 0 and 3650"),
    ("close-up without region", {"view": "closeup", "time_point": "before"}, 400, "region"),
    ("overlong region", {"view": "closeup", "region": "r" * 500, "time_point": "before"}, 400, "too long"),
    ("follow-up tag on a treatment session", {"view": "front", "time_point": "follow_up"}, 400,
     "before or after"),
]


@pytest.mark.parametrize("case", API_CASES, ids=[c[0] for c in API_CASES])
def test_bad_api_input_gets_a_clear_json_message_and_stores_nothing(app, site, clients, case):
    what, fields, status, words = case
    form: dict[str, object] = dict(fields)
    if what != "no file":
        form["file"] = FileStorage(io.BytesIO(jpeg_bytes(seed=300 + len(what))), filename="p.jpg")
    boundary, body = encode_multipart(form)
    before = (_count(app, Photo), sorted(resources(app).storage.iter_keys()))
    response = clients["technician"].post(f"/api/visits/{site.visit_id}/photos", data=body,
                                          content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == status, (what, response.get_json())
    assert words in response.get_json()["error"].lower(), (what, response.get_json())
    assert (_count(app, Photo), sorted(resources(app).storage.iter_keys())) == before


def test_the_api_refuses_a_json_body_and_a_wrong_method_clearly(clients, site):
    client = clients["technician"]
    response = client.post(f"/api/visits/{site.visit_id}/photos", json={"file": "data:image/jpeg;base64,AAAA"})
    assert response.status_code == 422 and "no file" in response.get_json()["error"].lower()
    wrong = client.get(f"/api/visits/{site.visit_id}/photos")
    assert wrong.status_code == 405 and wrong.get_json()["error"]
