"""``tracker bench-queue``: analyses per minute with 1..N worker processes on 12 MP JPEGs,
and the time from an upload's response to its analysis being "done".

One 12-megapixel close-up is simulated once and re-encoded at different JPEG
qualities (4:4:4, all above the quality gate), so every upload has its own hash
but shows the same skin. Per run: a fresh clinic, N real ``tracker worker``
processes (one job thread each as the aim is stated, or ``job_threads``:
``tracker serve`` runs two), the baseline uploaded and analysed first (so
every worker measures against a prepared baseline, as in a visit), then the
photos uploaded at once through the intake service. The database's
``finished_at`` of each analysis, minus the moment its upload returned, is its
latency; photos per minute is the batch divided by first upload to last done.
The workers' CPU over the same span (their process trees, from /proc) is reported
a photo: on a shared machine it moves less than the rate does.
The database and broker are the configured ones (TRACKER_DATABASE_URL,
TRACKER_BROKER_URL); by default each run gets a fresh embedded instance.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tracker.services.analysis.states import TERMINAL

from .benchmark import BENCH_MM_PER_PX, BENCH_SHAPE, machine

#: Distinct encodings available: 4:4:4 qualities 75..99 (the gate refuses below 70).
MAX_PHOTOS = 24


def simulated_uploads(n: int) -> tuple[bytes, list[bytes]]:
    """The baseline JPEG and ``n`` re-encodings of one simulated 12 MP close-up."""
    from tracker.simulate import capture, encode_jpeg, make_skin_scene

    if not 1 <= n <= MAX_PHOTOS:
        raise ValueError(f"photos must be between 1 and {MAX_PHOTOS}, got {n}")
    scene_shape = (int(BENCH_SHAPE[0] * 1.1), int(BENCH_SHAPE[1] * 1.1))
    scene = make_skin_scene(seed=202, shape_px=scene_shape, mm_per_px=BENCH_MM_PER_PX)
    srgb = capture(scene, seed=5, out_shape=BENCH_SHAPE).srgb
    baseline = encode_jpeg(srgb, quality=100, subsampling="4:4:4")
    return baseline, [encode_jpeg(srgb, quality=75 + i, subsampling="4:4:4") for i in range(n)]


@dataclass(frozen=True)
class RunResult:
    workers: int
    photos: int
    wall_s: float
    latencies_s: list[float]
    states: dict[str, int]
    #: Median seconds per stage: the upload (intake), and the analysis's own timings.
    stage_medians_s: dict[str, float] | None = None
    #: CPU seconds (user + system) of the workers' process trees from the first upload to the
    #: last analysis done: previews, analyses and the workers' idle polling.
    worker_cpu_s: float | None = None
    #: Job threads in each worker process (``tracker worker --workers``).
    job_threads: int = 1

    @property
    def per_minute(self) -> float:
        return 60.0 * self.photos / self.wall_s

    def percentile(self, q: float) -> float:
        xs = sorted(self.latencies_s)
        return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]

    def line(self) -> str:
        return (f"{self.workers} worker{'s' if self.workers > 1 else ' '}  {self.photos} photos  "
                f"{self.per_minute:6.1f} photos/min  upload->done median {statistics.median(self.latencies_s):6.1f} s"
                f"  p95 {self.percentile(0.95):6.1f} s  ({', '.join(f'{k} {v}' for k, v in sorted(self.states.items()))})"
                + (f"  {self.job_threads} job threads a worker" if self.job_threads > 1 else ""))

    def stages_line(self) -> str:
        stages = self.stage_medians_s or {}
        return "  per photo (median): " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in stages.items())

    def cpu_line(self) -> str:
        """The workers' CPU a photo: steadier than the rate on a shared, noisy machine."""
        if self.worker_cpu_s is None:
            return "  worker CPU: not measured (no /proc)"
        per_photo = self.worker_cpu_s / self.photos
        cpus = os.cpu_count() or 1
        return (f"  worker CPU {per_photo:.2f} s a photo (process tree, user + system); at that cost {cpus} CPUs "
                f"fully used would analyse {60.0 * cpus / per_photo:.0f} photos/min")


