"""Staff corrections: re-tag and delete a mis-filed photo; both are recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tracker.models import Analysis, AuditEvent, Photo
from tracker.services import audit, patients
from tracker.services.errors import ConsentRequired, DuplicatePhoto
from tracker.services.intake import PhotoTags, ingest_photo

from .factories import add_patient_with_series, jpeg_bytes
from tracker.services import photos as photo_svc


def _upload(db, storage, world, limits, seed, visit=None):
    return ingest_photo(db, storage, world.tech, (visit or world.visits[0]).id, jpeg_bytes(seed=seed),
                        filename="p.jpg", tags=PhotoTags(view="front", time_point="before"), limits=limits)


def test_retag_to_another_patient_is_recorded_with_before_and_after(db, storage, queue, world, limits):
    photo = _upload(db, storage, world, limits, 1)
    other, other_series, other_visit = add_patient_with_series(db, world.tech, "Right Patient")
    photo_svc.retag_photo(db, world.tech, photo.id, visit_id=other_visit.id,
                          tags=PhotoTags(view="left_profile", time_point="before"), reason="wrong patient")
    db.commit()
    db.expire_all()
    moved = db.get(Photo, photo.id)
    assert (moved.patient_id, moved.series_id, moved.view) == (other.id, other_series.id, "left_profile")
    events = audit.events_for(db, world.clinic.id, "photo", photo.id)
    retag = [e for e in events if e.action == "photo.retagged"][0]
    assert retag.actor_id == world.tech.id
    assert retag.detail["before"]["patient_id"] == world.patient.id
    assert retag.detail["after"]["patient_id"] == other.id and retag.detail["reason"] == "wrong patient"
    # Measured against its new view's baseline (itself: it is the only photo there).
    assert db.scalar(select(Analysis).where(Analysis.photo_id == photo.id, Analysis.baseline_photo_id.is_(None)))


def test_retag_respects_consent_and_duplicates_of_the_target_patient(db, storage, world, limits):
    photo = _upload(db, storage, world, limits, 2)
    _, _, no_consent_visit = add_patient_with_series(db, world.tech, "No Consent", consent=False)
    with pytest.raises(ConsentRequired):
        photo_svc.retag_photo(db, world.tech, photo.id, visit_id=no_consent_visit.id,
                              tags=PhotoTags(view="front", time_point="before"))
    db.rollback()
    _, _, visit = add_patient_with_series(db, world.tech, "Has Copy")
    ingest_photo(db, storage, world.tech, visit.id, jpeg_bytes(seed=2), filename="same.jpg",
                 tags=PhotoTags(view="front", time_point="before"),
                 limits=limits)
    with pytest.raises(DuplicatePhoto, match="already has this photo"):
        photo_svc.retag_photo(db, world.tech, photo.id, visit_id=visit.id,
                              tags=PhotoTags(view="front", time_point="before"))
    db.rollback()
    assert db.get(Photo, photo.id).patient_id == world.patient.id


def test_delete_removes_row_files_and_analyses_and_is_recorded(db, storage, queue, world, limits):
    photo = _upload(db, storage, world, limits, 3)
    queue.run_pending(only=("make_derivatives",))
    db.refresh(photo)
    keys = [photo.original_key, photo.thumb_key, photo.display_key]
    assert all(storage.exists(k) for k in keys)
    photo_id = photo.id
    photo_svc.delete_photo(db, storage, world.tech, photo_id, reason="blurred duplicate")
    assert db.get(Photo, photo_id) is None
    assert not any(storage.exists(k) for k in keys)
    assert db.scalar(select(Analysis).where(Analysis.photo_id == photo_id)) is None
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "photo.deleted"))
    assert event.object_id == photo_id and event.actor_id == world.tech.id
    assert event.detail["reason"] == "blurred duplicate" and event.detail["patient_id"] == world.patient.id


def test_delete_keeps_an_original_another_patient_still_uses(db, storage, world, limits):
    photo = _upload(db, storage, world, limits, 4)
    _, _, visit = add_patient_with_series(db, world.tech, "Shares Bytes")
    twin = _upload(db, storage, world, limits, 4, visit=visit)
    photo_svc.delete_photo(db, storage, world.tech, photo.id)
    assert storage.exists(twin.original_key)
    assert storage.read(twin.original_key) == jpeg_bytes(seed=4)


def test_consents_are_dated_revocable_and_kept_as_history(db, world):
    from tracker.models.vocabulary import CONSENT_MARKETING
    import datetime as dt

    p = world.patient
    assert patients.active_consent(p, CONSENT_MARKETING) is None
    patients.grant_consent(db, world.tech, p.id, CONSENT_MARKETING, granted_on=dt.date(2024, 3, 1))
    patients.revoke_consent(db, world.tech, p.id, CONSENT_MARKETING, revoked_on=dt.date(2024, 6, 1))
    patients.grant_consent(db, world.tech, p.id, CONSENT_MARKETING, granted_on=dt.date(2024, 9, 1))
    db.commit()
    history = [c for c in p.consents if c.kind == CONSENT_MARKETING]
    assert [(c.granted_on, c.revoked_on) for c in history] == [
        (dt.date(2024, 3, 1), dt.date(2024, 6, 1)), (dt.date(2024, 9, 1), None)]
    assert patients.active_consent(p, CONSENT_MARKETING).granted_on == dt.date(2024, 9, 1)
