"""Storage: the filesystem backend (atomic writes, safe keys, wrapped errors) and what every backend offers."""

from __future__ import annotations

import io
from typing import BinaryIO

import flask
import pytest

from tracker.storage import FileSystemStorage, Storage, StorageError, original_key


def test_put_read_size_delete(tmp_path):
    s = FileSystemStorage(tmp_path / "store")
    s.put_bytes("originals/ab/abc", b"hello")
    assert s.read("originals/ab/abc") == b"hello" and s.size("originals/ab/abc") == 5
    assert s.local_path("originals/ab/abc") == (tmp_path / "store" / "originals/ab/abc").resolve()
    s.put_bytes("originals/ab/abc", b"replaced")
    assert s.read("originals/ab/abc") == b"replaced"
    s.delete("originals/ab/abc")
    s.delete("originals/ab/abc")  # deleting twice is fine
    assert not s.exists("originals/ab/abc")
    with pytest.raises(StorageError, match="no stored file"):
        s.read("originals/ab/abc")


@pytest.mark.parametrize("key", ["../escape", "/etc/passwd", "a/../../b", "a//b", ".hidden", ""])
def test_unsafe_keys_are_refused(tmp_path, key):
    s = FileSystemStorage(tmp_path)
    with pytest.raises(StorageError):
        s.put_bytes(key, b"x")


def test_a_failed_write_leaves_no_partial_or_temporary_file(tmp_path):
    s = FileSystemStorage(tmp_path / "store")
    s.put_bytes("blocker", b"i am a file, not a folder")
    with pytest.raises(StorageError, match="cannot write"):
        s.put_bytes("blocker/child", b"data")
    assert s.iter_keys() == ["blocker"]
    assert not [p for p in (tmp_path / "store").rglob(".tmp-*")]


def test_original_key_layout():
    sha = "ab" + "c" * 62
    assert original_key(sha) == f"originals/ab/{sha}"
    with pytest.raises(StorageError):
        original_key("not-a-hash")


class MemoryStorage(Storage):
    """A backend with no local files (as an object store would be): what the base class must cope with."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put_bytes(self, key: str, data: bytes) -> None:
        self.blobs[key] = data

    def open(self, key: str) -> BinaryIO:
        if key not in self.blobs:
            raise StorageError(f"no stored file {key}")
        return io.BytesIO(self.blobs[key])

    def exists(self, key: str) -> bool:
        return key in self.blobs

    def delete(self, key: str) -> None:
        self.blobs.pop(key, None)

    def size(self, key: str) -> int:
        return len(self.blobs[key])

    def iter_keys(self, prefix: str = "") -> list[str]:
        return sorted(k for k in self.blobs if k.startswith(prefix))


def test_a_backend_without_local_files_lends_a_temporary_copy_and_removes_it():
    s = MemoryStorage()
    s.put_bytes("regions/r1.png", b"mask bytes")
    with s.local_copy("regions/r1.png") as path:
        assert path.read_bytes() == b"mask bytes"
    assert not path.exists()
    assert s.local_root is None


def test_the_filesystem_lends_its_own_file_and_refuses_a_missing_one(tmp_path):
    s = FileSystemStorage(tmp_path / "store")
    s.put_bytes("originals/ab/abc", b"photo")
    with s.local_copy("originals/ab/abc") as path:
        assert path == s.local_path("originals/ab/abc")
    assert path.exists()  # the stored file itself, never removed
    with pytest.raises(StorageError, match="no stored file"), s.local_copy("originals/ab/missing"):
        pass


@pytest.mark.parametrize("make", [lambda root: MemoryStorage(), FileSystemStorage], ids=["memory", "filesystem"])
def test_any_backend_sends_a_file_as_a_browser_gets_it(make, tmp_path):
    s = make(tmp_path / "store")
    s.put_bytes("displays/p1.jpg", b"\xff\xd8jpeg bytes")
    app = flask.Flask(__name__)
    with app.test_request_context():
        inline = s.send("displays/p1.jpg", mimetype="image/jpeg")
        inline.direct_passthrough = False
        assert inline.get_data() == b"\xff\xd8jpeg bytes" and inline.mimetype == "image/jpeg"
        assert "max-age=0" in inline.headers["Cache-Control"]
        download = s.send("displays/p1.jpg", mimetype="image/jpeg", download_name="photo-p1.jpg")
        assert download.headers["Content-Disposition"].startswith("attachment")
        download.close()
        inline.close()
        with pytest.raises(StorageError):
            s.send("displays/missing.jpg", mimetype="image/jpeg")
