"""Health data on disk is private from the first write, whatever the umask the service
was started with: files 0600, folders 0700 (instance, images, database, queue, backups)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tracker.storage import FileSystemStorage

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _tracker(instance: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRACKER_INSTANCE_PATH": str(instance), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tracker.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300, preexec_fn=lambda: os.umask(0o022), check=False)


def test_the_instance_database_queue_and_backup_are_private_under_umask_022(tmp_path):
    instance = tmp_path / "instance"
    assert _tracker(instance, "db", "upgrade").returncode == 0
    made = _tracker(instance, "clinic", "create", "--name", "Modes", "--admin-email", "a@modes.test",
                    "--admin-password", "a long password 1")
    assert made.returncode == 0, made.stderr
    assert _tracker(instance, "worker", "--drain").returncode == 0  # opens the queue database
    backup = _tracker(instance, "backup", str(tmp_path / "backup"))
    assert backup.returncode == 0, backup.stderr
    for folder in (instance, instance / "images", tmp_path / "backup", tmp_path / "backup" / "images"):
        assert _mode(folder) == 0o700, folder
    files = [instance / "tracker.db", instance / "queue.db", tmp_path / "backup" / "database.sqlite",
             tmp_path / "backup" / "manifest.json"]
    for file in files:
        assert _mode(file) == 0o600, file
    loose = [p for p in [*instance.rglob("*"), *(tmp_path / "backup").rglob("*")] if _mode(p) & 0o077]
    assert loose == []


def test_stored_images_and_their_folders_are_private(tmp_path):
    old = os.umask(0o022)
    try:
        storage = FileSystemStorage(tmp_path / "images")
        storage.put_bytes("originals/ab/abcdef.jpg", b"photo bytes")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "images") == 0o700
    assert _mode(tmp_path / "images" / "originals") == 0o700
    assert _mode(tmp_path / "images" / "originals" / "ab" / "abcdef.jpg") == 0o600
