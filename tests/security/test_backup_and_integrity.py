"""Nothing lost, nothing altered: `tracker verify` re-hashes originals and derivatives;
`tracker backup` snapshots a populated clinic while uploads go on; `tracker restore`
brings back every row and every file."""

from __future__ import annotations

import io
import json
import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.services.factories import jpeg_bytes
from tracker.cli import main
from tracker.config import Config
from tracker.services.backup import BackupError, backup, restore
from tracker.services.integrity import verify_integrity
from tracker.storage import FileSystemStorage

from .conftest import resources


def _upload(client, visit_id, seed):
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(jpeg_bytes(seed=seed)), filename="b.jpg"),
                                       "view": "front", "time_point": "before"})
    return client.post(f"/api/visits/{visit_id}/photos", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _instance(app) -> Path:
    return Path(app.config["TRACKER_CONFIG"].INSTANCE_PATH)


def run_cli(instance: Path, *args: str):
    return CliRunner().invoke(main, list(args), env={"TRACKER_INSTANCE_PATH": str(instance)},
                              catch_exceptions=False)


def test_verify_re_hashes_originals_and_derivatives(app, site):
    res = resources(app)
    res.queue.run_pending(only=("make_derivatives",))
    instance = _instance(app)
    clean = run_cli(instance, "verify")
    assert clean.exit_code == 0, clean.output
    assert "0 missing, 0 orphan files, 0 altered" in clean.output
    with res.session_factory() as s:
        report = verify_integrity(s, res.storage)
    assert report.ok and report.checked >= 12
    # Previews made by the worker carry their hash (the web fixtures fake one overlay row without).
    assert not [f for f in report.unhashed if not f.what.startswith("overlay")]
    from tracker.models import Photo
    with res.session_factory() as s:
        photo = s.get(Photo, site.photo_id)
        display, original = photo.display_key, photo.original_key
        other_thumb = s.get(Photo, site.other_photo_id).thumb_key
    path = res.storage.local_path(display)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    path.write_bytes(bytes(data))
    res.storage.local_path(original).write_bytes(b"replaced")  # an original overwritten
    res.storage.delete(other_thumb)
    res.storage.put_bytes("derived/nobody/thumb.jpg", b"left behind")
    report = run_cli(instance, "verify")
    assert report.exit_code == 1
    assert f"ALTERED  {display}" in report.output and f"ALTERED  {original}" in report.output
    assert f"MISSING  {other_thumb}" in report.output and "ORPHAN   derived/nobody/thumb.jpg" in report.output
    assert "1 missing, 1 orphan files, 2 altered" in report.output


def _table_rows(db_path: Path) -> dict[str, dict[str, tuple]]:
    conn = sqlite3.connect(str(db_path))
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                             "AND name NOT LIKE 'sqlite_%'")]
        out = {}
        for table in tables:
            cur = conn.execute(f'SELECT * FROM "{table}"')
            out[table] = {json.dumps(row, default=str): row for row in cur.fetchall()}
        return out
    finally:
        conn.close()


def test_backup_while_uploading_then_restore_gives_back_every_row_and_file(app, site, clients, tmp_path):
    res = resources(app)
    res.queue.run_pending(only=("make_derivatives",))
    instance = _instance(app)
    before_backup = _table_rows(instance / "tracker.db")
    # Uploads keep arriving while the backup runs.
    first_done, stop = threading.Event(), threading.Event()
    results: list[int] = []

    def keep_uploading() -> None:
        client = app.test_client()
        client.set_cookie("session", clients["technician"].get_cookie("session").value)
        for seed in range(500, 512):
            results.append(_upload(client, site.visit_id, seed).status_code)
            first_done.set()
            if stop.is_set():
                break

    writer = threading.Thread(target=keep_uploading)
    writer.start()
    assert first_done.wait(30)
    dest = tmp_path / "backup"
    result = run_cli(instance, "backup", str(dest))
    stop.set()
    writer.join(60)
    assert result.exit_code == 0, result.output
    assert results and set(results) == {201}
    assert "Backed up the database" in result.output
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["files"] and not manifest["missing"]

    # Restore into a brand-new installation.
    target = tmp_path / "restored"
    restored = run_cli(target, "restore", str(dest))
    assert restored.exit_code == 0, restored.output
    snapshot = _table_rows(dest / "database.sqlite")
    again = _table_rows(target / "tracker.db")
    assert again == snapshot, "restored rows differ from the snapshot"
    live = _table_rows(instance / "tracker.db")
    for table, rows in before_backup.items():
        if table in ("audit_events", "photos", "analyses", "baselines"):
            continue  # grew (or moved on) with the uploads during the backup; checked below
        assert set(rows) <= set(again[table]), f"rows of {table} lost"
    for table in ("audit_events", "photos"):
        assert set(before_backup[table]) <= set(again[table]) <= set(live[table]), table
    assert len(again["photos"]) > len(before_backup["photos"]), "uploads made before the snapshot are kept"
    # Every file of the snapshot is back, byte for byte, and verifies against the restored rows.
    live_store, new_store = res.storage, FileSystemStorage(Config(target).STORAGE_PATH)
    assert set(new_store.iter_keys()) == set(manifest["files"])
    for key in manifest["files"]:
        assert new_store.read(key) == live_store.read(key), key
    check = run_cli(target, "verify")
    assert check.exit_code == 0 and "0 missing, 0 orphan files, 0 altered" in check.output, check.output


def test_restore_refuses_a_damaged_backup_and_will_not_overwrite_by_accident(app, site, tmp_path):
    res = resources(app)
    res.queue.run_pending(only=("make_derivatives",))
    instance = _instance(app)
    dest = tmp_path / "b"
    result = backup(app.config["TRACKER_CONFIG"].DATABASE_URL, res.storage, dest)
    assert result.files >= 12 and not result.altered
    with pytest.raises(BackupError, match="not empty"):
        backup(app.config["TRACKER_CONFIG"].DATABASE_URL, res.storage, dest)
    # Not over a database that has clinics, unless asked to.
    refused = run_cli(instance, "restore", str(dest))
    assert refused.exit_code != 0 and "--replace" in refused.output
    # A damaged copy is refused before anything is touched.
    some = next(iter(json.loads((dest / "manifest.json").read_text())["files"]))
    (dest / "images" / some).write_bytes(b"bit rot")
    target = tmp_path / "new"
    with pytest.raises(BackupError, match="missing or altered"):
        restore(dest, f"sqlite:///{target / 'tracker.db'}", FileSystemStorage(target / "images"))
    assert not (target / "tracker.db").exists()
