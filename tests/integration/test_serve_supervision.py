"""`tracker serve` supervises its worker child: SIGKILL the worker and /healthz answers
503 naming it within 5 s, a new worker runs within 10 s, and a photo uploaded after the
kill is analysed within 90 s, without restarting the server. /healthz reports the
queue's age; the access log never holds an invitation token."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tracker.config import TestConfig
from tracker.jobs import TaskQueue
from tracker.models import Analysis, make_engine, make_sessionmaker
from tracker.models.migrate import upgrade
from tracker.services.dispatch import bind_sink
from tracker.services.intake import IntakeLimits, PhotoTags, ingest_photo
from tracker.storage import storage_from_config

from ..services.factories import make_world
from ._photos import closeup_jpegs
from .conftest import wait_until

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _health(base: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
    except OSError:
        return 0, {}


def test_serve_restarts_its_worker_and_healthz_says_so(tmp_path):
    instance = tmp_path / "instance"
    config = TestConfig(instance)
    config.ensure_instance()
    engine = make_engine(config.DATABASE_URL)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    with factory() as s:
        world = make_world(s)
        s.commit()
        tech_id, visits = world.tech.id, [v.id for v in world.visits]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TRACKER_INSTANCE_PATH": str(instance), "TRACKER_SECRET_KEY": "supervision-test",
           "PYTHONPATH": str(ROOT)}
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "tracker.cli", "serve", "--port", str(port), "--workers", "1",
                                   "--queue-workers", "1"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        status, body = wait_until(lambda: (lambda h: h if h[0] == 200 else None)(_health(base)), timeout=90,
                                  what="the server and its worker to be up", every=0.3)
        assert body["worker"]["state"] == "running" and body["queue"] == {"waiting": 0, "oldest_waiting_s": None}
        first = body["worker"]["pid"]
        # An invitation link in the request line never reaches the access log.
        token = "Zz9-secret-invitation-token"
        try:
            urllib.request.urlopen(f"{base}/invite/{token}", timeout=10)
        except urllib.error.HTTPError:
            pass

        killed = time.monotonic()
        os.kill(first, signal.SIGKILL)
        code, down = wait_until(lambda: (lambda h: h if h[0] == 503 else None)(_health(base)), timeout=5,
                                what="/healthz to report the dead worker", every=0.1)
        assert time.monotonic() - killed < 5
        assert "worker" in down["problem"] and str(first) in down["problem"]
        _, up = wait_until(lambda: (lambda h: h if h[0] == 200 and h[1]["worker"]["pid"] != first else None)(
            _health(base)), timeout=10, what="a new worker to run", every=0.2)
        assert time.monotonic() - killed < 10 and up["worker"]["restarts"] == 1

        # Photos uploaded after the kill are analysed by the new worker, the server untouched.
        uploaded = time.monotonic()
        storage = storage_from_config(config)
        queue = TaskQueue(config, storage=storage, session_factory=factory)
        with bind_sink(factory(), queue) as db:
            from tracker.models import User

            tech = db.get(User, tech_id)
            for i, data in enumerate(closeup_jpegs(2)):
                ingest_photo(db, storage, tech, visits[0] if i == 0 else visits[1], data, filename=f"{i}.jpg",
                             tags=PhotoTags(view="closeup", region="left cheek", time_point="before"),
                             limits=IntakeLimits.from_config(config))
        _, busy = _health(base)
        assert "queue" in busy and busy["queue"]["waiting"] >= 0

        def analysed() -> bool:
            with factory() as s:
                total = s.scalar(select(func.count()).select_from(Analysis))
                finished = s.scalar(select(func.count()).select_from(Analysis)
                                    .where(Analysis.state.in_(("done", "refused"))))
                return total > 0 and finished == total
        wait_until(analysed, timeout=90, what="the photos uploaded after the kill to be analysed", every=0.5)
        assert time.monotonic() - uploaded < 90
        assert server.poll() is None, "the server itself must not have restarted"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        engine.dispose()
    text = log.read_text(errors="replace")
    assert "/invite/[redacted]" in text and token not in text
