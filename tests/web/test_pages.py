"""What people see and do on the pages: series grid, photo corrections, invitations, galleries."""

from __future__ import annotations

import base64
import re

from sqlalchemy import select

from tracker.models import AuditEvent, Photo

from .conftest import PATIENT_PASSWORD, login


def text(response) -> str:
    return response.get_data(as_text=True)


def test_series_page_shows_views_across_visits_with_dates_and_baseline(clients, site):
    page = text(clients["technician"].get(f"/series/{site.series_id}"))
    assert "Fractional CO2: full face" in page
    assert "Session 1" in page and "Session 2" in page
    assert "10 Jan 2024" in page and "10 Apr 2024" in page
    assert "91 days since previous session" in page
    assert "Session 3 due 10 Jul 2024" in page
    assert page.count('class="thumb is-baseline"') == 1 and ">baseline<" in page
    assert page.count("/thumb.jpg") == 2
    assert f"/visits/{site.visit_id}/upload" in page


def test_series_page_labels_a_later_baseline_and_shows_empty_views(app, clients, site, db):
    tech = clients["technician"]
    # Make the session 2 photo the baseline: it is labelled with its session.
    second = db.scalar(select(Photo).where(Photo.series_id == site.series_id, Photo.id != site.photo_id))
    assert tech.post(f"/photos/{second.id}/baseline").status_code == 302
    page = text(tech.get(f"/series/{site.series_id}"))
    assert "baseline: session 2" in page and "(chosen)" in page
    # A new series has an empty front row with an invitation to upload.
    created = tech.post(f"/patients/{site.patient_id}/series/new",
                        data={"treatment_type": "erbium", "treated_areas": ["forehead"], "planned_sessions": "3",
                              "interval_days": "91"})
    series_url = created.headers["Location"]
    tech.post(f"{series_url}/visits/new", data={"kind": "treatment", "visit_date": "2024-03-01",
                                                "anaesthesia": "none"})
    page = text(tech.get(series_url))
    assert "No photos yet for this view" in page and "Upload the first one" in page


def test_photo_page_shows_the_large_image_tags_and_baseline(clients, site):
    page = text(clients["technician"].get(f"/photos/{site.photo_id}"))
    assert f"/media/{site.photo_id}/display.jpg" in page
    assert "Front" in page and "Before treatment" in page and "Session 1" in page
    assert "This photo is the baseline of its view" in page
    image = clients["technician"].get(f"/media/{site.photo_id}/display.jpg")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert image.data[:3] == b"\xff\xd8\xff"
    image.close()


def test_retag_and_delete_through_the_page_are_recorded(app, clients, site, db):
    tech = clients["technician"]
    moved = tech.post(f"/photos/{site.photo_id}/retag", data={
        "visit_id": site.visit_id, "view": "closeup", "region": "Chin", "time_point": "before",
        "reason": "it is a close-up"})
    assert moved.status_code == 302
    page = text(tech.get(f"/photos/{site.photo_id}"))
    assert "Close-up: chin" in page and "re-filed" in page and "it is a close-up" in page
    refused = tech.post(f"/photos/{site.photo_id}/delete", data={"reason": ""})
    assert refused.status_code == 302 and db.get(Photo, site.photo_id) is not None
    deleted = tech.post(f"/photos/{site.photo_id}/delete", data={"reason": "wrong patient"})
    assert deleted.status_code == 302 and deleted.headers["Location"] == f"/series/{site.series_id}"
    db.expire_all()
    assert db.get(Photo, site.photo_id) is None
    actions = [e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.object_id == site.photo_id))]
    assert "photo.retagged" in actions and "photo.deleted" in actions
    assert tech.get(f"/photos/{site.photo_id}").status_code == 404
    activity = text(clients["clinic_admin"].get("/clinic/activity"))
    assert "wrong patient" in activity


