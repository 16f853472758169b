"""The baseline rule: default choice, quality-failed photos skipped, overrides, labels, staleness."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tracker.models import Analysis, Photo, utcnow
from tracker.services import baselines, photos as photo_svc
from tracker.services.errors import ValidationFailed
from tracker.services.intake import PhotoTags, ingest_photo

from .factories import jpeg_bytes

_seed = iter(range(1000, 100000))


def put(db, storage, world, limits, visit_index, time_point="before", view="front", region="", days_after=None):
    tags = PhotoTags(view=view, time_point=time_point, region=region, days_after=days_after)
    return ingest_photo(db, storage, world.tech, world.visits[visit_index].id, jpeg_bytes(seed=next(_seed)),
                        filename="p.jpg", tags=tags, limits=limits)


def baseline_of(db, photo) -> Photo | None:
    db.expire_all()
    row = baselines.current_baseline(db, baselines.key_of(photo))
    return db.get(Photo, row.photo_id) if row else None


def refuse(db, photo) -> None:
    """What the analysis job records when a photo fails its quality check."""
    row = db.scalar(select(Analysis).where(Analysis.photo_id == photo.id))
    row.state = "refused"
    row.error = "The photo is blurred: retake it."
    row.finished_at = utcnow()
    db.commit()


def test_default_is_the_first_before_photo_of_session_1(db, storage, world, limits):
    s2_before = put(db, storage, world, limits, 1)
    s1_after = put(db, storage, world, limits, 0, "after", days_after=0)
    s1_before = put(db, storage, world, limits, 0)
    base = baseline_of(db, s2_before)
    assert base.id == s1_before.id
    assert baselines.baseline_label(base) == "baseline"
    assert baseline_of(db, s1_after).id == s1_before.id


def test_views_and_closeup_regions_have_their_own_baselines(db, storage, world, limits):
    front = put(db, storage, world, limits, 0)
    cheek = put(db, storage, world, limits, 0, view="closeup", region="left cheek")
    chin = put(db, storage, world, limits, 1, view="closeup", region="chin")
    assert baseline_of(db, front).id == front.id
    assert baseline_of(db, cheek).id == cheek.id
    assert baseline_of(db, chin).id == chin.id
    assert baselines.baseline_label(baseline_of(db, chin)) == "baseline: session 2"


def test_no_before_photo_means_no_baseline_and_a_later_session_can_provide_it(db, storage, world, limits):
    s1_after = put(db, storage, world, limits, 0, "after", days_after=2)
    assert baseline_of(db, s1_after) is None
    s2_before = put(db, storage, world, limits, 1)
    base = baseline_of(db, s1_after)
    assert base.id == s2_before.id
    assert baselines.baseline_label(base) == "baseline: session 2"


def test_a_quality_failed_photo_is_skipped(db, storage, world, limits):
    s1_before = put(db, storage, world, limits, 0)
    s2_before = put(db, storage, world, limits, 1)
    assert baseline_of(db, s2_before).id == s1_before.id
    refuse(db, s1_before)
    baselines.refresh_baseline(db, baselines.key_of(s1_before), clinic_id=world.clinic.id)
    db.commit()
    base = baseline_of(db, s1_before)
    assert base.id == s2_before.id
    assert baselines.baseline_label(base) == "baseline: session 2"
    # The unusable photo is not measured again against the new baseline (it would be refused again).
    assert db.scalar(select(Analysis).where(Analysis.photo_id == s1_before.id,
                                            Analysis.baseline_photo_id == s2_before.id)) is None


def test_a_photo_passes_until_an_analysis_refuses_it(db, storage, world, limits):
    photo = put(db, storage, world, limits, 0)
    row = db.scalar(select(Analysis).where(Analysis.photo_id == photo.id))
    row.state = "failed"  # a crash is not a quality verdict
    row.finished_at = utcnow()
    db.commit()
    baselines.refresh_baseline(db, baselines.key_of(photo), clinic_id=world.clinic.id)
    assert baseline_of(db, photo).id == photo.id


def test_technician_override_holds_and_can_be_undone(db, storage, world, limits):
    s1_before = put(db, storage, world, limits, 0)
    s2_before = put(db, storage, world, limits, 1)
    baselines.choose_baseline(db, world.tech, s2_before.id)
    db.commit()
    assert baseline_of(db, s1_before).id == s2_before.id
    # A new upload does not undo the technician's choice.
    put(db, storage, world, limits, 0)
    status = baselines.baseline_status(db, db.get(Photo, s1_before.id))
    assert status.baseline.id == s2_before.id and status.is_override
    assert status.label == "baseline: session 2" and not status.is_baseline
    baselines.restore_default_baseline(db, world.tech, world.series.id, "front", "")
    db.commit()
    assert baseline_of(db, s1_before).id == s1_before.id
    with pytest.raises(ValidationFailed):
        baselines.restore_default_baseline(db, world.tech, world.series.id, "front", "")


def test_changing_the_baseline_queues_new_analyses_against_it(db, storage, world, limits):
    s1_before = put(db, storage, world, limits, 0)
    s1_after = put(db, storage, world, limits, 0, "after", days_after=0)
    s2_before = put(db, storage, world, limits, 1)
    against_s1 = set(db.scalars(select(Analysis.photo_id).where(Analysis.baseline_photo_id == s1_before.id)))
    assert against_s1 == {s1_after.id, s2_before.id}

    baselines.choose_baseline(db, world.tech, s2_before.id)
    db.commit()
    new_rows = list(db.scalars(select(Analysis).where(Analysis.baseline_photo_id == s2_before.id)))
    assert {r.photo_id for r in new_rows} == {s1_before.id, s1_after.id}
    assert all(r.state == "queued" for r in new_rows)
    # The new baseline itself is measured on its own.
    assert db.scalar(select(Analysis).where(Analysis.photo_id == s2_before.id,
                                            Analysis.baseline_photo_id.is_(None))) is not None
    # Choosing the same baseline again creates nothing new.
    count = len(list(db.scalars(select(Analysis))))
    baselines.choose_baseline(db, world.tech, s2_before.id)
    db.commit()
    assert len(list(db.scalars(select(Analysis)))) == count


def test_uploading_an_earlier_before_photo_moves_the_default(db, storage, world, limits):
    s2_before = put(db, storage, world, limits, 1)
    assert baseline_of(db, s2_before).id == s2_before.id
    s1_before = put(db, storage, world, limits, 0)
    assert baseline_of(db, s2_before).id == s1_before.id
    assert db.scalar(select(Analysis).where(Analysis.photo_id == s2_before.id,
                                            Analysis.baseline_photo_id == s1_before.id)).state == "queued"


def test_deleting_the_baseline_promotes_the_next_photo(db, storage, world, limits):
    s1_before = put(db, storage, world, limits, 0)
    s2_before = put(db, storage, world, limits, 1)
    photo_svc.delete_photo(db, storage, world.tech, s1_before.id, reason="wrong patient")
    assert baseline_of(db, s2_before).id == s2_before.id


def test_moving_the_baseline_to_another_view_promotes_the_next_photo(db, storage, world, limits):
    s1_before = put(db, storage, world, limits, 0)
    s2_before = put(db, storage, world, limits, 1)
    photo_svc.retag_photo(db, world.tech, s1_before.id, visit_id=world.visits[0].id,
                          tags=PhotoTags(view="left_profile", time_point="before"))
    db.commit()
    assert baseline_of(db, s2_before).id == s2_before.id
    assert baseline_of(db, s1_before).id == s1_before.id  # and it is the left profile's baseline now
