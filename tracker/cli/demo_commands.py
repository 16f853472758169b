"""``tracker demo``: the demo clinic, its logins and a simulated series."""

from __future__ import annotations

import click

from tracker.cli.context import CliContext, pass_cli
from tracker.models.migrate import upgrade


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
@pass_cli
def demo(cli: CliContext, size: str) -> None:
    """Create the demo clinic, accounts and a simulated series (safe to run again)."""
    from tracker.jobs import TaskQueue
    from tracker.services.demo import load_demo
    from tracker.services.dispatch import bind_sink
    from tracker.services.intake import IntakeLimits

    upgrade(cli.engine)
    queue = TaskQueue(cli.config, storage=cli.storage, session_factory=cli.sessions)
    with bind_sink(cli.sessions(), queue) as session:
        result = load_demo(session, cli.storage, IntakeLimits.from_config(cli.config), size=size,
                           progress=click.echo)
    if result.photos_added:
        click.echo("Making previews...")
        queue.run_pending(only=("make_derivatives",))
    click.echo(f"Demo ready: {result.photos_total} photos in the simulated series"
               f"{'' if result.photos_added else ' (nothing new to add)'}. Analyses run in the worker.")
    print_demo_logins()
    click.echo("  Start the app with `tracker serve` (it runs the worker too; --port N for another port):"
               " it prints the address to open.\n")


def demo_present(cli: CliContext) -> bool:
    from tracker.services.demo import demo_clinic

    with cli.sessions() as session:
        return demo_clinic(session) is not None


commands = [demo]
