"""Health data on disk is private from the first write: files 0600, folders 0700.

Every tracker process sets the umask to 077 as it starts (:func:`restrict_umask`),
and the files other programs create for us (SQLite databases, Huey's queue, backups)
are created empty with mode 0600 before those programs open them.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def restrict_umask() -> None:
    """New files and folders of this process are readable by its user only."""
    os.umask(0o077)


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and parents) as 0700; an existing folder is narrowed to 0700."""
    folder = Path(path)
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for parent in reversed(missing):  # mkdir(parents=True) would give the parents the umask's mode
        parent.mkdir(mode=DIR_MODE, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        folder.chmod(DIR_MODE)
    return folder


def private_file(path: str | os.PathLike[str]) -> Path:
    """Make sure ``path`` exists with mode 0600 (created empty, or narrowed), so a program
    that opens it afterwards (SQLite, pg_dump) never creates it world-readable."""
    file = Path(path)
    try:
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        if file.stat().st_mode & 0o077:
            file.chmod(FILE_MODE)
    return file
