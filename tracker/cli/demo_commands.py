"""``tracker demo``: the demo clinic, its logins and a simulated series."""

from __future__ import annotations

import click

from tracker.cli.context import load_config, open_engine
from tracker.config import Config


def print_demo_logins(host: str | None = None, port: int | None = None, scheme: str = "http") -> None:
    from tracker.services.demo import CLINIC_NAME, LOGINS

    if host is not None:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        click.echo(f"\n  Open {scheme}://{shown}:{port}/ in a browser.")
    click.echo(f"\n  {CLINIC_NAME} (simulated data) - sign in as:")
    for login in LOGINS:
        click.echo(f"    {login.role:<13} {login.email:<20} password: {login.password}")
    click.echo("")


@click.command()
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

    config = load_config()
    engine = open_engine(config)
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


def demo_present(config: Config) -> bool:
    from tracker.models import make_sessionmaker
    from tracker.services.demo import demo_clinic

    engine = open_engine(config)
    try:
        with make_sessionmaker(engine)() as session:
            return demo_clinic(session) is not None
    finally:
        engine.dispose()


commands = [demo]
