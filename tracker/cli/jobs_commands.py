"""CLI commands of the background work: ``tracker reanalyze`` and ``tracker bench-queue``."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.context import CliContext, pass_cli

#: Photos per transaction: their analyses reach the workers while the rest is still being checked.
BATCH = 50


@click.command("reanalyze")
@pass_cli
def reanalyze(cli: CliContext) -> None:
    """Queue an analysis for every photo whose result is stale (older analysis version,
    changed baseline); safe to run again: nothing is queued twice. Workers do the work."""
    from tracker.jobs import TaskQueue
    from tracker.services.analysis import current_analysis_version, photo_ids_in_order, reanalyze_photo
    from tracker.services.dispatch import bind_sink

    cli.require_current_schema()
    factory = cli.sessions
    queue = TaskQueue(cli.config, session_factory=factory)
    queued = 0
    with bind_sink(factory(), queue) as session:
        ids = photo_ids_in_order(session)
        with click.progressbar(ids, label=f"Checking {len(ids)} photos (analysis {current_analysis_version()})",
                               show_pos=True) as bar:
            for n, photo_id in enumerate(bar, start=1):
                queued += int(reanalyze_photo(session, photo_id))
                if n % BATCH == 0:
                    session.commit()  # releases this batch's jobs to the queue
            session.commit()
    click.echo(f"{len(ids)} photos checked: {queued} analyses queued, {len(ids) - queued} up to date or "
               "already queued.")


@click.command("bench-queue")
@click.option("--photos", default=20, show_default=True, type=int, help="Photos per run.")
@click.option("--workers", "worker_counts", default="1,2", show_default=True,
              help="Comma-separated numbers of `tracker worker` processes to measure.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for the runs' instances (default: a temporary folder).")
@click.option("--worker-nice", default=10, show_default=True, type=click.IntRange(0, 19),
              help="The workers' --nice (10 as `tracker serve` runs them; 0 to compare on a machine others load).")
@click.option("--job-threads", default=1, show_default=True, type=click.IntRange(1, 8),
              help="Job threads a worker process (1 as the speed aim is stated; `tracker serve` runs 2).")
def bench_queue(photos: int, worker_counts: str, out: Path | None, worker_nice: int, job_threads: int) -> None:
    """Photos analysed per minute with N workers on 12 MP JPEGs, and upload-to-done latency.

    Uses the configured database and broker (TRACKER_DATABASE_URL / TRACKER_BROKER_URL);
    by default a fresh embedded instance (SQLite + SqliteHuey) per run.
    """
    from tracker.evaluation.throughput import run_benchmark

    counts = [int(x) for x in worker_counts.split(",") if x.strip()]
    for line in run_benchmark(photos=photos, worker_counts=counts, out=out, nice=worker_nice,
                              job_threads=job_threads, echo=click.echo):
        click.echo(line)


commands = [reanalyze, bench_queue]
