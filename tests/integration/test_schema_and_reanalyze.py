"""Migrations on both databases, the claim/lease rules on both, and ``tracker reanalyze``."""

from __future__ import annotations

import datetime as dt
import re

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, update

from tracker.jobs import TaskQueue
from tracker.models import Analysis, Base, analysis_inputs_key, make_engine, make_sessionmaker
from tracker.models.base import utcnow
from tracker.models.migrate import current_revision, head_revision, upgrade
from tracker.services.analysis import LeasePolicy, claim_analysis, give_up, renew, sweep
from tracker.services.analysis import current_analysis_version

from .test_crash_recovery import upload_photos


def test_migrations_build_exactly_the_models_schema(backend):
    """The backend fixture upgraded an empty database (SQLite or PostgreSQL) to head."""
    engine = make_engine(backend.config.DATABASE_URL)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], f"models and migrations differ on {engine.dialect.name}: {diff}"
    upgrade(engine)  # again: nothing to do, nothing lost
    engine.dispose()


def test_one_claim_wins_an_expired_lease_moves_on_and_attempts_are_bounded(backend):
    upload_photos(backend.config, 1)
    engine = make_engine(backend.config.DATABASE_URL)
    factory = make_sessionmaker(engine)
    policy = LeasePolicy(lease_seconds=5, max_attempts=3)
    with factory() as s:
        row_id = s.scalar(select(Analysis.id))
        first = claim_analysis(s, row_id, policy)
        assert first is not None and first.attempt == 1
        assert claim_analysis(s, row_id, policy) is None  # held: the second doorbell does nothing
        assert renew(s, first, policy)

        # The holder stalls past its lease: another worker takes over; the first may no longer write.
        past = utcnow() - dt.timedelta(seconds=1)
        s.execute(update(Analysis).where(Analysis.id == row_id).values(lease_expires_at=past))
        s.commit()
        second = claim_analysis(s, row_id, policy)
        assert second is not None and second.attempt == 2
        assert not renew(s, first, policy, commit=False)
        assert give_up(s, first, "late", policy, retry=False) is None  # the stale holder changes nothing
        assert s.get(Analysis, row_id).state == "running"

        # Its worker dies too: the sweep re-queues it; after the last attempt it is failed, with why.
        s.execute(update(Analysis).where(Analysis.id == row_id).values(lease_expires_at=past))
        s.commit()
        assert sweep(s, policy).requeued == [row_id]
        third = claim_analysis(s, row_id, policy)
        assert third.attempt == 3
        s.execute(update(Analysis).where(Analysis.id == row_id).values(lease_expires_at=past))
        s.commit()
        assert sweep(s, policy).failed == [row_id]
        s.expire_all()
        row = s.get(Analysis, row_id)
        assert row.state == "failed" and row.attempts == 3 and "interrupted 3 times" in row.error
        assert claim_analysis(s, row_id, policy) is None
    engine.dispose()


def _queued(out: str) -> int:
    m = re.search(r"(\d+) analyses queued", out)
    assert m, out
    return int(m.group(1))


def test_reanalyze_queues_stale_results_once(backend):
    upload_photos(backend.config, 3)
    queue = TaskQueue(backend.config)
    queue.huey.flush()

    first = backend.cli("reanalyze")
    assert first.returncode == 0, first.stderr
    assert _queued(first.stdout) == 0  # every photo already has today's analysis (queued)

    # A new analysis version makes the existing results stale.
    engine = make_engine(backend.config.DATABASE_URL)
    factory = make_sessionmaker(engine)
    with factory() as s:
        for row in s.scalars(select(Analysis)):
            row.analysis_version = "0-old"
            row.state = "done"
            row.inputs_key = analysis_inputs_key(row.photo_id, row.baseline_photo_id, row.roi_revision,
                                                 row.chart_corners, "0-old")
        s.commit()

    second = backend.cli("reanalyze")
    assert second.returncode == 0, second.stderr
    assert _queued(second.stdout) == 3 and "3 photos checked" in second.stdout
    assert queue.pending_names().count("analyze_photo") == 3
    third = backend.cli("reanalyze")
    assert _queued(third.stdout) == 0
    assert queue.pending_names().count("analyze_photo") == 3  # nothing rung twice

    drained = backend.cli("worker", "--drain", timeout=300)
    assert drained.returncode == 0, drained.stderr
    with factory() as s:
        current = list(s.scalars(select(Analysis).where(Analysis.analysis_version == current_analysis_version())))
        assert len(current) == 3 and {r.state for r in current} == {"done"}
        assert len(list(s.scalars(select(Analysis)))) == 6  # the old results are kept, not overwritten
    engine.dispose()
