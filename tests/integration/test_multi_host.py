"""Workers on several hosts: two `tracker worker` processes, each in its own network
namespace with its own host name and loopback, reach PostgreSQL and Redis through a
veth pair; the image store is one folder bind-mounted for each. One worker's link is
cut mid-job (``ip link set ... down``): its job is re-leased by the other worker and
nothing is lost or written twice; when the link comes back the cut worker finds its
lease lost and writes no row, and the files it wrote are unreferenced orphans that
`tracker verify` reports. The lease holder (host, process, thread) is on each row.

Needs root and ``ip netns`` (skipped with the reason otherwise).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tracker.config import TestConfig
from tracker.models import Analysis, make_engine, make_sessionmaker
from tracker.models.migrate import upgrade

from .conftest import _pg_admin_url, wait_until
from .test_crash_recovery import WRITTEN, upload_photos

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 5


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30)


def _require_namespaces() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to create network namespaces (ip netns) and bind mounts")
    for tool in ("ip", "unshare", "mount"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    probe = f"trkprobe{secrets.token_hex(3)}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"ip netns is not available here: {made.stderr.strip()}")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, check=False)


class Forwarder:
    """A TCP relay in the host namespace: ``listen`` (a veth address) -> ``target`` on
    loopback, where the test PostgreSQL and Redis listen (scripts/services.sh)."""

    def __init__(self, listen: tuple[str, int], target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server(listen)
        self.server.settimeout(0.5)
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.open: list[socket.socket] = []
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                t = threading.Thread(target=self._pump, args=(a, b), daemon=True)
                self.threads.append(t)
                t.start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.stopped.set()
        with self.lock:
            for s in self.open:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for t in self.threads:
            t.join(10)
        with self.lock:
            for s in self.open:
                s.close()
        self.server.close()


@dataclass
class Host:
    name: str
    netns: str
    host_if: str
    host_ip: str
    storage: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None


@pytest.fixture
def cluster(services, tmp_path) -> Iterator[dict[str, object]]:
    _require_namespaces()
    import psycopg

    tag = secrets.token_hex(2)
    octet = 100 + secrets.randbelow(100)
    admin = _pg_admin_url(services["TRACKER_DATABASE_URL"])
    db_name = f"tracker_mh_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    pg_port = int(services["TRACKER_DATABASE_URL"].rsplit(":", 1)[1].split("/")[0])
    redis_port = int(services["TRACKER_BROKER_URL"].rsplit(":", 1)[1].split("/")[0])
    shared = tmp_path / "shared-storage"
    shared.mkdir()
    hosts, forwarders, mounts = [], [], []
    try:
        for i, name in enumerate(("worker-a", "worker-b")):
            netns, host_if, ns_if = f"trk{tag}{i}", f"trk{tag}{i}h", f"trk{tag}{i}n"
            host_ip, ns_ip = f"10.231.{octet + i}.1", f"10.231.{octet + i}.2"
            _run("ip", "netns", "add", netns)
            _run("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
            _run("ip", "link", "set", ns_if, "netns", netns)
            _run("ip", "addr", "add", f"{host_ip}/30", "dev", host_if)
            _run("ip", "link", "set", host_if, "up")
            for cmd in (["ip", "addr", "add", f"{ns_ip}/30", "dev", ns_if], ["ip", "link", "set", ns_if, "up"],
                        ["ip", "link", "set", "lo", "up"]):
                _run("ip", "netns", "exec", netns, *cmd)
            mount = tmp_path / f"{name}-storage"
            mount.mkdir()
            _run("mount", "--bind", str(shared), str(mount))
            mounts.append(mount)
            forwarders += [Forwarder((host_ip, pg_port), ("127.0.0.1", pg_port)),
                           Forwarder((host_ip, redis_port), ("127.0.0.1", redis_port))]
            hosts.append(Host(name, netns, host_if, host_ip, mount, tmp_path / f"{name}.log"))
        queue_name = f"tracker-mh-{uuid.uuid4().hex[:8]}"
        base_url = services["TRACKER_DATABASE_URL"].rsplit("/", 1)[0] + "/" + db_name
        config = TestConfig(tmp_path / "instance", DATABASE_URL=base_url, BROKER_URL=services["TRACKER_BROKER_URL"],
                            STORAGE_PATH=shared, QUEUE_NAME=queue_name, ANALYSIS_LEASE_SECONDS=LEASE_SECONDS,
                            SWEEP_SECONDS=1)
        config.ensure_instance()
        engine = make_engine(base_url)
        upgrade(engine)
        engine.dispose()
        yield {"hosts": hosts, "config": config, "db": db_name, "queue": queue_name, "pg_port": pg_port,
               "redis_port": redis_port, "tmp": tmp_path}
    finally:
        for h in hosts:
            if h.proc is not None and h.proc.poll() is None:
                h.proc.send_signal(signal.SIGKILL)
                h.proc.wait()
        for f in forwarders:
            f.close()
        for h in hosts:
            subprocess.run(["ip", "link", "del", h.host_if], capture_output=True, check=False)
            subprocess.run(["ip", "netns", "del", h.netns], capture_output=True, check=False)
        for m in mounts:
            subprocess.run(["umount", str(m)], capture_output=True, check=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def _start(host: Host, cluster: dict[str, object]) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRACKER_SECRET_KEY": "multi-host-test",
           "TRACKER_INSTANCE_PATH": str(cluster["tmp"] / f"{host.name}-instance"),  # type: ignore[operator]
           "TRACKER_DATABASE_URL": f"postgresql+psycopg://postgres@{host.host_ip}:{cluster['pg_port']}/{cluster['db']}",
           "TRACKER_BROKER_URL": f"redis://{host.host_ip}:{cluster['redis_port']}/0",
           "TRACKER_QUEUE_NAME": str(cluster["queue"]), "TRACKER_STORAGE_PATH": str(host.storage),
           "TRACKER_ANALYSIS_LEASE_SECONDS": str(LEASE_SECONDS), "TRACKER_SWEEP_SECONDS": "1"}
    command = f"hostname {host.name} && exec {sys.executable} -m tracker.cli worker --workers 1"
    with open(host.log, "wb") as out:
        host.proc = subprocess.Popen(["ip", "netns", "exec", host.netns, "unshare", "--uts", "sh", "-c", command],
                                     env=env, stdout=out, stderr=subprocess.STDOUT)


def test_a_worker_cut_off_mid_job_loses_its_lease_and_writes_nothing(cluster):
    config = cluster["config"]
    photo_ids = upload_photos(config, 12)
    engine = make_engine(config.DATABASE_URL)  # type: ignore[attr-defined]
    try:
        _check_cut_worker(cluster, make_sessionmaker(engine), photo_ids)
    finally:
        engine.dispose()


def _check_cut_worker(cluster, factory, photo_ids) -> None:  # noqa: ANN001
    a, b = cluster["hosts"]
    try:
        _cut_one_worker(cluster, factory, photo_ids, a, b)
    except AssertionError:
        for h in (a, b):
            if h.proc is not None and h.proc.poll() is None:
                os.kill(h.proc.pid, signal.SIGUSR1)  # each thread's stack into its log
        time.sleep(1)
        for h in (a, b):  # keep the workers' logs where the failure is read
            shutil.copy(h.log, Path("/tmp") / f"multi-host-{h.name}.log")
        raise


def _cut_one_worker(cluster, factory, photo_ids, a, b) -> None:  # noqa: ANN001
    config = cluster["config"]
    _start(a, cluster)

    def held_by_a() -> tuple[str, int] | None:
        with factory() as s:
            row = s.execute(select(Analysis.id, Analysis.attempts).where(
                Analysis.state == "running", Analysis.lease_holder.like("worker-a:%"))).first()
            return (row[0], row[1]) if row else None

    def cpu_seconds(pid: int) -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def measuring_on_a() -> tuple[str, int] | None:
        """A job A holds and has spent 0.4 s of CPU on since: past its reads, measuring. Only
        once A finished a first job, so that its CPU goes to measuring, not to imports."""
        if not WRITTEN.search(a.log.read_text(errors="replace")):
            return None
        held = held_by_a()
        if held is None:
            return None
        start = cpu_seconds(a.proc.pid)
        deadline = time.monotonic() + 60
        while cpu_seconds(a.proc.pid) - start < 0.4 and time.monotonic() < deadline:
            time.sleep(0.05)
        return held if held_by_a() == held else None

    victim, cut_attempt = wait_until(measuring_on_a, timeout=240, what="worker A to be measuring", every=0.1)
    _run("ip", "link", "set", a.host_if, "down")  # worker A's host loses the network mid-job
    _start(b, cluster)

    def all_finished() -> bool:
        with factory() as s:
            busy = s.scalar(select(func.count()).select_from(Analysis)
                            .where(Analysis.state.in_(("queued", "running"))))
            total = s.scalar(select(func.count()).select_from(Analysis))
            return total > 0 and busy == 0
    wait_until(all_finished, timeout=300, what="worker B to finish every analysis", every=0.5)
    with factory() as s:
        row = s.get(Analysis, victim)
        assert row.state in ("done", "refused") and row.attempts == cut_attempt + 1
        assert row.lease_holder.startswith("worker-b:"), row.lease_holder
        recorded = dict(re.findall(r'"(\w+)": "([^"]+)"', row.overlay_keys or "{}"))
        snapshot = (row.result_json, row.overlay_keys, row.finished_at)

    # The link comes back: A finds its lease lost and writes nothing.
    _run("ip", "link", "set", a.host_if, "up")
    wait_until(lambda: re.search(rf"analysis {victim}: (lease lost|database error)", a.log.read_text(
        errors="replace")), timeout=300, what="worker A to notice it lost the lease", every=1)
    with factory() as s:
        row = s.get(Analysis, victim)
        assert (row.result_json, row.overlay_keys, row.finished_at) == snapshot
        rows = list(s.scalars(select(Analysis)))
    assert {r.state for r in rows} <= {"done", "refused"} and len(rows) >= len(photo_ids) - 1
    written = Counter(m.group(1) for h in (a, b) for m in WRITTEN.finditer(h.log.read_text(errors="replace")))
    assert written[victim] == 1 and max(written.values()) == 1, written
    assert not [m for m in WRITTEN.finditer(a.log.read_text(errors="replace")) if m.group(1) == victim]

    # Files A wrote for its lost attempt are orphans that `tracker verify` reports.
    stale = sorted(p.relative_to(config.STORAGE_PATH).as_posix()  # type: ignore[attr-defined]
                   for p in (config.STORAGE_PATH / "analyses" / victim / str(cut_attempt)).glob("*"))  # type: ignore
    assert stale, "worker A wrote no file for its lost attempt (it was cut before measuring)"
    assert not set(stale) & set(recorded.values())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRACKER_INSTANCE_PATH": str(config.INSTANCE_PATH),  # type: ignore
           "TRACKER_DATABASE_URL": config.DATABASE_URL, "TRACKER_STORAGE_PATH": str(config.STORAGE_PATH)}  # type: ignore
    report = subprocess.run([sys.executable, "-m", "tracker.cli", "verify"], env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert report.returncode == 0, report.stdout + report.stderr
    for key in stale:
        assert f"ORPHAN   {key}" in report.stdout
    # Each row shows who held it last.
    status = subprocess.run([sys.executable, "-m", "tracker.cli", "worker", "--status"], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert status.returncode == 0 and "worker-b:" in status.stdout, status.stdout + status.stderr
