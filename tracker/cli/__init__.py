"""The ``tracker`` command: serve, worker, demo, db upgrade, clinic create, verify.

Commands of other parts register themselves: ``tracker/cli/analysis_commands.py``
(when present) exposes ``commands`` (a list of click commands) and/or
``register(group)``; they are added to the main group.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from tracker import __version__
from tracker.config import Config, ConfigError
from tracker.private_files import restrict_umask

#: Modules that add commands to ``tracker`` if they exist.
OPTIONAL_COMMAND_MODULES = ("tracker.cli.analysis_commands", "tracker.cli.jobs_commands", "tracker.cli.admin_commands",
                            "tracker.cli.export_commands")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tracker")
def main() -> None:
    """Before/after photo progress tracker for laser skin-resurfacing clinics.

    Settings come from the environment (TRACKER_INSTANCE_PATH, default ./instance;
    see tracker/config.py).
    """
    restrict_umask()  # every file this command writes is private from the first write


def _config() -> Config:
    try:
        config = Config()
        config.ensure_instance()
    except (ConfigError, OSError) as e:
        raise click.ClickException(str(e)) from e
    return config


def _engine(config: Config) -> Any:
    from tracker.models import make_engine

    return make_engine(config.DATABASE_URL)


def _check_migrated(engine: Any) -> None:
    from tracker.models.migrate import current_revision, head_revision

    current, head = current_revision(engine), head_revision()
    if current != head:
        raise click.ClickException(
            f"the database is at revision {current or 'none'}, the code needs {head}: run `tracker db upgrade` first")


# Database ------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Create or update the database schema; existing data is kept."""
    from tracker.models.migrate import current_revision, upgrade

    config = _config()
    engine = _engine(config)
    before = current_revision(engine)
    upgrade(engine, revision)
    after = current_revision(engine)
    engine.dispose()
    if before == after:
        click.echo(f"Database is up to date (revision {after}).")
    else:
        click.echo(f"Database upgraded from {before or 'empty'} to {after}.")


@db.command("current")
def db_current() -> None:
    """Print the database's schema revision."""
    from tracker.models.migrate import current_revision, head_revision

    engine = _engine(_config())
    click.echo(f"current: {current_revision(engine) or 'none'}  newest: {head_revision()}")
    engine.dispose()


# Clinics -------------------------------------------------------------------------------
@main.group()
def clinic() -> None:
    """Clinics and their first admin."""


@clinic.command("create")
@click.option("--name", required=True, help="The clinic's name.")
@click.option("--admin-email", required=True, help="Email the clinic admin signs in with.")
@click.option("--admin-name", default="Clinic admin", show_default=True, help="The admin's full name.")
@click.option("--admin-password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Password (asked for when not given; at least 10 characters).")
def clinic_create(name: str, admin_email: str, admin_name: str, admin_password: str) -> None:
    """Create a clinic and its first clinic admin."""
    from tracker.models import make_sessionmaker
    from tracker.services import accounts
    from tracker.services.errors import DomainError

    config = _config()
    engine = _engine(config)
    _check_migrated(engine)
    with make_sessionmaker(engine)() as session:
        try:
            clinic_row, admin = accounts.create_clinic(session, name=name, admin_email=admin_email,
                                                       admin_password=admin_password, admin_name=admin_name)
            session.commit()
        except DomainError as e:
            raise click.ClickException(e.message) from e
    engine.dispose()
    click.echo(f"Created clinic {clinic_row.name!r}; its admin signs in as {admin.email}.")


# Demo ----------------------------------------------------------------------------------
def print_demo_logins(host: str | None = None, port: int | None = None, scheme: str = "http") -> None:
    from tracker.services.demo import CLINIC_NAME, LOGINS

    if host is not None:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        click.echo(f"\n  Open {scheme}://{shown}:{port}/ in a browser.")
    click.echo(f"\n  {CLINIC_NAME} (simulated data) - sign in as:")
    for login in LOGINS:
        click.echo(f"    {login.role:<13} {login.email:<20} password: {login.password}")
    click.echo("")


@main.command()
@click.option("--size", type=click.Choice(["full", "small"]), default="full", show_default=True,
              help="Photo size of the simulated series (small is for quick tests).")
def demo(size: str) -> None:
    """Create the demo clinic, accounts and a simulated series (safe to run again)."""
    from tracker.jobs import TaskQueue
    from tracker.models import make_sessionmaker
    from tracker.models.migrate import upgrade
    from tracker.services.demo import load_demo
    from tracker.services.dispatch import bind_sink
    from tracker.services.intake import IntakeLimits
    from tracker.storage import storage_from_config

    config = _config()
    engine = _engine(config)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    storage = storage_from_config(config)
    queue = TaskQueue(config, storage=storage, session_factory=factory)
    with bind_sink(factory(), queue) as session:
        result = load_demo(session, storage, IntakeLimits.from_config(config), size=size, progress=click.echo)
    if result.photos_added:
        click.echo("Making previews...")
        queue.run_pending(only=("make_derivatives",))
    engine.dispose()
    click.echo(f"Demo ready: {result.photos_total} photos in the simulated series"
               f"{'' if result.photos_added else ' (nothing new to add)'}. Analyses run in the worker.")
    print_demo_logins()
    click.echo("  Start the app with `tracker serve` (it runs the worker too; --port N for another port):"
               " it prints the address to open.\n")


