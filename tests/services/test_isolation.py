"""Clinic isolation and patient privacy, enforced in the services (no HTTP involved)."""

from __future__ import annotations

import pytest

from tracker.services import access, gallery, invitations, patients, photos as photo_svc, review
from tracker.services.errors import Forbidden, NotFound
from tracker.services.intake import PhotoTags, ingest_photo

from .factories import add_patient_with_series, jpeg_bytes, make_world


@pytest.fixture
def two_clinics(db):
    return make_world(db, name="Clinic A", prefix="a"), make_world(db, name="Clinic B", prefix="b")


def test_staff_of_clinic_b_cannot_fetch_clinic_a_records(db, storage, limits, two_clinics):
    a, b = two_clinics
    photo = ingest_photo(db, storage, a.tech, a.visits[0].id, jpeg_bytes(seed=1), filename="a.jpg",
                         tags=PhotoTags(view="front", time_point="before"), limits=limits)
    for fetch, obj_id in ((access.get_patient, a.patient.id), (access.get_series, a.series.id),
                          (access.get_visit, a.visits[0].id), (access.get_photo, photo.id)):
        with pytest.raises(NotFound):
            fetch(db, b.tech, obj_id)
        with pytest.raises(NotFound):
            fetch(db, b.admin, obj_id)
        assert fetch(db, a.tech, obj_id).id == obj_id
    assert [p.id for p in patients.list_patients(db, b.tech)] == [b.patient.id]
    with pytest.raises(NotFound):
        gallery.series_grid(db, b.tech, a.series.id)
    with pytest.raises(NotFound):
        ingest_photo(db, storage, b.tech, a.visits[0].id, jpeg_bytes(seed=2), filename="x.jpg",
                     tags=PhotoTags(view="front", time_point="before"), limits=limits)
    with pytest.raises(NotFound):
        photo_svc.delete_photo(db, storage, b.tech, photo.id)
    with pytest.raises(NotFound):
        invitations.create_invitation(db, b.admin, a.patient.id)
    assert storage.exists(photo.original_key)


def test_a_patient_sees_only_their_own_records(db, storage, limits, world):
    other, other_series, other_visit = add_patient_with_series(db, world.tech, "Other Person")
    mine = ingest_photo(db, storage, world.tech, world.visits[0].id, jpeg_bytes(seed=3), filename="m.jpg",
                        tags=PhotoTags(view="front", time_point="before"), limits=limits)
    theirs = ingest_photo(db, storage, world.tech, other_visit.id, jpeg_bytes(seed=4), filename="t.jpg",
                          tags=PhotoTags(view="front", time_point="before"), limits=limits)
    _, token = invitations.create_invitation(db, world.tech, world.patient.id)
    me = invitations.accept_invitation(db, token, email="me@example.org", password="a long password 1")
    db.commit()
    with pytest.raises(NotFound):  # not yet reviewed: the patient does not see it
        access.get_photo(db, me, mine.id)
    review.mark_reviewed(db, world.tech, world.visits[0].id)
    review.mark_reviewed(db, world.tech, other_visit.id)  # reviewed, yet still not theirs
    db.commit()
    assert access.get_photo(db, me, mine.id).id == mine.id
    assert access.get_series(db, me, world.series.id).id == world.series.id
    for fetch, obj_id in ((access.get_photo, theirs.id), (access.get_series, other_series.id),
                          (access.get_patient, other.id), (access.get_visit, other_visit.id)):
        with pytest.raises(NotFound):
            fetch(db, me, obj_id)
    # Patients cannot use staff actions even on their own records.
    with pytest.raises(Forbidden):
        photo_svc.delete_photo(db, storage, me, mine.id)
    with pytest.raises(Forbidden):
        patients.list_patients(db, me)


def test_a_deactivated_technician_loses_access(db, world):
    from tracker.services import accounts

    accounts.set_staff_active(db, world.admin, world.tech.id, False)
    db.commit()
    with pytest.raises(NotFound):
        access.get_patient(db, world.tech, world.patient.id)
