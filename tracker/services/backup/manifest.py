"""The backup folder's layout, its manifest, and the checks made before anything is restored."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from tracker.storage import StorageError, validate_key

from ..errors import DomainError

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite"
PG_FILE = "database.dump"
IMAGES = "images"


class BackupError(DomainError):
    """A backup or restore cannot go ahead; the message says why."""

    status = 409


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(src: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise BackupError(f"{src} is not a tracker backup (no {MANIFEST}).") from e
    except ValueError as e:
        raise BackupError(f"The backup's {MANIFEST} is damaged: {e}") from e
    if not isinstance(manifest, dict) or manifest.get("format") != 1:
        raise BackupError(f"The backup's {MANIFEST} has an unknown format.")
    db, files = manifest.get("database"), manifest.get("files")
    if not isinstance(db, dict) or db.get("file") not in (SQLITE_FILE, PG_FILE) or not isinstance(files, dict):
        raise BackupError(f"The backup's {MANIFEST} does not describe a database and its files.")
    for key, digest in files.items():
        try:
            validate_key(key)
        except StorageError as e:
            raise BackupError(f"The backup's {MANIFEST} names an unusable file {key!r}; nothing was restored.") from e
        if not isinstance(digest, str) or len(digest) != 64:
            raise BackupError(f"The backup's {MANIFEST} has no hash for {key!r}; nothing was restored.")
    return manifest


def check_backup(src: str | os.PathLike[str]) -> dict[str, Any]:
    """Re-hash the backup's database copy and every file against its manifest."""
    root = Path(src).resolve()
    manifest = read_manifest(root)
    db_path = root / str(manifest["database"]["file"])
    if not db_path.is_file() or sha256_file(db_path) != manifest["database"]["sha256"]:
        raise BackupError(f"The backup's database copy {db_path.name} is missing or altered; nothing was restored.")
    files: dict[str, str] = manifest["files"]
    bad = [k for k, sha in files.items() if not (root / IMAGES / k).is_file() or sha256_file(root / IMAGES / k) != sha]
    if bad:
        raise BackupError(f"{len(bad)} image files of the backup are missing or altered (first: {bad[0]}); "
                          "nothing was restored.")
    return manifest
