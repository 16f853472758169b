"""What clinics expect of the staff pages: review before patients see, notes on photos,
forms that start from sensible values, one id per element."""

from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import select

from tests.services.factories import jpeg_bytes
from tracker.models import AuditEvent, User
from tracker.services.intake import PhotoTags, ingest_photo

from .conftest import resources


def text(response) -> str:
    return response.get_data(as_text=True)


def test_a_new_upload_waits_for_review_and_the_technician_releases_it(app, clients, site, db):
    res = resources(app)
    tech = db.scalar(select(User).where(User.email == site.tech_email))
    photo = ingest_photo(db, res.storage, tech, site.visit_id, jpeg_bytes(seed=77),
                         filename="new.jpg", tags=PhotoTags(view="front", time_point="before"), limits=res.limits)
    db.commit()
    assert photo.id not in text(clients["patient"].get("/me"))
    assert clients["patient"].get(f"/me/photos/{photo.id}").status_code == 404
    series_page = text(clients["technician"].get(f"/series/{site.series_id}"))
    assert f'/visits/{site.visit_id}/review' in series_page and "release to patient" in series_page

    released = clients["technician"].post(f"/visits/{site.visit_id}/review")
    assert released.status_code == 302
    assert photo.id in text(clients["patient"].get("/me"))
    assert clients["patient"].get(f"/me/photos/{photo.id}").status_code == 200
    assert clients["patient"].post(f"/visits/{site.visit_id}/review").status_code == 403
    db.expire_all()
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "visit.reviewed",
                                              AuditEvent.object_id == site.visit_id)) is not None


def test_staff_notes_on_a_photo_are_kept_and_never_shown_to_the_patient(clients, site):
    saved = clients["technician"].post(f"/photos/{site.photo_id}/notes", data={"body": "Make-up on the left cheek"})
    assert saved.status_code == 302
    page = text(clients["technician"].get(f"/photos/{site.photo_id}"))
    assert "Make-up on the left cheek" in page and "staff only" in page
    assert "Make-up on the left cheek" not in text(clients["patient"].get(f"/me/photos/{site.photo_id}"))
    assert clients["patient"].post(f"/photos/{site.photo_id}/notes", data={"body": "x"}).status_code == 403
    empty = clients["technician"].post(f"/photos/{site.photo_id}/notes", data={"body": "  "}, follow_redirects=True)
    assert "Write the note first." in text(empty)


def test_the_photo_page_uses_each_id_once(clients, site):
    page = text(clients["technician"].get(f"/photos/{site.photo_id}"))
    ids = Counter(re.findall(r'\sid="([^"]+)"', page))
    assert [i for i, n in ids.items() if n > 1] == []


def test_consent_dates_are_entered_not_prefilled(clients, site):
    page = text(clients["technician"].get(f"/patients/{site.patient_id}"))
    dates = re.findall(r'<input type="date"[^>]*name="on"[^>]*>', page)
    assert dates and all("value=" not in d and "required" in d for d in dates)
    refused = clients["technician"].post(f"/patients/{site.patient_id}/consents",
                                         data={"kind": "marketing", "action": "grant", "on": ""},
                                         follow_redirects=True)
    assert "Choose the consent and a valid date." in text(refused)


def test_a_new_series_starts_with_the_full_face_ticked(clients, site):
    page = text(clients["technician"].get(f"/patients/{site.patient_id}/series/new"))
    ticked = re.findall(r'<input[^>]*checked[^>]*value="([a-z_]+)"|<input[^>]*value="([a-z_]+)"[^>]*checked', page)
    assert [a or b for a, b in ticked] == ["full_face"]


def test_capture_picks_the_time_point_from_the_visit_kind(app, clients, site, db):
    import datetime as dt

    from tracker.services import series as series_svc

    tech = db.scalar(select(User).where(User.email == site.tech_email))
    follow = series_svc.create_visit(db, tech, site.series_id, series_svc.VisitInput(
        kind="follow_up", visit_date=dt.date.today()))
    db.commit()
    session_page = text(clients["technician"].get(f"/visits/{site.visit_id}/capture"))
    follow_page = text(clients["technician"].get(f"/visits/{follow.id}/capture"))
    assert re.search(r'<option value="before" selected>', session_page)
    assert re.search(r'<option value="follow_up" selected>', follow_page)
    assert "not today" in session_page and "not today" not in follow_page
    # The series page's "Take photos" opens today's visit.
    series_page = text(clients["technician"].get(f"/series/{site.series_id}"))
    assert f"/visits/{follow.id}/capture" in series_page and "Take photos (today&#39;s visit)" in series_page