def _bench_env(instance: Path) -> dict[str, str]:
    env = {**os.environ, "TRACKER_INSTANCE_PATH": str(instance)}
    env.setdefault("TRACKER_SECRET_KEY", "bench-queue")
    return env


def _start_workers(n: int, env: dict[str, str], logs: Path, nice: int = 10,
                   job_threads: int = 1) -> list[subprocess.Popen[bytes]]:
    procs = []
    for i in range(n):
        with open(logs / f"worker-{i}.log", "wb") as out:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "tracker.cli", "worker", "--workers", str(job_threads), "--nice", str(nice)],
                env=env, stdout=out, stderr=subprocess.STDOUT))
    return procs


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _tree_cpu_s(pids: list[int]) -> float | None:
    """CPU seconds (user + system, with reaped children) of ``pids`` and their live descendants."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    stats: dict[int, list[str]] = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                # Fields after the command name, which may hold spaces: ")" ends it.
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # the process ended meanwhile
    tree, frontier = set(), [p for p in pids if p in stats]
    while frontier:
        pid = frontier.pop()
        tree.add(pid)
        frontier += [c for c, fields in stats.items() if int(fields[1]) == pid and c not in tree]
    ticks = os.sysconf("SC_CLK_TCK")
    # fields[11:15] are utime, stime, cutime, cstime (proc(5) fields 14-17).
    return sum(sum(int(v) for v in stats[pid][11:15]) for pid in tree) / ticks


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError(f"bench-queue: timed out waiting for {what}")


def run_once(workers: int, baseline: bytes, photos: list[bytes], folder: Path, *, nice: int = 10,
             job_threads: int = 1) -> RunResult:
    """One measured run in ``folder`` (its instance and worker logs)."""
    from sqlalchemy import select

    from tracker.config import Config
    from tracker.jobs import TaskQueue
    from tracker.models import Analysis, make_engine, make_sessionmaker
    from tracker.models.migrate import upgrade
    from tracker.models.vocabulary import CONSENT_PHOTOGRAPHY, VISIT_TREATMENT
    from tracker.services import accounts, patients, series as series_svc
    from tracker.services.dispatch import bind_sink
    from tracker.services.intake import IntakeLimits, PhotoTags, ingest_photo
    from tracker.storage import storage_from_config

    instance = folder / "instance"
    os.environ["TRACKER_INSTANCE_PATH"] = str(instance)  # Config() below reads the same settings
    os.environ["TRACKER_QUEUE_NAME"] = f"tracker-bench-{uuid.uuid4().hex[:8]}"  # a shared Redis: our own queue
    env = _bench_env(instance)
    config = Config()
    config.ensure_instance()
    engine = make_engine(config.DATABASE_URL)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    storage = storage_from_config(config)
    queue = TaskQueue(config, storage=storage, session_factory=factory)
    limits = IntakeLimits.from_config(config)
    tag = uuid.uuid4().hex[:8]
    tags = PhotoTags(view="closeup", region="left cheek", time_point="before")
    procs = _start_workers(workers, env, folder, nice, job_threads)
    try:
        with bind_sink(factory(), queue) as db:
            _, admin = accounts.create_clinic(db, name=f"Bench {tag}", admin_email=f"bench-{tag}@example.test",
                                              admin_password="bench password 1")
            patient = patients.create_patient(db, admin, patients.PatientInput(
                full_name="Bench patient", date_of_birth=dt.date(1980, 1, 1), fitzpatrick=2))
            patients.grant_consent(db, admin, patient.id, CONSENT_PHOTOGRAPHY, granted_on=dt.date(2024, 1, 1))
            series = series_svc.create_series(db, admin, patient.id, series_svc.SeriesInput(
                treatment_type="fractional_co2", treated_areas=["full_face"]))
            visits = [series_svc.create_visit(db, admin, series.id, series_svc.VisitInput(
                kind=VISIT_TREATMENT, visit_date=dt.date(2024, 1, 10) + dt.timedelta(days=91 * i)))
                for i in range(2)]
            db.commit()
            base = ingest_photo(db, storage, admin, visits[0].id, baseline, filename="baseline.jpg", tags=tags,
                                limits=limits)

            def finished(ids: list[str]) -> bool:
                with factory() as s:
                    rows = s.scalars(select(Analysis.state).where(Analysis.photo_id.in_(ids)))
                    states = list(rows)
                    return bool(states) and all(x in TERMINAL for x in states)

            _wait(lambda: finished([base.id]), 900, "the baseline's analysis")
            uploaded: dict[str, float] = {}
            upload_s: list[float] = []
            cpu0 = _tree_cpu_s([p.pid for p in procs])
            t0 = time.time()
            for i, data in enumerate(photos):
                t_up = time.perf_counter()
                photo = ingest_photo(db, storage, admin, visits[1].id, data, filename=f"p{i}.jpg", tags=tags,
                                     limits=limits)
                upload_s.append(time.perf_counter() - t_up)
                uploaded[photo.id] = time.time()  # the moment the upload's response would go out
        _wait(lambda: finished(list(uploaded)), 3600, "the photos' analyses")
        cpu1 = _tree_cpu_s([p.pid for p in procs])
        with factory() as s:
            rows = list(s.scalars(select(Analysis).where(Analysis.photo_id.in_(list(uploaded)))))
        last: dict[str, Analysis] = {}
        for row in rows:
            if row.photo_id not in last or row.finished_at > last[row.photo_id].finished_at:
                last[row.photo_id] = row
        latencies = [last[pid].finished_at.timestamp() - t for pid, t in uploaded.items()]
        wall = max(r.finished_at.timestamp() for r in last.values()) - t0
        states: dict[str, int] = {}
        for row in last.values():
            states[row.state] = states.get(row.state, 0) + 1
        cpu = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
        return RunResult(workers, len(photos), wall, latencies, states, _stage_medians(upload_s, last.values()), cpu,
                         job_threads)
    finally:
        _stop(procs)
        engine.dispose()


def _stage_medians(upload_s: list[float], rows: object) -> dict[str, float]:
    """Median upload time and the median of each analysis stage recorded in the results."""
    stages: dict[str, list[float]] = {"upload": upload_s}
    for row in rows:  # type: ignore[attr-defined]
        timings = json.loads(row.result_json or "{}").get("timings_s", {}) if row.result_json else {}
        for name, value in timings.items():
            stages.setdefault(name.removesuffix("_s"), []).append(float(value))
    return {name: statistics.median(values) for name, values in stages.items() if values}


def run_benchmark(*, photos: int, worker_counts: list[int], out: Path | None, nice: int = 10,
                  job_threads: int = 1, echo: Callable[[str], None]) -> Iterator[str]:
    """Yield one report line per worker count (and a header)."""
    echo(f"Simulating one 12 MP close-up ({BENCH_SHAPE[1]}x{BENCH_SHAPE[0]}) and {photos} re-encodings...")
    baseline, uploads = simulated_uploads(photos)
    saved = {k: os.environ.get(k) for k in ("TRACKER_INSTANCE_PATH", "TRACKER_QUEUE_NAME")}
    root = out or Path(tempfile.mkdtemp(prefix="tracker-bench-queue-"))
    db = os.environ.get("TRACKER_DATABASE_URL", "SQLite (embedded)").split("@")[-1]
    broker = os.environ.get("TRACKER_BROKER_URL", "SqliteHuey (embedded)").split("@")[-1]
    yield (f"bench-queue: {photos} x 12 MP JPEG ({len(uploads[0]) / 1e6:.1f}-{len(uploads[-1]) / 1e6:.1f} MB), "
           f"database {db}, broker {broker}, {machine()}, load {os.getloadavg()[0]:.1f}")
    try:
        for n in worker_counts:
            echo(f"Run with {n} worker process(es)...")
            result = run_once(n, baseline, uploads, root / f"workers-{n}", nice=nice, job_threads=job_threads)
            yield result.line()
            yield result.stages_line()
            yield result.cpu_line()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
