"""A technician's drawn region (regions/*.png) is data like a photo: `tracker verify`
checks it (never calls it an orphan), backup and restore carry it, and deleting the
photo or erasing the patient removes it."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from tracker.config import Config
from tracker.models import RegionRevision
from tracker.services.regions import load_mask
from tracker.storage import FileSystemStorage

from .conftest import resources
from .test_backup_and_integrity import run_cli


def _draw(clients, site) -> str:
    polygon = json.dumps([[10, 10], [300, 20], [200, 250]])
    response = clients["technician"].post(f"/photos/{site.photo_id}/region", data={"polygon": polygon, "corners": ""})
    assert response.status_code == 302
    return f"regions/{site.series_id}/"


def _mask(app) -> RegionRevision:
    with resources(app).session_factory() as s:
        return s.scalar(select(RegionRevision).where(RegionRevision.mask_key.is_not(None)))


def test_verify_checks_a_drawn_mask_and_backup_and_restore_carry_it(app, site, clients, tmp_path):
    prefix = _draw(clients, site)
    resources(app).queue.run_pending(only=("make_derivatives",))
    instance = Path(app.config["TRACKER_CONFIG"].INSTANCE_PATH)
    rev = _mask(app)
    assert rev.mask_key.startswith(prefix) and rev.mask_sha256
    clean = run_cli(instance, "verify")
    assert clean.exit_code == 0 and "ORPHAN" not in clean.output, clean.output
    backed = run_cli(instance, "backup", str(tmp_path / "b"))
    assert backed.exit_code == 0, backed.output
    assert rev.mask_key in json.loads((tmp_path / "b" / "manifest.json").read_text())["files"]
    restored = run_cli(tmp_path / "new", "restore", str(tmp_path / "b"))
    assert restored.exit_code == 0, restored.output
    store = FileSystemStorage(Config(tmp_path / "new").STORAGE_PATH)
    assert load_mask(store, rev).sum() > 1000  # the next analysis can use the region
    # A changed mask is reported as altered, like any stored file.
    path = resources(app).storage.local_path(rev.mask_key)
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")
    altered = run_cli(instance, "verify")
    assert altered.exit_code == 1 and f"ALTERED  {rev.mask_key}" in altered.output


def test_deleting_the_photo_removes_its_drawn_mask(app, site, clients):
    _draw(clients, site)
    key = _mask(app).mask_key
    assert resources(app).storage.exists(key)
    response = clients["technician"].post(f"/photos/{site.photo_id}/delete", data={"reason": "wrong patient"})
    assert response.status_code == 302
    assert not resources(app).storage.exists(key)
    assert _mask(app) is None


def test_erasing_the_patient_removes_their_drawn_masks(app, site, clients):
    _draw(clients, site)
    key = _mask(app).mask_key
    response = clients["clinic_admin"].post(f"/clinic/patients/{site.patient_id}/erase",
                                            data={"confirm_name": "Patient A"})
    assert response.status_code == 302
    assert not resources(app).storage.exists(key)
    assert not [k for k in resources(app).storage.iter_keys() if k.startswith("regions/")]
