"""Review before patients see: a visit's photos reach the patient once a technician reviewed it."""

from __future__ import annotations

import pytest

from tracker.models import AuditEvent
from tracker.models.vocabulary import PATIENT
from tracker.services import access, gallery, invitations, review
from tracker.services.errors import Forbidden, NotFound
from tracker.services.intake import PhotoTags, ingest_photo

from .factories import PASSWORD, jpeg_bytes


@pytest.fixture
def patient_user(db, world):
    _, token = invitations.create_invitation(db, world.tech, world.patient.id)
    user = invitations.accept_invitation(db, token, email="me@a.test", password=PASSWORD + "!")
    db.commit()
    assert user.role == PATIENT
    return user


def _upload(db, storage, limits, world, seed):
    photo = ingest_photo(db, storage, world.tech, world.visits[0].id, jpeg_bytes(seed=seed), filename=f"{seed}.jpg",
                         tags=PhotoTags(view="front", time_point="before"), limits=limits)
    db.commit()
    return photo


def _patient_sees(db, patient_user, world) -> set[str]:
    grid = gallery.series_grid(db, patient_user, world.series.id)
    return {p.id for row in grid.rows for cell in row.cells for p in cell}


def test_a_new_photo_reaches_the_patient_only_after_the_visit_is_reviewed(db, storage, limits, world, patient_user):
    photo = _upload(db, storage, limits, world, 1)
    assert _patient_sees(db, patient_user, world) == set()
    with pytest.raises(NotFound):
        access.get_photo(db, patient_user, photo.id)
    assert {p.id for row in gallery.series_grid(db, world.tech, world.series.id).rows
            for cell in row.cells for p in cell} == {photo.id}  # staff see it at once

    review.mark_reviewed(db, world.tech, world.visits[0].id)
    db.commit()
    assert _patient_sees(db, patient_user, world) == {photo.id}
    assert access.get_photo(db, patient_user, photo.id).id == photo.id
    events = db.query(AuditEvent).filter_by(action="visit.reviewed", object_id=world.visits[0].id).all()
    assert len(events) == 1 and events[0].actor_id == world.tech.id


def test_a_photo_added_after_the_review_waits_for_the_next_one(db, storage, limits, world, patient_user):
    first = _upload(db, storage, limits, world, 1)
    review.mark_reviewed(db, world.tech, world.visits[0].id)
    db.commit()
    later = _upload(db, storage, limits, world, 2)
    assert _patient_sees(db, patient_user, world) == {first.id}
    assert [v.id for v in review.unreviewed_visits(db, world.series.id)] == [world.visits[0].id]
    review.mark_reviewed(db, world.tech, world.visits[0].id)
    db.commit()
    assert _patient_sees(db, patient_user, world) == {first.id, later.id}
    assert review.unreviewed_visits(db, world.series.id) == []


def test_only_staff_review_and_only_admins_set_publishing(db, world, patient_user):
    with pytest.raises(Forbidden):
        review.mark_reviewed(db, patient_user, world.visits[0].id)
    with pytest.raises(Forbidden):
        review.set_publishing(db, world.tech, auto_publish=True, patient_details=False)
    review.set_publishing(db, world.admin, auto_publish=True, patient_details=True)
    db.commit()
    settings = review.settings_of(db, world.clinic.id)
    assert settings.auto_publish and settings.patient_details
    assert db.query(AuditEvent).filter_by(action="clinic.publishing_set").count() == 1


def test_auto_publish_waits_for_a_measured_comparable_photo(db, storage, limits, world, patient_user):
    review.set_publishing(db, world.admin, auto_publish=True, patient_details=False)
    photo = _upload(db, storage, limits, world, 1)
    # Queued, not yet measured: nothing to publish automatically.
    assert _patient_sees(db, patient_user, world) == set()
    assert photo.id not in review.visible_photo_ids(db, patient_user, [photo])
