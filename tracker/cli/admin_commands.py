"""Safekeeping commands: ``tracker backup DEST``, ``tracker restore SRC`` and the
re-hashing ``tracker verify`` (replaces the plain existence check)."""

from __future__ import annotations

import sys

import click

from tracker.cli.context import CliContext, pass_cli


def _setup():  # type: ignore[no-untyped-def]
    from tracker.cli.context import load_config as _config
    from tracker.storage import FileSystemStorage, storage_from_config

    config = _config()
    storage = storage_from_config(config)
    if not isinstance(storage, FileSystemStorage):
        raise click.ClickException("backup, restore and verify need the filesystem image store")
    return config, storage


KEY_FILE = click.option("--key-file", type=click.Path(dir_okay=False), envvar="TRACKER_BACKUP_KEY_FILE",
                        help="The clinic's backup key (made by `tracker backup-key`); also TRACKER_BACKUP_KEY_FILE.")


def _key(key_file: str | None) -> bytes | None:
    from tracker.services.backup.encryption import read_key

    return read_key(key_file) if key_file else None


@click.command("backup-key")
@click.argument("key_file", type=click.Path(dir_okay=False))
def backup_key_cmd(key_file: str) -> None:
    """Make a new backup key in KEY_FILE (mode 0600). Keep a copy away from the server:
    without it an encrypted backup cannot be restored."""
    from tracker.services.backup import BackupError
    from tracker.services.backup.encryption import key_id, new_key_file, read_key

    try:
        path = new_key_file(key_file)
    except BackupError as e:
        raise click.ClickException(e.message) from e
    click.echo(f"Wrote backup key {key_id(read_key(path))} to {path}. Keep a copy somewhere safe, off this server.")


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False))
@click.option("--encrypt", is_flag=True, help="Seal every file of the backup with the clinic's key (--key-file).")
@KEY_FILE
def backup_cmd(dest: str, encrypt: bool, key_file: str | None) -> None:
    """Snapshot the database and every image into the new folder DEST (safe while the app runs)."""
    from tracker.services.backup import BackupError, backup

    config, storage = _setup()
    if encrypt and not key_file:
        raise click.UsageError("--encrypt needs the clinic's key: --key-file (make one with `tracker backup-key`)")
    try:
        result = backup(config.DATABASE_URL, storage, dest, key=_key(key_file) if encrypt else None)
    except BackupError as e:
        raise click.ClickException(e.message) from e
    for key in result.altered:
        click.echo(f"ALTERED  {key} (copied as it is; its hash differs from the database)")
    for key in result.missing:
        click.echo(f"MISSING  {key} (deleted before it could be copied)")
    click.echo(f"Backed up the database ({result.database}) and {result.files} image files "
               f"({result.bytes / 1048576:.1f} MB) to {result.path}.")


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False))
@click.option("--replace", is_flag=True, help="Overwrite a database that already holds clinics.")
@KEY_FILE
def restore_cmd(src: str, replace: bool, key_file: str | None) -> None:
    """Bring back a backup made by `tracker backup` (stop the server and worker first)."""
    from tracker.services.backup import BackupError, restore

    config, storage = _setup()
    try:
        result = restore(src, config.DATABASE_URL, storage, replace=replace, key=_key(key_file))
    except BackupError as e:
        raise click.ClickException(e.message) from e
    click.echo(f"Restored the database ({result.database}) and {result.files} image files from {src}. "
               "Run `tracker verify` to re-check them.")


@click.command("verify")
@pass_cli
def verify_cmd(cli: CliContext) -> None:
    """Re-hash every stored original and derived image against the database; report missing,
    altered and orphan files (exit status 1 when anything is missing or altered)."""
    from tracker.services.integrity import verify_integrity

    with cli.sessions() as session:
        report = verify_integrity(session, cli.storage)
    for f in report.missing:
        click.echo(f"MISSING  {f.key}  ({f.what})")
    for f in report.altered:
        click.echo(f"ALTERED  {f.key}  ({f.what}: its SHA-256 no longer matches the database)")
    for key in report.orphans:
        click.echo(f"ORPHAN   {key}")
    if report.unhashed:
        click.echo(f"{len(report.unhashed)} derived files were made before hashes were recorded: present, "
                   "not re-hashable.")
    click.echo(f"{report.checked} stored files checked: {len(report.missing)} missing, "
               f"{len(report.orphans)} orphan files, {len(report.altered)} altered.")
    if not report.ok:
        sys.exit(1)


commands = [backup_key_cmd, backup_cmd, restore_cmd, verify_cmd]
