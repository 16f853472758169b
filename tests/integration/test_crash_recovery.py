"""Two real ``tracker worker`` processes, 30 queued photos, one worker killed with SIGKILL
while it holds an analysis: every photo still ends analysed exactly once.

Runs on the embedded default (SQLite + SqliteHuey) and on PostgreSQL + Redis.
"""

from __future__ import annotations

import re
import signal
from collections import Counter

import pytest
from sqlalchemy import func, select

from tracker.jobs import TaskQueue
from tracker.models import Analysis, Photo, make_engine, make_sessionmaker
from tracker.services.analysis import analysis_against, photo_quality_failed
from tracker.services.baselines import current_baseline_photo_id, key_of
from tracker.services.dispatch import bind_sink
from tracker.services.intake import IntakeLimits, PhotoTags, ingest_photo
from tracker.storage import storage_from_config

from ..services.factories import make_world
from ._photos import closeup_jpegs
from .conftest import wait_until

pytestmark = pytest.mark.slow

CLAIMED = re.compile(r"analysis ([\w-]+): claimed \(attempt (\d+)\)")
WRITTEN = re.compile(r"analysis ([\w-]+) of photo [\w-]+: (done|refused)")


def upload_photos(config, n: int) -> list[str]:
    engine = make_engine(config.DATABASE_URL)
    factory = make_sessionmaker(engine)
    storage = storage_from_config(config)
    queue = TaskQueue(config, storage=storage, session_factory=factory)
    ids = []
    with bind_sink(factory(), queue) as db:
        world = make_world(db)
        for i, data in enumerate(closeup_jpegs(n)):
            # The first is the view's baseline (session 1, before); the rest are measured against it.
            visit = world.visits[0] if i == 0 else world.visits[1]
            photo = ingest_photo(db, storage, world.tech, visit.id, data, filename=f"p{i}.jpg",
                                 tags=PhotoTags(view="closeup", region="left cheek", time_point="before"),
                                 limits=IntakeLimits.from_config(config))
            ids.append(photo.id)
    engine.dispose()
    return ids


def test_a_worker_killed_mid_job_loses_no_photo_and_none_is_analysed_twice(backend, tmp_path):
    photo_ids = upload_photos(backend.config, 30)
    engine = make_engine(backend.config.DATABASE_URL)
    factory = make_sessionmaker(engine)

    def state_of(analysis_id: str) -> tuple[str, int] | None:
        with factory() as s:
            row = s.get(Analysis, analysis_id)
            return (row.state, row.attempts) if row else None

    log_a, log_b = tmp_path / "worker-a.log", tmp_path / "worker-b.log"
    worker_a = backend.start_worker(log_a)
    worker_b = backend.start_worker(log_b)

    def held_by_a() -> str | None:
        for m in CLAIMED.finditer(log_a.read_text(errors="replace")):
            if state_of(m.group(1)) == ("running", int(m.group(2))):
                return m.group(1)
        return None

    victim = wait_until(held_by_a, timeout=180, what="worker A to be analysing a photo")
    worker_a.send_signal(signal.SIGKILL)
    worker_a.wait()
    assert state_of(victim)[0] == "running"  # killed mid-job: the row says so until the lease runs out

    def all_finished() -> bool:
        with factory() as s:
            busy = s.scalar(select(func.count()).select_from(Analysis)
                            .where(Analysis.state.in_(("queued", "running"))))
            return busy == 0
    wait_until(all_finished, timeout=240, what="every analysis to finish", every=0.5)
    assert worker_b.poll() is None, "the surviving worker stopped: " + log_b.read_text()[-2000:]

    with factory() as s:
        rows = list(s.scalars(select(Analysis)))
        states = Counter(r.state for r in rows)
        assert states["failed"] == 0, [r.error for r in rows if r.state == "failed"]
        assert set(states) <= {"done", "refused"}
        # One row per set of inputs, and each photo has its current analysis finished.
        assert len({r.inputs_key for r in rows}) == len(rows)
        for pid in photo_ids:
            photo = s.get(Photo, pid)
            current = analysis_against(s, photo, current_baseline_photo_id(s, key_of(photo)))
            if current is None:  # found unusable: not measured again against a new baseline
                assert photo_quality_failed(s, pid), pid
            else:
                assert current.state in ("done", "refused") and current.finished_at is not None, pid
        victim_row = s.get(Analysis, victim)
        assert victim_row.state in ("done", "refused") and victim_row.attempts == 2
        assert max(r.attempts for r in rows) <= 2

    # Exactly once: no analysis's result was written by two workers.
    written = Counter(m.group(1) for log in (log_a, log_b) for m in WRITTEN.finditer(log.read_text(errors="replace")))
    assert written[victim] == 1
    assert max(written.values()) == 1
    assert set(written) == {r.id for r in rows}
    engine.dispose()
