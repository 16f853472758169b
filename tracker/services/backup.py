"""Backups while the app runs, and restoring them.

A backup folder holds ``database.sqlite`` (SQLite's online backup API: a consistent
snapshot while the server and worker keep writing) or ``database.dump`` (``pg_dump``
for PostgreSQL), ``images/`` (every stored file the snapshot refers to) and
``manifest.json`` (the SHA-256 of every file and of the database copy).

Consistency with the images: photo files are written *before* their row is
committed and originals are never changed, so the order is (1) copy the stored
files, (2) snapshot the database, (3) copy the files that rows of the snapshot refer
to but step 1 did not see (uploads in between), (4) drop copied files no row refers
to. Every row of the snapshot then has its file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tracker import __version__
from tracker.private_files import FILE_MODE, private_dir, private_file
from tracker.storage import FileSystemStorage, StorageError

from .errors import DomainError
from .integrity import expected_files

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite"
PG_FILE = "database.dump"
IMAGES = "images"


class BackupError(DomainError):
    """A backup or restore cannot go ahead; the message says why."""

    status = 409


@dataclass
class BackupResult:
    path: Path
    files: int
    bytes: int
    database: str
    #: Files whose bytes differ from the hash the database recorded (copied as they are).
    altered: list[str] = field(default_factory=list)
    #: Files a row refers to that were deleted before they could be copied.
    missing: list[str] = field(default_factory=list)


@dataclass
class RestoreResult:
    files: int
    database: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("The database is in memory: there is nothing on disk to back up.")
    return Path(database)


def _copy_key(storage: FileSystemStorage, key: str, target_root: Path) -> bool:
    src = storage.local_path(key)
    if src is None or not src.is_file():
        return False
    dst = target_root / key
    private_dir(dst.parent)
    try:
        shutil.copy2(src, dst)
        dst.chmod(FILE_MODE)
    except FileNotFoundError:  # deleted while we copied
        return False
    return True


def backup(database_url: str, storage: FileSystemStorage, dest: str | os.PathLike[str]) -> BackupResult:
    """Snapshot the database and the image files into the new folder ``dest``."""
    target = Path(dest).resolve()
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new folder.")
    if target == storage.root or storage.root in target.parents:
        raise BackupError("Back up outside the image store.")
    private_dir(target)
    images = private_dir(target / IMAGES)
    # (1) the files as they are now
    seen = {key for key in storage.iter_keys() if _copy_key(storage, key, images)}
    # (2) the database
    if _is_sqlite(database_url):
        db_file = private_file(target / SQLITE_FILE)
        src = sqlite3.connect(str(_sqlite_path(database_url)), timeout=30)
        dst = sqlite3.connect(str(db_file))
        try:
            with dst:
                src.backup(dst)
        finally:
            src.close()
            dst.close()
        snapshot_url = f"sqlite:///{db_file}"
    else:
        db_file = private_file(target / PG_FILE)
        _run_tool(["pg_dump", "--format=custom", "--no-owner", f"--file={db_file}",
                   f"--dbname={make_url(database_url).render_as_string(hide_password=False)}"])
        snapshot_url = database_url  # the referenced keys are read from the live database
    # (3) + (4) the files the snapshot refers to, nothing else
    engine = create_engine(snapshot_url)
    try:
        with Session(engine) as session:
            expected = expected_files(session)
    finally:
        engine.dispose()
    result = BackupResult(target, 0, 0, db_file.name)
    wanted = {f.key: f for f in expected}
    for key, f in wanted.items():
        if key not in seen and not _copy_key(storage, key, images):
            result.missing.append(key)
    for key in seen - set(wanted):
        (images / key).unlink(missing_ok=True)
    manifest: dict[str, object] = {
        "format": 1, "tracker_version": __version__,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "database": {"file": db_file.name, "sha256": _sha256(db_file)},
        "files": {},
    }
    files: dict[str, str] = {}
    for key, f in sorted(wanted.items()):
        path = images / key
        if not path.is_file():
            continue
        digest = _sha256(path)
        files[key] = digest
        result.files += 1
        result.bytes += path.stat().st_size
        if f.sha256 is not None and f.sha256 != digest:
            result.altered.append(key)
    manifest["files"] = files
    manifest["missing"] = result.missing
    private_file(target / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    return result


def read_manifest(src: Path) -> dict[str, object]:
    try:
        manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise BackupError(f"{src} is not a tracker backup (no {MANIFEST}).") from e
    except ValueError as e:
        raise BackupError(f"The backup's {MANIFEST} is damaged: {e}") from e
    if not isinstance(manifest, dict) or manifest.get("format") != 1:
        raise BackupError(f"The backup's {MANIFEST} has an unknown format.")
    return manifest


def check_backup(src: str | os.PathLike[str]) -> dict[str, object]:
    """Re-hash the backup's database copy and every file against its manifest."""
    root = Path(src).resolve()
    manifest = read_manifest(root)
    db = manifest["database"]
    assert isinstance(db, dict)
    db_path = root / str(db["file"])
    if not db_path.is_file() or _sha256(db_path) != db["sha256"]:
        raise BackupError(f"The backup's database copy {db_path.name} is missing or altered; nothing was restored.")
    files = manifest["files"]
    assert isinstance(files, dict)
    bad = [k for k, sha in files.items() if not (root / IMAGES / k).is_file() or _sha256(root / IMAGES / k) != sha]
    if bad:
        raise BackupError(f"{len(bad)} image files of the backup are missing or altered (first: {bad[0]}); "
                          "nothing was restored.")
    return manifest


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


