"""The storage interface and its error."""

from __future__ import annotations

import abc
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO


class StorageError(Exception):
    """A storage operation failed (missing key, disk full, permission denied...)."""


_KEY_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$")


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative name; raise :class:`StorageError` otherwise.

    >>> validate_key("originals/ab/abcd")
    'originals/ab/abcd'
    """
    if not isinstance(key, str) or len(key) > 400 or not _KEY_RE.match(key) or ".." in key:
        raise StorageError(f"invalid storage key: {key!r}")
    return key


def original_key(sha256_hex: str) -> str:
    """Key of an original file: ``originals/<first two hex digits>/<sha256>``.

    >>> original_key("ab" + "0" * 62)[:14]
    'originals/ab/a'
    """
    if not re.fullmatch(r"[0-9a-f]{64}", sha256_hex):
        raise StorageError(f"not a SHA-256 hex digest: {sha256_hex!r}")
    return f"originals/{sha256_hex[:2]}/{sha256_hex}"


class Storage(abc.ABC):
    """Byte storage addressed by key. Every failure is raised as :class:`StorageError`."""

    @abc.abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically: readers see the old file or the new one."""

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """Open the stored bytes for reading (the caller closes the file)."""

    def read(self, key: str) -> bytes:
        with self.open(key) as f:
            return f.read()

    @abc.abstractmethod
    def exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""

    @abc.abstractmethod
    def size(self, key: str) -> int: ...

    @abc.abstractmethod
    def iter_keys(self, prefix: str = "") -> list[str]:
        """Every stored key under ``prefix``, sorted (for ``tracker verify`` and backups)."""

    @property
    def local_root(self) -> Path | None:
        """The folder the keys live in when the backend is a local folder, else None."""
        return None

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """A local file holding ``key``'s bytes while the block runs: the stored file itself when the
        backend keeps one (never write to it), else a temporary copy removed afterwards."""
        fd, name = tempfile.mkstemp(prefix=".tracker-copy-")
        try:
            with os.fdopen(fd, "wb") as out, self.open(key) as src:
                shutil.copyfileobj(src, out)
            yield Path(name)
        finally:
            os.unlink(name)

    def send(self, key: str, *, mimetype: str, download_name: str | None = None, etag: bool = False) -> Any:
        """A Flask response with ``key``'s bytes, never cached by the browser (every view is access-checked
        and audited); with ``download_name`` as an attachment. A missing key raises :class:`StorageError`."""
        from flask import send_file  # Flask is loaded only where files are sent, never in workers

        return send_file(self.open(key), mimetype=mimetype, as_attachment=download_name is not None,
                         download_name=download_name, max_age=0, etag=etag)
