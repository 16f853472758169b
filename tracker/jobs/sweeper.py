"""The periodic sweep every worker runs beside its Huey consumer.

Huey does not redeliver a task whose worker was killed; the database does: a row
left "running" with an expired lease is re-queued (or failed after its last
attempt) by whichever worker sweeps first. See
:mod:`tracker.services.analysis`.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .queue import TaskQueue

log = logging.getLogger(__name__)


class Sweeper:
    """Calls ``queue.sweep()`` every ``interval_s`` seconds on a daemon thread."""

    def __init__(self, queue: TaskQueue, *, interval_s: float) -> None:
        self.queue = queue
        self.interval_s = max(0.2, interval_s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tracker-sweeper", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.queue.sweep()
            except Exception:  # database or broker briefly away: the next round tries again
                log.exception("sweep failed")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class SweepingConsumer:
    """A Huey consumer plus the start-up sweep and the periodic :class:`Sweeper`."""

    def __init__(self, consumer: Any, queue: TaskQueue, *, interval_s: float) -> None:
        self.consumer = consumer
        self.queue = queue
        self.sweeper = Sweeper(queue, interval_s=interval_s)

    def run(self) -> None:
        report = self.queue.sweep()
        if report.requeued or report.failed:
            log.info("start-up sweep: %d analyses re-queued, %d given up", len(report.requeued), len(report.failed))
        self.sweeper.start()
        try:
            self.consumer.run()
        finally:
            self.sweeper.stop()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.consumer, name)