def test_a_photo_can_be_moved_to_another_patient(clients, site, db):
    from tracker.models import Visit

    tech = clients["technician"]
    other_visit = db.scalar(select(Visit).where(Visit.series_id == site.other_series_id))
    page = text(tech.get(f"/photos/{site.photo_id}?move_to={site.other_patient_id}"))
    assert "Moving this photo to" in page and "Other Patient" in page
    assert f'value="{other_visit.id}"' in page and f'value="{site.visit_id}"' not in page
    response = tech.post(f"/photos/{site.photo_id}/retag", data={
        "visit_id": other_visit.id, "view": "front", "time_point": "before", "reason": "wrong patient"})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Photo, site.photo_id).patient_id == site.other_patient_id
    # The patient it was filed under no longer sees it.
    assert clients["patient"].get(f"/me/photos/{site.photo_id}").status_code == 404


def test_invitation_link_and_qr_are_shown_once_and_work_once(app, clients, site):
    admin = clients["clinic_admin"]
    page = text(admin.post(f"/patients/{site.other_patient_id}/invitations"))
    link = re.search(r'id="invite-link" value="([^"]+)"', page).group(1)
    assert "/invite/" in link and "works once" in page
    qr = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page).group(1)
    assert b"<svg" in base64.b64decode(qr)
    path = link.split("localhost", 1)[1]
    visitor = app.test_client()
    form = text(visitor.get(path))
    assert "Welcome, Other Patient" in form
    done = visitor.post(path, data={"email": "other@example.org", "new_password": "their own password",
                                    "confirm": "their own password"})
    assert done.status_code == 302 and done.headers["Location"] == "/me"
    assert "Your treatment photos" in text(visitor.get("/me"))
    again = app.test_client().get(path)
    assert again.status_code == 410 and "already been used" in text(again)
    # The patient page now shows the account.
    assert "other@example.org" in text(admin.get(f"/patients/{site.other_patient_id}"))


def test_mismatched_invitation_passwords_are_caught(app, site):
    response = app.test_client().post(f"/invite/{site.invitation_token}", data={
        "email": "x@example.org", "new_password": "one long password", "confirm": "another password"})
    assert response.status_code == 200 and "The passwords differ." in text(response)


def test_patient_sees_own_gallery_and_nothing_else(clients, site):
    patient = clients["patient"]
    home = text(patient.get("/me"))
    assert "Fractional CO2: full face" in home and f"/me/photos/{site.photo_id}" in home
    assert site.other_photo_id not in home
    own = patient.get(f"/media/{site.photo_id}/thumb.jpg")
    assert own.status_code == 200
    own.close()
    for url in (f"/media/{site.other_photo_id}/thumb.jpg", f"/media/{site.other_photo_id}/display.jpg",
                f"/me/photos/{site.other_photo_id}", f"/me/series/{site.other_series_id}",
                f"/media/{site.other_clinic_photo_id}/thumb.jpg"):
        response = patient.get(url)
        response.close()
        assert response.status_code == 404, url
    for url in (f"/photos/{site.other_photo_id}", f"/series/{site.other_series_id}", "/patients",
                f"/photos/{site.other_photo_id}/original"):
        assert patient.get(url).status_code == 403, url


def test_staff_of_another_clinic_get_404(app, clients, site):
    tech = clients["technician"]
    for url in (f"/media/{site.other_clinic_photo_id}/thumb.jpg", f"/photos/{site.other_clinic_photo_id}",
                f"/visits/{site.other_clinic_visit_id}/upload"):
        response = tech.get(url)
        response.close()
        assert response.status_code == 404, url
    assert "Page not found" in text(tech.get(f"/photos/{site.other_clinic_photo_id}"))


def test_new_patient_with_consent_and_a_visit_then_upload_page(clients, site):
    tech = clients["technician"]
    created = tech.post("/patients/new", data={
        "full_name": "Jo Newcomer", "date_of_birth": "1988-08-08", "fitzpatrick": "5",
        "concerns": ["melasma", "pores"], "photography_consent_on": "2024-05-01"})
    assert created.status_code == 302
    patient_page = text(tech.get(created.headers["Location"]))
    assert "Jo Newcomer" in patient_page and "given 1 May 2024" in patient_page and "Melasma" in patient_page
    bad = tech.post("/patients/new", data={"full_name": "", "date_of_birth": "2999-01-01", "fitzpatrick": "3"})
    assert bad.status_code == 200 and "This field is required." in text(bad)


