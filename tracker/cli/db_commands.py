"""``tracker db upgrade|current`` and ``tracker clinic create``: the schema and a clinic's first admin."""

from __future__ import annotations

import click

from tracker.cli.context import CliContext, pass_cli
from tracker.models.migrate import current_revision, head_revision, upgrade
from tracker.services import accounts
from tracker.services.errors import DomainError


@click.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_cli
def db_upgrade(cli: CliContext, revision: str) -> None:
    """Create or update the database schema; existing data is kept."""
    before = current_revision(cli.engine)
    upgrade(cli.engine, revision)
    after = current_revision(cli.engine)
    if before == after:
        click.echo(f"Database is up to date (revision {after}).")
    else:
        click.echo(f"Database upgraded from {before or 'empty'} to {after}.")


@db.command("current")
@pass_cli
def db_current(cli: CliContext) -> None:
    """Print the database's schema revision."""
    click.echo(f"current: {current_revision(cli.engine) or 'none'}  newest: {head_revision()}")


@click.group()
def clinic() -> None:
    """Clinics and their first admin."""


@clinic.command("create")
@click.option("--name", required=True, help="The clinic's name.")
@click.option("--admin-email", required=True, help="Email the clinic admin signs in with.")
@click.option("--admin-name", default="Clinic admin", show_default=True, help="The admin's full name.")
@click.option("--admin-password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Password (asked for when not given; at least 10 characters).")
@pass_cli
def clinic_create(cli: CliContext, name: str, admin_email: str, admin_name: str, admin_password: str) -> None:
    """Create a clinic and its first clinic admin."""
    cli.require_current_schema()
    with cli.sessions() as session:
        try:
            clinic_row, admin = accounts.create_clinic(session, name=name, admin_email=admin_email,
                                                       admin_password=admin_password, admin_name=admin_name)
            session.commit()
        except DomainError as e:
            raise click.ClickException(e.message) from e
    click.echo(f"Created clinic {clinic_row.name!r}; its admin signs in as {admin.email}.")


commands = [db, clinic]
