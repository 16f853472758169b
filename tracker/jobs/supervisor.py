"""``tracker serve`` keeps its worker child alive: a thread restarts it when it dies, and
one small status file says how it is, so ``/healthz`` can answer 503 naming the worker
from the moment it dies until its replacement is ready.

The worker touches a heartbeat file every :data:`BEAT_S` seconds (``TRACKER_WORKER_HEARTBEAT``);
the supervisor calls it "running" once a beat comes after its start, and "stalled" when the
beats stop for :data:`STALL_S` seconds although the process lives.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tracker.private_files import private_file
from tracker.services.health import STATUS_FILE

log = logging.getLogger("tracker.supervisor")

HEARTBEAT_FILE = "worker-heartbeat"
HEARTBEAT_ENV = "TRACKER_WORKER_HEARTBEAT"
BEAT_S = 1.0
STALL_S = 30.0
#: Waits between restarts of a worker that keeps dying (seconds).
BACKOFF_S = (0.5, 1, 2, 5, 10, 30)


def write_status(path: Path, **status: object) -> None:
    """Replace the status file atomically (readers never see half of it)."""
    tmp = path.with_name(path.name + ".tmp")
    private_file(tmp).write_text(json.dumps({**status, "supervisor_pid": os.getpid(), "at": time.time()}))
    os.replace(tmp, path)


def beat_forever(path: str, *, every_s: float = BEAT_S) -> threading.Thread:
    """In the worker: touch ``path`` every ``every_s`` seconds from a daemon thread."""
    def run() -> None:
        target = Path(path)
        while True:
            try:
                private_file(target)
                os.utime(target)
            except OSError:
                log.warning("cannot write the worker heartbeat %s", target)
            time.sleep(every_s)

    thread = threading.Thread(target=run, name="worker-heartbeat", daemon=True)
    thread.start()
    return thread


class WorkerSupervisor:
    """Starts the worker child, watches it, restarts it after a crash (with a growing pause
    if it keeps crashing) and records its state in ``<instance>/worker-status.json``."""

    def __init__(self, instance: Path, start: Callable[[dict[str, str]], subprocess.Popen[bytes]],
                 stop: Callable[[subprocess.Popen[bytes]], None], *, poll_s: float = 0.25) -> None:
        self.status_path = instance / STATUS_FILE
        self.heartbeat = instance / HEARTBEAT_FILE
        self._start, self._stop, self.poll_s = start, stop, poll_s
        self._halt = threading.Event()
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)

    def __enter__(self) -> WorkerSupervisor:
        self._launch()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._halt.set()
        self._thread.join(5)
        if self.proc is not None:
            self._stop(self.proc)
        self.status_path.unlink(missing_ok=True)
        self.heartbeat.unlink(missing_ok=True)

    def _launch(self) -> None:
        self.heartbeat.unlink(missing_ok=True)
        self.proc = self._start({HEARTBEAT_ENV: str(self.heartbeat)})
        self.started_at = time.time()
        write_status(self.status_path, state="starting", pid=self.proc.pid, restarts=self.restarts,
                     started_at=self.started_at)

    def _beat_age(self) -> float | None:
        try:
            return time.time() - self.heartbeat.stat().st_mtime
        except FileNotFoundError:
            return None

    def _watch(self) -> None:
        state, failures = "starting", 0
        while not self._halt.wait(self.poll_s):
            assert self.proc is not None
            code = self.proc.poll()
            if code is not None:
                log.error("the background worker (pid %d) stopped with exit status %s; restarting it",
                          self.proc.pid, code)
                write_status(self.status_path, state="stopped", pid=self.proc.pid, exit_status=code,
                             restarts=self.restarts, stopped_at=time.time())
                pause = BACKOFF_S[min(failures, len(BACKOFF_S) - 1)]
                failures += 1
                if self._halt.wait(pause):
                    return
                self.restarts += 1
                self._launch()
                state = "starting"
                continue
            age = self._beat_age()  # the file is removed at each launch: any beat is the new worker's
            fresh = age is not None and age < STALL_S
            new_state = "running" if fresh else ("stalled" if state == "running" else state)
            if new_state != state:
                state = new_state
                if state == "running" and time.time() - self.started_at > 60:
                    failures = 0  # it stayed up a while: the next crash restarts at once again
                write_status(self.status_path, state=state, pid=self.proc.pid, restarts=self.restarts,
                             started_at=self.started_at)
