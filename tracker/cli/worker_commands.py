"""``tracker worker``: the background job consumer, and running it as a child of ``tracker serve``."""

from __future__ import annotations

import faulthandler
import os
import signal
import subprocess
import sys

import click

from tracker.cli.context import CliContext, pass_cli
from tracker.jobs.supervisor import HEARTBEAT_ENV, beat_forever
from tracker.models.vocabulary import AnalysisState


def _set_parent_death_signal() -> None:  # pragma: no cover - runs in the child
    """Linux: the worker gets SIGTERM if the server process dies, so it never lingers."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_worker_process(workers: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """The queue consumer as a child process with the same environment (plus ``env``)."""
    return subprocess.Popen([sys.executable, "-m", "tracker.cli", "worker", "--workers", str(workers)],
                            env={**os.environ, **(env or {})}, preexec_fn=_set_parent_death_signal)


def stop_worker_process(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)  # Huey: finish running tasks, then stop
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@click.command()
@click.option("--workers", default=2, show_default=True, type=int, help="Job threads.")
@click.option("--drain", is_flag=True, help="Run the jobs queued now, then exit (no waiting for new ones).")
@click.option("--status", is_flag=True, help="Show the analyses being worked on and by which host and process.")
@click.option("--nice", "niceness", default=10, show_default=True, type=click.IntRange(0, 19),
              help="Lower the worker's CPU priority by this much, so that pages stay fast while it analyses.")
@pass_cli
def worker(cli: CliContext, workers: int, drain: bool, status: bool, niceness: int) -> None:
    """Run the background job consumer (derived images, analyses)."""
    import logging

    from tracker.jobs import TaskQueue

    if status:
        _status(cli)
        return
    if niceness:
        os.nice(niceness)
    from tracker.analysis.decode import return_freed_memory_to_the_system

    return_freed_memory_to_the_system()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(name)s: %(message)s")
    # `kill -USR1 <pid>`: where is each thread? Written to the process's own stderr descriptor
    # (sys.stderr may be a captured stream without one).
    faulthandler.register(signal.SIGUSR1, file=sys.__stderr__, all_threads=True)
    queue = TaskQueue(cli.config)
    if drain:
        ran = queue.run_pending()
        click.echo(f"Ran {ran} queued jobs.")
        return
    heartbeat = os.environ.get(HEARTBEAT_ENV)
    if heartbeat:  # run by `tracker serve`: tell its supervisor we are alive
        beat_forever(heartbeat)
    from tracker.analysis.pipeline import warm_up

    logging.getLogger(__name__).info("analysis loaded in %.1f s", warm_up())  # before the first photo, not during it
    missing = queue.requeue_missing_derivatives()
    if missing:
        click.echo(f"Queued previews for {missing} photos that were still waiting for them.")
    queue.consumer(workers=max(1, workers)).run()


def _status(cli: CliContext) -> None:
    from tracker.services.analysis.leases import lease_report

    with cli.sessions() as session:
        counts, rows = lease_report(session)
    click.echo("Analyses: " + (", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "none"))
    for r in rows:
        when = (f"lease until {r.lease_expires_at:%H:%M:%S}" if r.state == AnalysisState.RUNNING and r.lease_expires_at
                else f"finished {r.finished_at:%Y-%m-%d %H:%M:%S}" if r.finished_at else "")
        click.echo(f"{r.state:8} {r.analysis_id}  attempt {r.attempts}  {r.holder or '-'}  {when}")


commands = [worker]