# Serving -------------------------------------------------------------------------------
def _demo_present(config: Config) -> bool:
    from tracker.models import make_sessionmaker
    from tracker.services.demo import demo_clinic

    engine = _engine(config)
    try:
        with make_sessionmaker(engine)() as session:
            return demo_clinic(session) is not None
    finally:
        engine.dispose()


def _set_parent_death_signal() -> None:  # pragma: no cover - runs in the child
    """Linux: the worker gets SIGTERM if the server process dies, so it never lingers."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_worker_process(workers: int) -> subprocess.Popen[bytes]:
    """The queue consumer as a child process with the same environment."""
    return subprocess.Popen([sys.executable, "-m", "tracker.cli", "worker", "--workers", str(workers)],
                            env=os.environ.copy(), preexec_fn=_set_parent_death_signal)


def stop_worker_process(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)  # Huey: finish running tasks, then stop
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _self_signed_pair(instance: Path, host: str) -> tuple[str, str]:
    """A self-signed certificate for the clinic LAN, made once with openssl and kept."""
    folder = instance / "tls"
    cert, key = folder / "cert.pem", folder / "key.pem"
    if cert.exists() and key.exists():
        return str(cert), str(key)
    folder.mkdir(parents=True, exist_ok=True)
    names = ["DNS:localhost", "IP:127.0.0.1"]
    if host not in ("0.0.0.0", "::", "127.0.0.1", "localhost"):
        names.append(("IP:" if host.replace(".", "").isdigit() else "DNS:") + host)
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "825", "-subj", "/CN=tracker",
             "-addext", "subjectAltName=" + ",".join(names), "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as e:
        raise click.ClickException(f"could not make a self-signed certificate with openssl: {e}") from e
    key.chmod(0o600)
    click.echo(f"Made a self-signed certificate in {folder} (accept it once on each tablet).")
    return str(cert), str(key)


@main.command()
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
def serve(
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

    config = _config()
    engine = _engine(config)
    _check_migrated(engine)
    engine.dispose()
    if bool(certfile) != bool(keyfile):
        raise click.UsageError("--certfile and --keyfile go together")
    if self_signed and not certfile:
        certfile, keyfile = _self_signed_pair(Path(config.INSTANCE_PATH), host)
    scheme = "https" if certfile else "http"

    class TrackerServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {"bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread", "threads": 4,
                       "timeout": 120, "graceful_timeout": 20, "accesslog": "-", "errorlog": "-",
                       "forwarded_allow_ips": "127.0.0.1", "proc_name": "tracker"}
            if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 27: no shared ~/.gunicorn socket
                options["control_socket_disable"] = True
            if certfile:
                options.update(certfile=certfile, keyfile=keyfile)
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return create_app(Config())

    worker = start_worker_process(queue_workers) if queue_workers > 0 else None
    click.echo(f"tracker {__version__}: instance {config.INSTANCE_PATH}")
    if _demo_present(config):
        print_demo_logins(host, port, scheme)
    else:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        click.echo(f"\n  Open {scheme}://{shown}:{port}/ in a browser.\n")
    try:
        TrackerServer().run()
    finally:
        if worker is not None:
            stop_worker_process(worker)


@main.command()
@click.option("--workers", default=2, show_default=True, type=int, help="Job threads.")
@click.option("--drain", is_flag=True, help="Run the jobs queued now, then exit (no waiting for new ones).")
def worker(workers: int, drain: bool) -> None:
    """Run the background job consumer (derived images, analyses)."""
    import logging

    from tracker.jobs import TaskQueue

    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(name)s: %(message)s")
    config = _config()
    queue = TaskQueue(config)
    if drain:
        ran = queue.run_pending()
        click.echo(f"Ran {ran} queued jobs.")
        return
    missing = queue.requeue_missing_derivatives()
    if missing:
        click.echo(f"Queued previews for {missing} photos that were still waiting for them.")
    queue.consumer(workers=max(1, workers)).run()


# Maintenance ---------------------------------------------------------------------------
@main.command()
def verify() -> None:
    """Check that every photo row has its file and report files no row points at."""
    from tracker.models import make_sessionmaker
    from tracker.services.verify import verify_storage
    from tracker.storage import storage_from_config

    config = _config()
    engine = _engine(config)
    with make_sessionmaker(engine)() as session:
        report = verify_storage(session, storage_from_config(config))
    engine.dispose()
    for key in report.missing:
        click.echo(f"MISSING  {key}")
    for key in report.orphans:
        click.echo(f"ORPHAN   {key}")
    click.echo(f"{report.checked} stored files checked: {len(report.missing)} missing, "
               f"{len(report.orphans)} orphan files.")
    if report.missing:
        sys.exit(1)


def _register_optional_commands(group: click.Group) -> None:
    for name in OPTIONAL_COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue
            raise
        for command in getattr(module, "commands", []):
            group.add_command(command)
        register = getattr(module, "register", None)
        if callable(register):
            register(group)


_register_optional_commands(main)

__all__ = ["main"]
