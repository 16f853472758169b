"""Integration fixtures: real worker processes against a real broker and database.

``scripts/services.sh start`` runs once per session (it installs Redis and PostgreSQL
when missing); every test gets a fresh database. The ``backend`` fixture runs a test
on the embedded default (SQLite + SqliteHuey) and on the scale-out stack
(PostgreSQL + Redis).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tracker.config import TestConfig
from tracker.models import make_engine
from tracker.models.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 5


@pytest.fixture(scope="session")
def services() -> dict[str, str]:
    try:
        proc = subprocess.run([str(ROOT / "scripts" / "services.sh"), "start"], capture_output=True, text=True,
                              timeout=900)
    except subprocess.TimeoutExpired:
        pytest.fail("scripts/services.sh start took more than 15 minutes (installing Redis/PostgreSQL?)")
    if proc.returncode != 0:
        pytest.fail("Redis and PostgreSQL could not be installed or started by scripts/services.sh:\n"
                    + proc.stdout + proc.stderr)
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def _pg_admin_url(url: str) -> str:
    """psycopg's URL of the server's maintenance database."""
    base = url.replace("postgresql+psycopg://", "postgresql://", 1)
    return base.rsplit("/", 1)[0] + "/postgres"


@dataclass
class Backend:
    name: str
    config: TestConfig
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self, log: Path, *, threads: int = 1) -> subprocess.Popen[bytes]:
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "tracker.cli", "worker", "--workers", str(threads)],
                                    env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tracker.cli", *args], env={**os.environ, **self.env},
                              capture_output=True, text=True, timeout=timeout)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(params=["embedded", "postgresql+redis"])
def backend(request, tmp_path) -> Iterator[Backend]:
    instance = tmp_path / "instance"
    env = {"TRACKER_INSTANCE_PATH": str(instance), "TRACKER_SECRET_KEY": "integration-test-key",
           "TRACKER_ANALYSIS_LEASE_SECONDS": str(LEASE_SECONDS), "TRACKER_SWEEP_SECONDS": "1"}
    drop: Callable[[], None] = lambda: None  # noqa: E731
    if request.param == "embedded":
        db_url = f"sqlite:///{instance / 'tracker.db'}"
        broker = f"sqlite:///{instance / 'queue.db'}"
    else:
        import psycopg

        urls = request.getfixturevalue("services")
        name = f"tracker_it_{uuid.uuid4().hex[:10]}"
        admin = _pg_admin_url(urls["TRACKER_DATABASE_URL"])
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        db_url = urls["TRACKER_DATABASE_URL"].rsplit("/", 1)[0] + "/" + name
        broker = urls["TRACKER_BROKER_URL"]

        def drop() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    # Its own queue name: test sessions running at the same time share the Redis server.
    queue_name = f"tracker-it-{uuid.uuid4().hex[:10]}"
    env.update(TRACKER_DATABASE_URL=db_url, TRACKER_BROKER_URL=broker, TRACKER_QUEUE_NAME=queue_name)
    config = TestConfig(instance, DATABASE_URL=db_url, BROKER_URL=broker, ANALYSIS_LEASE_SECONDS=LEASE_SECONDS,
                        SWEEP_SECONDS=1, QUEUE_NAME=queue_name)
    config.ensure_instance()
    engine = make_engine(db_url)
    upgrade(engine)
    engine.dispose()
    b = Backend(request.param, config, env)
    yield b
    b.stop_all()
    drop()


def wait_until(predicate: Callable[[], object], *, timeout: float, what: str, every: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
