"""The task queue: Huey instance, the tasks, and the job sink the services use."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from huey import Huey, SqliteHuey
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tracker.config import Config
from tracker.models import Analysis, Photo, make_engine, make_sessionmaker
from tracker.models.vocabulary import AnalysisState
from tracker.services.analysis import (
    Heartbeat,
    LeaseLost,
    LeasePolicy,
    SweepReport,
    claim_analysis,
    give_up,
    run_analysis,
    states,
    sweep,
    waiting_ids,
)
from tracker.services.baselines import key_of, refresh_baseline
from tracker.services.derivatives import build_derivatives
from tracker.services.dispatch import ANALYSIS, DERIVATIVES, bind_sink
from tracker.storage import Storage, storage_from_config

log = logging.getLogger(__name__)


class BrokerConfigError(ValueError):
    """TRACKER_BROKER_URL names a queue backend this installation cannot use."""


def make_huey(broker_url: str, *, name: str = "tracker") -> Huey:
    """A Huey for ``broker_url``: ``sqlite:///path`` (default) or ``redis://...``."""
    if broker_url.startswith("sqlite:///"):
        path = Path(broker_url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), results=False, utc=True, timeout=30)
    if broker_url.startswith(("redis://", "rediss://", "unix://")):
        try:
            import redis  # noqa: F401 - the scale extra
            from huey import PriorityRedisHuey
        except ImportError as e:  # pragma: no cover - depends on the extra
            raise BrokerConfigError("TRACKER_BROKER_URL is redis://, but the redis client is not installed "
                                    "(pip install 'tracker[scale]')") from e
        # The priority flavour: previews (priority 10) go before analyses, as on SQLite.
        return PriorityRedisHuey(name, url=broker_url, results=False, utc=True)
    raise BrokerConfigError(f"unsupported TRACKER_BROKER_URL {broker_url!r}: use sqlite:///path or redis://host")


