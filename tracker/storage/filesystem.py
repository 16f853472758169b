"""Filesystem storage: files under one root folder, written atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from tracker.private_files import FILE_MODE, private_dir

from .base import Storage, StorageError, validate_key


class FileSystemStorage(Storage):
    """Stores each key as a file below ``root``.

    ``put_bytes`` writes a temporary file in the destination folder, fsyncs it,
    then ``os.replace``s it into place and fsyncs the folder: a crash leaves either
    no file or the complete file, never half of one.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        try:
            private_dir(self.root)
        except OSError as e:
            raise StorageError(f"cannot create storage folder {self.root}: {e.strerror}") from e

    def __repr__(self) -> str:
        return f"FileSystemStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        if self.root not in path.parents:
            raise StorageError(f"storage key escapes the root: {key!r}")
        return path

    def put_bytes(self, key: str, data: bytes) -> None:
        path = self._path(key)
        tmp_name: str | None = None
        try:
            private_dir(path.parent)
            fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp_name, FILE_MODE)  # health data: the service's user only
            os.replace(tmp_name, path)
            tmp_name = None
            _fsync_dir(path.parent)
        except OSError as e:
            raise StorageError(f"cannot write {key}: {e.strerror or e}") from e
        finally:
            if tmp_name is not None:
                try:
                    os.unlink(tmp_name)
                except OSError:
                    pass

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError as e:
            raise StorageError(f"no stored file {key}") from e
        except OSError as e:
            raise StorageError(f"cannot read {key}: {e.strerror or e}") from e

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as e:
            raise StorageError(f"cannot delete {key}: {e.strerror or e}") from e

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError as e:
            raise StorageError(f"no stored file {key}") from e
        except OSError as e:
            raise StorageError(f"cannot stat {key}: {e.strerror or e}") from e

    def local_path(self, key: str) -> Path:
        """Where ``key`` is (or would be) stored."""
        return self._path(key)

    @property
    def local_root(self) -> Path:
        return self.root

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"no stored file {key}")
        yield path

    def send(self, key: str, *, mimetype: str, download_name: str | None = None, etag: bool = False) -> Any:
        from flask import send_file  # Flask is loaded only where files are sent, never in workers

        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"no stored file {key}")
        # A path lets the server send the file itself (sendfile) and answer range requests.
        return send_file(path, mimetype=mimetype, as_attachment=download_name is not None,
                         download_name=download_name, max_age=0, etag=etag)

    def iter_keys(self, prefix: str = "") -> list[str]:
        """Every stored key under ``prefix``, sorted; temporary and staging files are not keys."""
        base = self.root / prefix if prefix else self.root
        if not base.exists():
            return []
        keys = []
        for p in base.rglob("*"):
            relative = p.relative_to(self.root)
            # Temporary and staging files (".tmp-...", ".restore-staging/...") are not stored keys.
            if p.is_file() and not any(part.startswith(".") for part in relative.parts):
                keys.append(relative.as_posix())
        return sorted(keys)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
