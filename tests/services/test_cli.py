"""The `tracker` command: db upgrade, clinic create, demo (idempotent), worker --drain, verify."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tracker.cli import main
from tracker.config import Config
from tracker.models import Analysis, Photo, User, Visit, make_engine, make_sessionmaker
from tracker.services import accounts
from tracker.services.demo import LOGINS
from tracker.storage import FileSystemStorage


@pytest.fixture
def instance(tmp_path, monkeypatch):
    path = tmp_path / "instance"
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(path))
    for name in ("TRACKER_DATABASE_URL", "TRACKER_BROKER_URL", "TRACKER_STORAGE_PATH", "TRACKER_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return path


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def session():
    engine = make_engine(Config().DATABASE_URL)
    return engine, make_sessionmaker(engine)()


def test_db_upgrade_creates_the_schema_once(instance):
    first = run("db", "upgrade")
    from tracker.models.migrate import head_revision

    assert first.exit_code == 0 and f"upgraded from empty to {head_revision()}" in first.output
    again = run("db", "upgrade")
    assert again.exit_code == 0 and "up to date" in again.output
    assert (instance / "tracker.db").is_file()


def test_clinic_create_needs_the_schema_then_creates_the_admin(instance):
    early = run("clinic", "create", "--name", "North Clinic", "--admin-email", "boss@north.test",
                "--admin-password", "a long password")
    assert early.exit_code == 1 and "tracker db upgrade" in early.output
    run("db", "upgrade")
    made = run("clinic", "create", "--name", "North Clinic", "--admin-email", "boss@north.test",
               input="a long password\na long password\n")
    assert made.exit_code == 0 and "boss@north.test" in made.output
    again = run("clinic", "create", "--name", "North Clinic", "--admin-email", "other@north.test",
                "--admin-password", "a long password")
    assert again.exit_code == 1 and "already exists" in again.output
    engine, s = session()
    with s:
        assert accounts.authenticate(s, "boss@north.test", "a long password").role == "clinic_admin"
    engine.dispose()


@pytest.mark.slow
def test_demo_is_complete_and_idempotent(instance):
    first = run("demo", "--size", "small")
    assert first.exit_code == 0, first.output
    for login in LOGINS:
        assert login.email in first.output and login.password in first.output
    assert "10 photos" in first.output
    assert ":5000" not in first.output  # the demo does not know the port `tracker serve` will be given
    second = run("demo", "--size", "small")
    assert second.exit_code == 0 and "nothing new to add" in second.output
    engine, s = session()
    with s:
        assert s.scalar(select(func.count()).select_from(Photo)) == 10
        assert s.scalar(select(func.count()).select_from(Photo).where(Photo.thumb_key.is_not(None))) == 10
        assert s.scalar(select(func.count()).select_from(User)) == 3
        for login in LOGINS:
            accounts.authenticate(s, login.email, login.password)
        assert s.scalar(select(func.count()).select_from(Analysis).where(Analysis.state == "queued")) >= 10
        # The technician reviewed every demo visit: the demo patient sees them all.
        assert s.scalar(select(func.count()).select_from(Visit).where(Visit.reviewed_at.is_(None))) == 0
    engine.dispose()
    verified = run("verify")
    assert verified.exit_code == 0 and "0 missing, 0 orphan files" in verified.output


def test_worker_drain_runs_the_queued_jobs_and_verify_finds_problems(instance):
    from tests.services.factories import jpeg_bytes, make_world
    from tracker.jobs import TaskQueue
    from tracker.services.dispatch import bind_sink
    from tracker.services.intake import IntakeLimits, PhotoTags, ingest_photo

    run("db", "upgrade")
    config = Config()
    engine = make_engine(config.DATABASE_URL)
    factory = make_sessionmaker(engine)
    storage = FileSystemStorage(config.STORAGE_PATH)
    queue = TaskQueue(config, storage=storage, session_factory=factory)
    with bind_sink(factory(), queue) as s:
        world = make_world(s, sessions=1)
        photo = ingest_photo(s, storage, world.tech, world.visits[0].id, jpeg_bytes(seed=5), filename="x.jpg",
                             tags=PhotoTags(view="front", time_point="before"), limits=IntakeLimits.from_config(config))
    drained = run("worker", "--drain")
    assert drained.exit_code == 0 and "Ran 2 queued jobs" in drained.output
    with factory() as s:
        row = s.get(Photo, photo.id)
        assert row.derivatives_state == "ready"
        analysis = s.scalar(select(Analysis).where(Analysis.photo_id == photo.id))
        assert analysis.state in ("done", "refused", "failed") and analysis.finished_at is not None
    storage.put_bytes("originals/zz/left-behind", b"orphan")
    storage.delete(row.thumb_key)
    report = run("verify")
    assert report.exit_code == 1
    assert f"MISSING  {row.thumb_key}" in report.output and "ORPHAN   originals/zz/left-behind" in report.output
    engine.dispose()
