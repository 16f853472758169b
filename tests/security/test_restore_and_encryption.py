"""Restore checks everything before it touches anything, then swaps in; encrypted backups
(`tracker backup --encrypt`) keep nothing in the clear and restore only what opens with
the clinic's key and matches its manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tracker.services.backup import BackupError, backup, restore
from tracker.services.backup.encryption import read_key
from tracker.storage import FileSystemStorage

from .conftest import resources
from .test_backup_and_integrity import _table_rows, run_cli


def _instance(app) -> Path:
    return Path(app.config["TRACKER_CONFIG"].INSTANCE_PATH)


def _state(instance: Path) -> tuple[dict, dict[str, bytes]]:
    store = FileSystemStorage(instance / "images")
    return _table_rows(instance / "tracker.db"), {k: store.read(k) for k in store.iter_keys()}


@pytest.fixture
def made(app, tmp_path):
    """A backup of the site, and a second populated instance (a copy) to restore over."""
    resources(app).queue.run_pending(only=("make_derivatives",))
    dest = tmp_path / "b"
    backup(app.config["TRACKER_CONFIG"].DATABASE_URL, resources(app).storage, dest)
    target = tmp_path / "target"
    shutil.copytree(_instance(app), target)
    return dest, target


def _manifest(dest: Path) -> dict:
    return json.loads((dest / "manifest.json").read_text())


def _write_manifest(dest: Path, manifest: dict) -> None:
    (dest / "manifest.json").write_text(json.dumps(manifest))


def test_a_backup_missing_a_referenced_file_is_refused_before_anything_changes(made):
    dest, target = made
    manifest = _manifest(dest)
    key = next(k for k in manifest["files"] if k.startswith("originals/"))
    del manifest["files"][key]
    (dest / "images" / key).unlink()
    _write_manifest(dest, manifest)
    before = _state(target)
    refused = run_cli(target, "restore", "--replace", str(dest))
    assert refused.exit_code != 0 and "not in the backup" in refused.output
    assert _state(target) == before


def test_a_manifest_naming_a_path_outside_the_store_is_refused_before_anything_changes(made):
    dest, target = made
    manifest = _manifest(dest)
    manifest["files"]["../escape.jpg"] = "0" * 64
    _write_manifest(dest, manifest)
    before = _state(target)
    refused = run_cli(target, "restore", "--replace", str(dest))
    assert refused.exit_code != 0 and "unusable file" in refused.output
    assert _state(target) == before
    assert not (target / "escape.jpg").exists()


def test_a_good_restore_replaces_rows_and_files_together(app, made, site, clients):
    dest, target = made
    # The target moves on after the backup: a photo deleted, so its rows and files differ.
    clients["technician"].post(f"/photos/{site.other_photo_id}/delete", data={"reason": "test"})
    snapshot_rows = _table_rows(dest / "database.sqlite")
    done = run_cli(target, "restore", "--replace", str(dest))
    assert done.exit_code == 0, done.output
    assert _table_rows(target / "tracker.db") == snapshot_rows
    assert not (target / "tracker.db-wal").exists() or (target / "tracker.db-wal").stat().st_size == 0
    check = run_cli(target, "verify")
    assert check.exit_code == 0 and "0 missing" in check.output and "0 altered" in check.output, check.output
    assert not [p for p in (target / "images").rglob("*") if ".restore" in str(p) and p.is_file()]


def test_an_encrypted_backup_keeps_nothing_in_the_clear_and_restores_with_the_key(app, site, tmp_path):
    resources(app).queue.run_pending(only=("make_derivatives",))
    instance = _instance(app)
    key, other_key = tmp_path / "keys" / "clinic.key", tmp_path / "keys" / "other.key"
    assert run_cli(instance, "backup-key", str(key)).exit_code == 0
    assert run_cli(instance, "backup-key", str(other_key)).exit_code == 0
    assert (key.stat().st_mode & 0o777) == 0o600
    refused = run_cli(instance, "backup", "--encrypt", str(tmp_path / "nokey"))
    assert refused.exit_code != 0 and "--key-file" in refused.output
    dest = tmp_path / "sealed"
    made = run_cli(instance, "backup", "--encrypt", "--key-file", str(key), str(dest))
    assert made.exit_code == 0, made.output
    names = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    assert "encryption.json" in names and "manifest.json.enc" in names and "database.sqlite.enc" in names
    assert all(n.endswith(".enc") or n == "encryption.json" for n in names)
    assert not list(tmp_path.glob(".sealed.plain-*")), "a plain copy was left behind"
    original = next(p for p in (instance / "images" / "originals").rglob("*") if p.is_file())
    sealed_bytes = b"".join(p.read_bytes() for p in dest.rglob("*.enc"))
    assert original.read_bytes()[1000:1064] not in sealed_bytes and b"Patient A" not in sealed_bytes

    target = tmp_path / "new"
    without = run_cli(target, "restore", str(dest))
    assert without.exit_code != 0 and "encrypted" in without.output
    wrong = run_cli(target, "restore", "--key-file", str(other_key), str(dest))
    assert wrong.exit_code != 0 and "another key" in wrong.output
    # One flipped byte in one sealed image: refused before anything is written.
    victim = next((dest / "images").rglob("*.enc"))
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 1
    victim.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="altered"):
        restore(dest, f"sqlite:///{target / 'tracker.db'}", FileSystemStorage(target / "images"), key=read_key(key))
    assert not (target / "tracker.db").exists() or not _table_rows(target / "tracker.db").get("clinics")
    assert not [p for p in (target / "images").rglob("*") if p.is_file()]
    data[len(data) // 2] ^= 1
    victim.write_bytes(bytes(data))
    restored = run_cli(target, "restore", "--key-file", str(key), str(dest))
    assert restored.exit_code == 0, restored.output
    assert _table_rows(target / "tracker.db") == _table_rows(instance / "tracker.db")
    check = run_cli(target, "verify")
    assert check.exit_code == 0 and "0 missing" in check.output, check.output