def test_clinic_admin_adds_a_technician_who_must_change_the_password(app, clients):
    admin = clients["clinic_admin"]
    page = text(admin.post("/clinic/staff/new", data={"full_name": "Sam Laser", "email": "sam@a.test",
                                                      "role": "technician"}))
    temporary = re.search(r'id="temporary-password">([^<]+)<', page).group(1)
    assert "Sam Laser" in text(admin.get("/clinic/staff"))
    sam = login(app.test_client(), "sam@a.test", temporary)
    assert sam.get("/patients").headers["Location"] == "/account/password"


def test_patient_password_is_the_one_chosen_at_invitation(app, site):
    client = login(app.test_client(), site.patient_email, PATIENT_PASSWORD)
    assert client.get("/").headers["Location"] == "/me"


def test_error_pages_share_the_look(clients):
    missing = clients["technician"].get("/no/such/page")
    assert missing.status_code == 404 and "Page not found" in text(missing) and "app.css" in text(missing)
    forbidden = clients["patient"].get("/patients")
    assert forbidden.status_code == 403 and "do not have access" in text(forbidden)
    assert clients["anonymous"].get("/").status_code == 302
    assert clients["anonymous"].get("/login").status_code == 200


def test_upload_page_has_drop_zone_picker_and_limits(clients, site):
    page = text(clients["technician"].get(f"/visits/{site.visit_id}/upload"))
    assert 'id="dropzone"' in page and 'type="file"' in page and "multiple" in page
    assert "up to 40 MB each" in page and "/static/js/upload.js" in page
    blocked = text(clients["technician"].get(f"/visits/{site.no_consent_visit_id}/upload"))
    assert "no clinical photography consent" in blocked and 'id="dropzone"' not in blocked



def test_a_view_whose_before_photos_all_failed_quality_asks_for_a_retake(app, clients, site, db):
    from tracker.models import Analysis, utcnow
    from tracker.services import baselines

    for row in db.scalars(select(Analysis)):
        row.state, row.error, row.finished_at = "refused", "too blurred: retake", utcnow()
    db.commit()
    photo = db.get(Photo, site.photo_id)
    baselines.refresh_baseline(db, baselines.key_of(photo), clinic_id=photo.clinic_id)
    db.commit()
    page = text(clients["technician"].get(f"/series/{site.series_id}"))
    assert "needs a retake" in page and page.count("retake advised") == 2
    assert 'class="thumb is-baseline"' not in page
    photo_page = text(clients["technician"].get(f"/photos/{site.photo_id}"))
    assert "retake needed" in photo_page and "too blurred: retake" in photo_page
    # Patients are not shown the staff's retake flags.
    assert "retake advised" not in text(clients["patient"].get("/me"))


def test_staff_can_stop_and_allow_a_patients_sign_in(app, clients, site):
    tech, patient = clients["technician"], clients["patient"]
    assert patient.get("/me").status_code == 200
    assert tech.post(f"/patients/{site.patient_id}/access", data={"active": "0"}).status_code == 302
    assert "sign-in stopped" in text(tech.get(f"/patients/{site.patient_id}"))
    assert patient.get("/me").headers["Location"].startswith("/login")  # the open session ended
    refused = app.test_client().post("/login", data={"email": site.patient_email, "password": PATIENT_PASSWORD})
    assert refused.status_code == 401 and "deactivated" in text(refused)
    tech.post(f"/patients/{site.patient_id}/access", data={"active": "1"})
    login(app.test_client(), site.patient_email, PATIENT_PASSWORD)


def test_invitation_errors_appear_next_to_the_field(app, site):
    client = app.test_client()
    taken = client.post(f"/invite/{site.invitation_token}", data={
        "email": site.tech_email, "new_password": "a long password 1", "confirm": "a long password 1"})
    assert taken.status_code == 200 and "cannot be used for a new account" in text(taken)
    # Nothing was used up: the patient can still accept with their own address.
    ok = client.post(f"/invite/{site.invitation_token}", data={
        "email": "sam.other@example.org", "new_password": "a long password 1", "confirm": "a long password 1"})
    assert ok.status_code == 302
