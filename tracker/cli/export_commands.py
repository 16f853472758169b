"""``tracker verify-export BUNDLE.zip``: is this bundle what the server produced?

Checks every file of the bundle against the server's own record of the export (not
only against the bundle's manifest, which anyone can edit), and each original photo
it derives from against the stored original. Exit 0 when everything matches, 1 when
anything differs, 2 when the bundle cannot be read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tracker.cli.context import CliContext, pass_cli


@click.command("verify-export")
@click.argument("bundle", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@pass_cli
def verify_export(cli: CliContext, bundle: Path) -> None:
    """Check an export BUNDLE.zip against the stored originals and the server's record of it."""
    from tracker.services.exports import verify_bundle

    with cli.sessions() as session:
        report = verify_bundle(session, cli.storage, bundle)  # read as a stream, capped
    click.echo(f"Export {report.export_id or '(unknown)'}: {bundle.name}")
    for problem in report.problems:
        click.echo(f"PROBLEM   {problem}")
    for name, ok, what in report.files:
        click.echo(f"{'OK      ' if ok else 'FAILED  '}  {name}: {what}")
    for photo_id, ok, what in report.originals:
        click.echo(f"{'OK      ' if ok else 'FAILED  '}  original photo {photo_id}: {what}")
    if report.ok:
        click.echo("Verified: every file is what the server produced, and the originals are intact.")
        return
    click.echo("NOT VERIFIED: this bundle differs from what the server produced.")
    sys.exit(2 if not report.files and not report.originals else 1)


commands = [verify_export]
