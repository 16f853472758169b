"""The ``tracker`` command: one click group; each ``*_commands`` module adds its commands.

``db_commands`` (schema, first clinic), ``demo_commands``, ``serve_commands`` (gunicorn,
HTTPS via ``tls``), ``worker_commands`` (job consumer), ``jobs_commands`` (re-analysis,
queue benchmark), ``analysis_commands`` (analyse a photo, benchmarks, MDC), ``admin_commands``
(backup, restore, verify), ``export_commands`` (verify an export bundle). ``context`` holds
what database commands share (:class:`~tracker.cli.context.CliContext`).
"""

from __future__ import annotations

import click

from tracker import __version__
from tracker.cli import (
    admin_commands,
    analysis_commands,
    db_commands,
    demo_commands,
    export_commands,
    jobs_commands,
    serve_commands,
    worker_commands,
)
from tracker.cli.context import CliContext
from tracker.cli.context import check_migrated as _check_migrated
from tracker.cli.context import load_config as _config
from tracker.cli.context import open_engine as _engine
from tracker.private_files import restrict_umask

COMMAND_MODULES = (db_commands, demo_commands, serve_commands, worker_commands, jobs_commands, analysis_commands,
                   admin_commands, export_commands)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tracker")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Before/after photo progress tracker for laser skin-resurfacing clinics.

    Settings come from the environment (TRACKER_INSTANCE_PATH, default ./instance;
    see tracker/config.py).
    """
    restrict_umask()  # every file this command writes is private from the first write
    ctx.obj = ctx.with_resource(CliContext())


for _module in COMMAND_MODULES:
    for _command in _module.commands:
        main.add_command(_command)

# The old private names, for command modules that still import them from here.
__all__ = ["main", "_check_migrated", "_config", "_engine"]
