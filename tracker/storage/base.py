"""The storage interface and its error."""

from __future__ import annotations

import abc
import re
from pathlib import Path
from typing import BinaryIO


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

    def local_path(self, key: str) -> Path | None:
        """A filesystem path for ``key`` when the backend has one (lets Flask send files)."""
        return None
