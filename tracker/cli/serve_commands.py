"""``tracker serve``: the web app under gunicorn (HTTP or HTTPS), with the job worker as a child process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tracker import __version__
from tracker.cli.context import CliContext, pass_cli
from tracker.cli.demo_commands import demo_present, print_demo_logins
from tracker.cli.tls import self_signed_pair
from tracker.cli.worker_commands import start_worker_process, stop_worker_process
from tracker.config import Config
from tracker.jobs.supervisor import WorkerSupervisor


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=int, help="Web server processes.")
@click.option("--queue-workers", default=2, show_default=True, type=int,
              help="Background job threads (0: do not start a queue consumer; run `tracker worker` elsewhere).")
@click.option("--certfile", type=click.Path(dir_okay=False, exists=True), help="TLS certificate (PEM): serve HTTPS.")
@click.option("--keyfile", type=click.Path(dir_okay=False, exists=True), help="TLS private key (PEM) for --certfile.")
@click.option("--self-signed", is_flag=True,
              help="Serve HTTPS with a self-signed certificate kept in the instance dir (a clinic LAN: tablets need "
                   "HTTPS for the camera; accept the certificate once on each tablet).")
@pass_cli
def serve(
    cli: CliContext,
    host: str,
    port: int,
    workers: int,
    queue_workers: int,
    certfile: str | None = None,
    keyfile: str | None = None,
    self_signed: bool = False,
) -> None:
    """Serve the web app with gunicorn and run the background job worker."""
    from gunicorn.app.base import BaseApplication

    from tracker.web import create_app

    config = cli.config
    cli.require_current_schema()
    has_demo = demo_present(cli)
    cli.close()  # gunicorn's workers open their own connections
    if bool(certfile) != bool(keyfile):
        raise click.UsageError("--certfile and --keyfile go together")
    if self_signed and not certfile:
        certfile, keyfile = self_signed_pair(Path(config.INSTANCE_PATH), host)
    scheme = "https" if certfile else "http"

    class TrackerServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {"bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread", "threads": 4,
                       "timeout": 120, "graceful_timeout": 20, "accesslog": "-", "errorlog": "-",
                       "forwarded_allow_ips": "127.0.0.1", "proc_name": "tracker",
                       "logger_class": "tracker.cli.access_log.RedactingLogger"}
            if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 27: no shared ~/.gunicorn socket
                options["control_socket_disable"] = True
            if certfile:
                options.update(certfile=certfile, keyfile=keyfile)
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return create_app(Config())

    click.echo(f"tracker {__version__}: instance {config.INSTANCE_PATH}")
    if has_demo:
        print_demo_logins(host, port, scheme)
    else:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        click.echo(f"\n  Open {scheme}://{shown}:{port}/ in a browser.\n")
    if queue_workers <= 0:
        TrackerServer().run()
        return
    # The worker child is supervised: restarted when it dies, its state shown by /healthz.
    with WorkerSupervisor(Path(config.INSTANCE_PATH), lambda env: start_worker_process(queue_workers, env),
                          stop_worker_process):
        TrackerServer().run()


commands = [serve]
