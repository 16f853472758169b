"""PostgreSQL backup and restore with the documented ``postgresql+psycopg://`` URL, end to
end against the real server on 127.0.0.1:55432: libpq gets host, port, user and
database (it ignores SQLAlchemy's URL and would fall back to a local socket), the
password only through PGPASSWORD: never in argv (visible in ``ps``) or an error message."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.services.factories import jpeg_bytes, make_world
from tracker.models import Clinic, Photo, User, make_engine, make_sessionmaker
from tracker.models.migrate import upgrade
from tracker.services.dispatch import bind_sink
from tracker.services.intake import IntakeLimits, PhotoTags, ingest_photo
from tracker.storage import FileSystemStorage

from .conftest import _pg_admin_url

PASSWORD = f"pw-{uuid.uuid4().hex[:12]}"
ROLE = "tracker_backup_test"


@pytest.fixture
def databases(services):
    import psycopg

    admin = _pg_admin_url(services["TRACKER_DATABASE_URL"])
    names = [f"tracker_bk_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,)).fetchone():
            conn.execute(f"CREATE ROLE {ROLE} LOGIN")
        conn.execute(f"ALTER ROLE {ROLE} PASSWORD '{PASSWORD}'")
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}" OWNER {ROLE}')
    base = services["TRACKER_DATABASE_URL"].split("@", 1)[1].rsplit("/", 1)[0]  # 127.0.0.1:55432
    yield [f"postgresql+psycopg://{ROLE}:{PASSWORD}@{base}/{name}" for name in names]
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _spy(folder: Path) -> Path:
    """pg_dump / pg_restore wrappers that record their argv and PGPASSWORD, then run the real tool."""
    folder.mkdir()
    for tool in ("pg_dump", "pg_restore"):
        real = subprocess.run(["which", tool], capture_output=True, text=True, check=True).stdout.strip()
        script = folder / tool
        script.write_text(f'#!/bin/sh\necho "argv: $*" >> {folder}/calls.log\n'
                          f'echo "env: PGPASSWORD=$PGPASSWORD PGHOST=$PGHOST PGPORT=$PGPORT" >> {folder}/calls.log\n'
                          f'exec {real} "$@"\n')
        script.chmod(0o755)
    return folder


def _tracker(instance: Path, url: str, spy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRACKER_INSTANCE_PATH": str(instance), "TRACKER_DATABASE_URL": url,
           "PATH": f"{spy}:{os.environ['PATH']}", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run([sys.executable, "-m", "tracker.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            return {m.__name__: s.scalar(select(func.count()).select_from(m)) for m in (Clinic, User, Photo)}
    finally:
        engine.dispose()


def test_postgres_backup_and_restore_with_the_documented_url(databases, tmp_path):
    source, target = databases
    instance = tmp_path / "instance"
    engine = make_engine(source)
    upgrade(engine)
    storage = FileSystemStorage(instance / "images")
    with make_sessionmaker(engine)() as s:
        world = make_world(s)
        for seed in (1, 2):
            ingest_photo(bind_sink(s, None), storage, world.tech, world.visits[0].id, jpeg_bytes(seed=seed),
                         filename=f"{seed}.jpg", tags=PhotoTags(view="front", time_point="before"),
                         limits=IntakeLimits(max_bytes=10 << 20, max_pixels=50_000_000))
        s.commit()
    engine.dispose()
    spy = _spy(tmp_path / "spy")

    made = _tracker(instance, source, spy, "backup", str(tmp_path / "b"))
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "b" / "database.dump").stat().st_size > 1000
    restored = _tracker(tmp_path / "restored", target, spy, "restore", str(tmp_path / "b"))
    assert restored.returncode == 0, restored.stderr
    assert _counts(target) == _counts(source) and _counts(target)["Photo"] == 2
    verified = _tracker(tmp_path / "restored", target, spy, "verify")
    assert verified.returncode == 0 and "0 missing" in verified.stdout, verified.stdout

    calls = (spy / "calls.log").read_text()
    argv = [line for line in calls.splitlines() if line.startswith("argv:")]
    assert any("pg_dump" in line or "--format=custom" in line for line in argv) and len(argv) >= 3
    assert PASSWORD not in "\n".join(argv) and "+psycopg" not in calls
    assert f"PGPASSWORD={PASSWORD} PGHOST=127.0.0.1 PGPORT=55432" in calls

    # A failure names the problem, never the password.
    wrong = source.rsplit("/", 1)[0] + "/no_such_database"
    failed = _tracker(tmp_path / "x", wrong, spy, "backup", str(tmp_path / "b2"))
    assert failed.returncode != 0 and "pg_dump failed" in failed.stderr
    assert PASSWORD not in failed.stderr + failed.stdout
