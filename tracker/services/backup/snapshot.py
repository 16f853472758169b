"""``tracker backup``: a consistent snapshot while the app runs.

A backup folder holds ``database.sqlite`` (SQLite's online backup API: a consistent
snapshot while the server and worker keep writing) or ``database.dump`` (``pg_dump``
for PostgreSQL), ``images/`` (every stored file the snapshot refers to: originals,
previews, overlays, drawn region masks) and ``manifest.json`` (the SHA-256 of every
file and of the database copy). Everything in it is private (0600 / 0700).

Consistency with the images: photo files are written *before* their row is
committed and originals are never changed, so the order is (1) copy the stored
files, (2) snapshot the database, (3) copy the files that rows of the snapshot refer
to but step 1 did not see (uploads in between), (4) drop copied files no row refers
to. Every row of the snapshot then has its file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, make_url
from sqlalchemy.orm import Session

from tracker import __version__
from tracker.private_files import FILE_MODE, private_dir, private_file
from tracker.storage import Storage, StorageError

from ..integrity import expected_files
from . import encryption, postgres
from .manifest import IMAGES, MANIFEST, PG_FILE, SQLITE_FILE, BackupError, sha256_file


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


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("The database is in memory: there is nothing on disk to back up.")
    return Path(database)


def copy_sqlite(src: Path, dst: Path) -> None:
    """SQLite's online backup of ``src`` into ``dst`` (created 0600)."""
    private_file(dst)
    source = sqlite3.connect(str(src), timeout=30)
    target = sqlite3.connect(str(dst))
    try:
        with target:
            source.backup(target)
    finally:
        source.close()
        target.close()


def _copy_key(storage: Storage, key: str, target_root: Path) -> bool:
    dst = target_root / key
    private_dir(dst.parent)
    try:
        with storage.local_copy(key) as src:
            shutil.copy2(src, dst)
        dst.chmod(FILE_MODE)
    except (StorageError, FileNotFoundError):  # deleted while we copied
        return False
    return True


def backup(database_url: str, storage: Storage, dest: str | os.PathLike[str], *,
           key: bytes | None = None) -> BackupResult:
    """Snapshot the database and the image files into the new folder ``dest``; with
    ``key``, every file of it is sealed (:mod:`.encryption`) and no plain copy stays."""
    target = Path(dest).resolve()
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new folder.")
    root = storage.local_root
    if root is not None and (target == root or root in target.parents):
        raise BackupError("Back up outside the image store.")
    if key is None:
        return _backup(database_url, storage, target)
    plain = target.parent / f".{target.name}.plain-{secrets.token_hex(4)}"
    try:
        result = _backup(database_url, storage, plain)
        encryption.seal_folder(plain, target, key)
    finally:
        encryption.discard(plain)
    result.path = target
    return result


def _backup(database_url: str, storage: Storage, target: Path) -> BackupResult:
    private_dir(target)
    images = private_dir(target / IMAGES)
    # (1) the files as they are now
    seen = {key for key in storage.iter_keys() if _copy_key(storage, key, images)}
    # (2) the database
    if is_sqlite(database_url):
        db_file = target / SQLITE_FILE
        copy_sqlite(sqlite_path(database_url), db_file)
        snapshot_url = f"sqlite:///{db_file}"
    else:
        db_file = private_file(target / PG_FILE)
        postgres.dump(database_url, str(db_file))
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
    for key in wanted:
        if key not in seen and not _copy_key(storage, key, images):
            result.missing.append(key)
    for key in seen - set(wanted):
        (images / key).unlink(missing_ok=True)
    files: dict[str, str] = {}
    for key, f in sorted(wanted.items()):
        path = images / key
        if not path.is_file():
            continue
        digest = sha256_file(path)
        files[key] = digest
        result.files += 1
        result.bytes += path.stat().st_size
        if f.sha256 is not None and f.sha256 != digest:
            result.altered.append(key)
    manifest = {
        "format": 1, "tracker_version": __version__,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "database": {"file": db_file.name, "sha256": sha256_file(db_file)},
        "files": files, "missing": result.missing,
    }
    private_file(target / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    return result
