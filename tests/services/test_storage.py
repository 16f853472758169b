"""The filesystem storage backend: atomic writes, safe keys, wrapped errors."""

from __future__ import annotations

import pytest

from tracker.storage import FileSystemStorage, StorageError, original_key


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
