"""``tracker restore``: everything is checked before anything is touched, then swapped in.

Order: (1) the manifest, every hash, the file names, the database copy's own
integrity, and that every file the copy's rows refer to is in the backup; (2) the
files are copied into a staging folder inside the image store; (3) the database is
swapped in at once (SQLite: a complete copy renamed over the old file; PostgreSQL:
``pg_restore`` in one transaction); (4) the staged files are renamed into place. A
refusal in (1)-(3) leaves the instance exactly as it was.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tracker.private_files import FILE_MODE, private_dir
from tracker.storage import FileSystemStorage

from ..integrity import expected_files
from . import encryption, postgres
from .manifest import IMAGES, PG_FILE, SQLITE_FILE, BackupError, check_backup, sha256_file
from .snapshot import copy_sqlite, is_sqlite, sqlite_path

#: Staging folder inside the image store (same filesystem: the final renames are atomic).
STAGING = ".restore-staging"


@dataclass
class RestoreResult:
    files: int
    database: str


def database_is_empty(database_url: str) -> bool:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            try:
                return not conn.execute(text("SELECT 1 FROM clinics LIMIT 1")).first()
            except DBAPIError:  # no schema yet: empty
                return True
    finally:
        engine.dispose()


def _sqlite_copy_is_sound(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as e:
        raise BackupError(f"The backup's database copy cannot be read ({e}); nothing was restored.") from e
    finally:
        conn.close()
    if not verdict or verdict[0] != "ok":
        raise BackupError("The backup's database copy is damaged; nothing was restored.")


def _snapshot_files_are_there(path: Path, manifest: dict[str, Any]) -> None:
    """Every file a row of the database copy refers to is in the backup (or was already
    missing when the backup was made, as its manifest says)."""
    engine = create_engine(f"sqlite:///file:{path}?mode=ro&immutable=1&uri=true")
    try:
        with Session(engine) as session:
            wanted = [f.key for f in expected_files(session)]
    finally:
        engine.dispose()
    known = set(manifest["files"]) | set(manifest.get("missing") or [])
    absent = [k for k in wanted if k not in known]
    if absent:
        raise BackupError(f"{len(absent)} files the backup's database refers to are not in the backup "
                          f"(first: {absent[0]}); nothing was restored.")


def _check_target(kind: str, database_url: str, replace: bool) -> None:
    if kind == SQLITE_FILE and not is_sqlite(database_url):
        raise BackupError("This backup is of an SQLite database; the configured database is not SQLite.")
    if kind == PG_FILE and is_sqlite(database_url):
        raise BackupError("This backup is of a PostgreSQL database; the configured database is SQLite.")
    if not replace and not database_is_empty(database_url):
        raise BackupError("The target database already holds clinics. Stop the server and pass --replace "
                          "to overwrite it with the backup.")


def _stage(root: Path, files: dict[str, str], storage: FileSystemStorage) -> Path:
    staging = storage.root / STAGING / secrets.token_hex(8)
    private_dir(staging)
    for key, digest in files.items():
        dst = staging / key
        private_dir(dst.parent)
        shutil.copyfile(root / IMAGES / key, dst)
        dst.chmod(FILE_MODE)
        if sha256_file(dst) != digest:  # changed under us since the check
            raise BackupError(f"{key} changed while it was copied; nothing was restored.")
    return staging


def _swap_sqlite(copy: Path, database_url: str) -> None:
    path = sqlite_path(database_url)
    private_dir(path.parent)
    incoming = path.with_name(path.name + ".restoring")
    incoming.unlink(missing_ok=True)
    copy_sqlite(copy, incoming)
    _sqlite_copy_is_sound(incoming)
    for suffix in ("-wal", "-shm"):  # the old database's journal must never meet the new file
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    os.replace(incoming, path)


def restore(src: str | os.PathLike[str], database_url: str, storage: FileSystemStorage, *,
            replace: bool = False, key: bytes | None = None) -> RestoreResult:
    """Bring back a backup: check it entirely, stage its files, swap in the database, then
    rename the files into place. A sealed backup needs its ``key``: every file is opened
    (and so authenticated) into a private folder first, then restored from there.

    Run it with the server and worker stopped. Refuses to overwrite a database that has
    clinics unless ``replace`` is given.
    """
    root = Path(src).resolve()
    if not encryption.is_sealed(root):
        return _restore(root, database_url, storage, replace)
    if key is None:
        raise BackupError("This backup is encrypted: give the clinic's backup key (--key-file).")
    plain = storage.root.parent / f".restore-open-{secrets.token_hex(4)}"
    try:
        encryption.open_folder(root, plain, key)
        return _restore(plain, database_url, storage, replace)
    finally:
        encryption.discard(plain)


def _restore(root: Path, database_url: str, storage: FileSystemStorage, replace: bool) -> RestoreResult:
    manifest = check_backup(root)
    kind = str(manifest["database"]["file"])
    _check_target(kind, database_url, replace)
    if kind == SQLITE_FILE:
        _sqlite_copy_is_sound(root / SQLITE_FILE)
        _snapshot_files_are_there(root / SQLITE_FILE, manifest)
    else:
        postgres.check_archive(str(root / PG_FILE), database_url)
    files: dict[str, str] = manifest["files"]
    staging = _stage(root, files, storage)
    try:
        if kind == SQLITE_FILE:
            _swap_sqlite(root / SQLITE_FILE, database_url)
        else:
            postgres.restore_dump(str(root / PG_FILE), database_url)
        for key in files:
            dst = storage.root / key
            private_dir(dst.parent)
            os.replace(staging / key, dst)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreResult(len(files), kind)
