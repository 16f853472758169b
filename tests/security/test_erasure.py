"""Erasing a patient: clinic admin only, confirmed by the name; records, originals and
previews go (a file shared with another patient stays); the audit log keeps that it happened."""

from __future__ import annotations

import io

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.services.factories import jpeg_bytes
from tracker.models import AuditEvent, Consent, Invitation, Patient, Photo, TreatmentSeries, User, Visit
from tracker.services.integrity import verify_integrity

from .conftest import audit_actions, resources

NAME = "Patient A"


def _upload(client, visit_id, data, name="x.jpg"):
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename=name),
                                       "view": "front", "time_point": "before"})
    return client.post(f"/api/visits/{visit_id}/photos", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _patient_files(app, patient_id):
    with resources(app).session_factory() as s:
        photos = list(s.scalars(select(Photo).where(Photo.patient_id == patient_id)))
    return {k for p in photos for k in (p.original_key, p.thumb_key, p.display_key) if k}


def test_only_a_clinic_admin_typing_the_name_can_erase(app, site, clients):
    url = f"/clinic/patients/{site.patient_id}/erase"
    assert clients["technician"].get(url).status_code == 403
    assert clients["technician"].post(url, data={"confirm_name": NAME}).status_code == 403
    assert clients["patient"].post(url, data={"confirm_name": NAME}).status_code == 403
    page = clients["clinic_admin"].get(url)
    assert page.status_code == 200 and "cannot be undone" in page.get_data(as_text=True)
    wrong = clients["clinic_admin"].post(url, data={"confirm_name": "Patient B"})
    assert wrong.status_code == 400 and "Type the patient" in wrong.get_data(as_text=True)
    with resources(app).session_factory() as s:
        assert s.get(Patient, site.patient_id) is not None
    assert "Erase this patient" in clients["clinic_admin"].get(f"/patients/{site.patient_id}").get_data(as_text=True)
    assert "Erase this patient" not in clients["technician"].get(f"/patients/{site.patient_id}").get_data(as_text=True)


def test_erasure_removes_records_and_files_keeps_shared_files_and_the_fact(app, site, clients):
    res = resources(app)
    tech = clients["technician"]
    # The other patient has a photo with the very same bytes as one of this patient's.
    with res.session_factory() as s:
        other_visit = s.scalar(select(Visit.id).where(Visit.series_id == site.other_series_id))
    shared = _upload(tech, other_visit, jpeg_bytes(seed=1))
    assert shared.status_code == 201
    res.queue.run_pending(only=("make_derivatives",))
    mine = _patient_files(app, site.patient_id)
    theirs = _patient_files(app, site.other_patient_id)
    shared_key = mine & theirs
    assert len(mine) == 6 and len(shared_key) == 1
    clients["patient"].get(f"/media/{site.photo_id}/thumb.jpg").close()

    response = clients["clinic_admin"].post(f"/clinic/patients/{site.patient_id}/erase",
                                            data={"confirm_name": "  patient   a "})
    assert response.status_code == 302 and response.headers["Location"] == "/patients"

    with res.session_factory() as s:
        for model, column in ((Patient, Patient.id), (Photo, Photo.patient_id), (User, User.patient_id),
                              (TreatmentSeries, TreatmentSeries.patient_id), (Consent, Consent.patient_id),
                              (Invitation, Invitation.patient_id)):
            assert s.scalar(select(func.count()).select_from(model).where(column == site.patient_id)) == 0, model
        assert s.scalar(select(func.count()).select_from(Visit).where(Visit.series_id == site.series_id)) == 0
        assert s.get(Patient, site.other_patient_id) is not None
        report = verify_integrity(s, res.storage)
    stored = set(res.storage.iter_keys())
    assert not (mine - shared_key) & stored, "the patient's own files are still stored"
    assert theirs <= stored, "the other patient's files (including the shared original) must stay"
    assert report.ok and not report.orphans

    # The patient can no longer sign in or see anything.
    gone = clients["patient"].get("/me")
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    assert clients["technician"].get(f"/patients/{site.patient_id}").status_code == 404

    # The audit log keeps that it happened, by whom, without the name.
    erased = audit_actions(app, "patient.erased")[-1]
    with res.session_factory() as s:
        admin_id = s.scalar(select(User.id).where(User.email == site.admin_email))
        about = list(s.scalars(select(AuditEvent).where(AuditEvent.object_id == site.patient_id)))
    assert erased.actor_id == admin_id and erased.object_id == site.patient_id
    assert erased.detail["photos"] == 2 and erased.detail["originals_kept_shared"] == 1
    assert len(about) >= 3 and not any(NAME in str(e.detail) for e in about)
    csv_text = clients["clinic_admin"].get("/clinic/activity.csv").get_data(as_text=True)
    assert "patient.erased" in csv_text and NAME not in csv_text
