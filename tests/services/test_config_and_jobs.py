"""Configuration from the environment, and the background jobs' failure handling."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import select

from tracker.config import Config, ConfigError
from tracker.jobs import make_huey
from tracker.models import Analysis, Photo
from tracker.services.intake import PhotoTags, ingest_photo

from .factories import jpeg_bytes


def test_defaults_live_in_the_instance_folder(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("TRACKER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    config = Config()
    assert config.INSTANCE_PATH == tmp_path / "instance"
    assert config.DATABASE_URL == f"sqlite:///{tmp_path / 'instance' / 'tracker.db'}"
    assert config.BROKER_URL == f"sqlite:///{tmp_path / 'instance' / 'queue.db'}"
    assert config.MAX_UPLOAD_BYTES == 40 * 1024 * 1024
    key = config.SECRET_KEY
    path = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Config().SECRET_KEY == key and len(key) >= 64  # generated once, then reused


def test_environment_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("TRACKER_MAX_UPLOAD_MB", "12")
    monkeypatch.setenv("TRACKER_SECRET_KEY", "from-the-environment")
    config = Config()
    assert config.INSTANCE_PATH == tmp_path / "elsewhere"
    assert config.MAX_UPLOAD_BYTES == 12 * 1024 * 1024 and config.SECRET_KEY == "from-the-environment"
    assert not (tmp_path / "elsewhere" / "secret_key").exists()
    monkeypatch.setenv("TRACKER_MAX_UPLOAD_MB", "lots")
    with pytest.raises(ConfigError, match="TRACKER_MAX_UPLOAD_MB must be a whole number"):
        Config()


def test_broker_url_selects_the_queue_backend(tmp_path):
    from huey import RedisHuey, SqliteHuey

    assert isinstance(make_huey(f"sqlite:///{tmp_path / 'q.db'}"), SqliteHuey)
    assert isinstance(make_huey("redis://127.0.0.1:6379/0"), RedisHuey)
    with pytest.raises(ValueError, match="unsupported TRACKER_BROKER_URL"):
        make_huey("amqp://nope")


def test_an_analysis_that_cannot_read_its_photo_is_marked_failed(db, storage, queue, world, limits):
    photo = ingest_photo(db, storage, world.tech, world.visits[0].id, jpeg_bytes(seed=1), filename="a.jpg",
                         tags=PhotoTags(view="front", time_point="before"), limits=limits)
    storage.delete(photo.original_key)  # the disk lost it
    row = db.scalar(select(Analysis).where(Analysis.photo_id == photo.id))
    queue.run_analysis(row.id)
    db.expire_all()
    row = db.get(Analysis, row.id)
    assert row.state == "failed" and row.finished_at is not None
    assert "no stored file" in row.error


def test_derivatives_of_a_photo_deleted_meanwhile_leave_nothing_behind(db, storage, queue, world, limits):
    from tracker.services import photos as photo_svc

    photo = ingest_photo(db, storage, world.tech, world.visits[0].id, jpeg_bytes(seed=2), filename="b.jpg",
                         tags=PhotoTags(view="front", time_point="before"), limits=limits)
    photo_id = photo.id
    photo_svc.delete_photo(db, storage, world.tech, photo_id)
    queue.run_pending(only=("make_derivatives",))
    assert db.get(Photo, photo_id) is None
    assert storage.iter_keys() == []


def test_a_worker_start_requeues_previews_the_queue_lost(db, storage, queue, world, limits):
    photo = ingest_photo(db, storage, world.tech, world.visits[0].id, jpeg_bytes(seed=3), filename="c.jpg",
                         tags=PhotoTags(view="front", time_point="before"), limits=limits)
    queue.huey.flush()  # the queue's own database was lost
    assert queue.pending_count() == 0
    assert queue.requeue_missing_derivatives() == 1
    queue.run_pending(only=("make_derivatives",))
    db.expire_all()
    assert db.get(Photo, photo.id).derivatives_state == "ready"
    assert queue.requeue_missing_derivatives() == 0