def restore(src: str | os.PathLike[str], database_url: str, storage: FileSystemStorage, *,
            replace: bool = False) -> RestoreResult:
    """Bring back a backup: check it entirely first, then the database, then the files.

    Run it with the server and worker stopped. Refuses to overwrite a database that has
    clinics unless ``replace`` is given.
    """
    root = Path(src).resolve()
    manifest = check_backup(root)
    if not replace and not database_is_empty(database_url):
        raise BackupError("The target database already holds clinics. Stop the server and pass --replace "
                          "to overwrite it with the backup.")
    db = manifest["database"]
    assert isinstance(db, dict)
    if db["file"] == SQLITE_FILE:
        if not _is_sqlite(database_url):
            raise BackupError("This backup is of an SQLite database; the configured database is not SQLite.")
        path = _sqlite_path(database_url)
        path.parent.mkdir(parents=True, exist_ok=True)
        src_conn = sqlite3.connect(str(root / SQLITE_FILE))
        dst_conn = sqlite3.connect(str(path), timeout=30)
        try:
            with dst_conn:
                src_conn.backup(dst_conn)
        finally:
            src_conn.close()
            dst_conn.close()
    else:
        if _is_sqlite(database_url):
            raise BackupError("This backup is of a PostgreSQL database; the configured database is SQLite.")
        _run_tool(["pg_restore", "--clean", "--if-exists", "--no-owner",
                   f"--dbname={make_url(database_url).render_as_string(hide_password=False)}",
                   str(root / PG_FILE)])
    files = manifest["files"]
    assert isinstance(files, dict)
    for key in files:
        try:
            storage.put_bytes(key, (root / IMAGES / key).read_bytes())
        except StorageError as e:
            raise BackupError(f"Restoring {key} failed: {e}") from e
    return RestoreResult(len(files), str(db["file"]))


def _run_tool(argv: list[str]) -> None:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=3600, check=False)
    except FileNotFoundError as e:
        raise BackupError(f"{argv[0]} is not installed; it is needed for PostgreSQL backups.") from e
    if proc.returncode != 0:
        raise BackupError(f"{argv[0]} failed: {proc.stderr.strip()[:500]}")
