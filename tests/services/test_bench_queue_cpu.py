"""bench-queue's worker CPU figure: the CPU of a worker's whole process tree, read from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tracker.evaluation.throughput import _tree_cpu_s

# A parent that starts a child burning CPU, then both wait to be stopped.
_BURN = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.6: pass\\ntime.sleep(60)"])
t = time.process_time()
while time.process_time() - t < 0.3: pass
print("busy", flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_tree_cpu_counts_the_worker_and_its_children() -> None:
    with subprocess.Popen([sys.executable, "-c", _BURN], stdout=subprocess.PIPE, text=True,
                          start_new_session=True) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "busy"
            time.sleep(1.0)  # the child's 0.6 s of spinning (started first) is done too
            cpu = _tree_cpu_s([proc.pid])
            assert cpu is not None
            # 0.3 s in the parent plus 0.6 s in the child, and interpreter start-ups; not the sleeps.
            assert 0.85 <= cpu <= 3.0
            assert _tree_cpu_s([]) == 0.0
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # the child too


def test_the_report_line_names_the_job_threads_only_when_more_than_the_aim_states() -> None:
    from tracker.evaluation.throughput import RunResult

    latencies = [10.0 + i for i in range(20)]
    one = RunResult(1, 20, 30.0, latencies, {"done": 20})
    two = RunResult(1, 20, 30.0, latencies, {"done": 20}, job_threads=2)
    # The line, "1 worker ... photos/min ... p95 ... s", unchanged for one job thread.
    assert one.line().startswith("1 worker   20 photos    40.0 photos/min") and "p95   28.0 s" in one.line()
    assert "job thread" not in one.line()
    assert two.line().startswith("1 worker ") and two.line().endswith("2 job threads a worker")