class TaskQueue:
    """Huey plus tracker's tasks, for one configuration.

    ``submit(kind, id)`` is the :class:`~tracker.services.dispatch.JobSink` the
    services' commits release their jobs to.
    """

    def __init__(self, config: Config, *, storage: Storage | None = None,
                 session_factory: sessionmaker[Session] | None = None) -> None:
        self.config = config
        self.huey = make_huey(config.BROKER_URL, name=config.QUEUE_NAME)
        self._storage = storage
        self._session_factory = session_factory
        self.lease_policy = LeasePolicy.from_config(config)
        self._lock = threading.Lock()
        huey = self.huey

        # Previews first: a technician is looking at the page; analyses can wait a moment.
        @huey.task(name="make_derivatives", retries=3, retry_delay=5, priority=10)
        def make_derivatives(photo_id: str) -> None:
            self.run_derivatives(photo_id)

        @huey.task(name="analyze_photo")
        def analyze_photo(analysis_id: str) -> None:
            self.run_analysis(analysis_id)

        self.make_derivatives = make_derivatives
        self.analyze_photo = analyze_photo

    # The job sink ----------------------------------------------------------------------
    def submit(self, kind: str, object_id: str) -> None:
        if kind == DERIVATIVES:
            self.make_derivatives(object_id)
        elif kind == ANALYSIS:
            self.analyze_photo(object_id)
        else:
            raise ValueError(f"unknown job kind {kind!r}")

    # Worker-side resources (created lazily, once per process) ---------------------------
    @property
    def storage(self) -> Storage:
        with self._lock:
            if self._storage is None:
                self._storage = storage_from_config(self.config)
            return self._storage

    def _factory(self) -> sessionmaker[Session]:
        with self._lock:
            if self._session_factory is None:
                self._session_factory = make_sessionmaker(make_engine(self.config.DATABASE_URL))
            return self._session_factory

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose commits queue their follow-up jobs on this queue."""
        session = bind_sink(self._factory()(), self)
        try:
            yield session
        finally:
            session.close()

    # Task bodies -----------------------------------------------------------------------
    def run_derivatives(self, photo_id: str) -> None:
        with self.session() as session:
            build_derivatives(session, self.storage, photo_id)

    def run_analysis(self, analysis_id: str) -> None:
        """Claim the row, run :func:`tracker.services.analysis.run_analysis` while a heartbeat
        renews the lease, and record a failure on the row.

        A doorbell for a row that is finished or held by a live worker does nothing.
        An error is final ("failed": the same inputs would fail again), except a lost
        database connection, which re-queues the row while it has attempts left.
        """
        with self.session() as session:
            policy = self.lease_policy
            claim = claim_analysis(session, analysis_id, policy)
            if claim is None:
                return
            log.info("analysis %s: claimed (attempt %d)", analysis_id, claim.attempt)
            try:
                with Heartbeat(self._factory(), claim, policy):
                    run_analysis(session, self.storage, analysis_id, claim=claim, policy=policy)
            except LeaseLost:
                session.rollback()
                log.warning("analysis %s: lease lost (another worker took over); result not written", analysis_id)
                return
            except OperationalError as e:
                log.exception("analysis %s: database error", analysis_id)
                session.rollback()
                if give_up(session, claim, f"database error: {e}", policy, retry=True) == AnalysisState.QUEUED:
                    self.analyze_photo.schedule((analysis_id,), delay=policy.renew_every_s)
                return
            except Exception as e:
                log.exception("analysis %s failed", analysis_id)
                session.rollback()
                give_up(session, claim, f"{type(e).__name__}: {e}", policy, retry=False)
            self._after_analysis(session, analysis_id)

    def sweep(self) -> SweepReport:
        """Re-queue analyses whose worker vanished and ring again for rows whose doorbell was lost.

        Every worker runs this at start-up and periodically (:class:`tracker.jobs.sweeper.Sweeper`).
        Queued rows are rung again only when the broker holds nothing: a busy queue already
        has their doorbells, and ringing twice is harmless but wasteful.
        """
        with self.session() as session:
            report = sweep(session, self.lease_policy)
            ring = list(report.requeued)
            if self.pending_count() == 0:
                ring += waiting_ids(session)
        for analysis_id in dict.fromkeys(ring):
            self.analyze_photo(analysis_id)
        return report

    @staticmethod
    def _after_analysis(session: Session, analysis_id: str) -> None:
        """A refused (quality-failed) photo may no longer be its view's default baseline."""
        row = session.get(Analysis, analysis_id)
        if row is None or row.state not in states.FINISHED:
            return
        photo = session.get(Photo, row.photo_id)
        if photo is None:
            return
        refresh_baseline(session, key_of(photo), clinic_id=photo.clinic_id)
        session.commit()

    def requeue_missing_derivatives(self) -> int:
        """Queue previews for photos still waiting for them (e.g. the queue lost its jobs).

        Making previews twice is harmless, so this runs whenever a worker starts.
        """
        from tracker.models.vocabulary import DERIVATIVES_PENDING

        with self.session() as session:
            ids = list(session.scalars(select(Photo.id).where(Photo.derivatives_state == DERIVATIVES_PENDING)))
        for photo_id in ids:
            self.make_derivatives(photo_id)
        return len(ids)

    # Running tasks ---------------------------------------------------------------------
    def run_pending(self, *, only: tuple[str, ...] | None = None, limit: int = 1000) -> int:
        """Execute queued tasks in this process until the queue is empty; returns how many ran.

        What a consumer does, without threads: used by ``tracker worker --drain`` and tests.
        ``only`` limits it to tasks with these names; the others stay queued.
        """
        ran = 0
        skipped = []
        while ran < limit:
            task = self.huey.dequeue()
            if task is None:
                break
            if only is not None and task.name not in only:
                skipped.append(task)
                continue
            self.huey.execute(task)
            ran += 1
        for task in skipped:
            self.huey.enqueue(task)
        return ran

    def pending_names(self) -> list[str]:
        return [t.name for t in self.huey.pending()]

    def pending_count(self) -> int:
        return int(self.huey.pending_count())

    def consumer(self, *, workers: int = 2) -> Any:
        """A Huey consumer that also sweeps (call ``.run()`` in a process's main thread)."""
        from .sweeper import SweepingConsumer

        huey_consumer = self.huey.create_consumer(workers=workers, worker_type="thread", periodic=False,
                                                  initial_delay=0.1, backoff=1.15, max_delay=1.0)
        return SweepingConsumer(huey_consumer, self, interval_s=float(self.config.SWEEP_SECONDS))
