"""Originals in a ZIP bundle leave without camera or location metadata, and `tracker verify-export`
still ties them to the stored originals.

A phone-like JPEG (GPS, make, model, XMP, comment, orientation 6, ICC) as the baseline and a
PNG with eXIf/tEXt (or a HEIC with EXIF and XMP) as the later photo go through the real intake
and the real queue.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image, ImageOps

from tracker.models import Photo
from tracker.models.vocabulary import VIEW_CLOSEUP, VISIT_TREATMENT
from tracker.services import exports, series as series_svc
from tracker.services.exports import original_copy
from tracker.services.intake import PhotoTags, ingest_photo

from ..bundle_tampering import cli_verifier, rezip
from .factories import make_world
from .simulated import START, analyse_all, simulated
from .test_original_copy import SRGB, assert_no_metadata, phone_heic, phone_jpeg, pixels, tagged_png


def _dressed(index: int, count: int, jpeg: bytes, later: str) -> tuple[bytes, str]:
    """The simulated photo as a phone would file it: the first as a JPEG stored on its side
    (orientation 6, so it shows upright) with metadata, the last as a PNG or HEIC with metadata."""
    with Image.open(io.BytesIO(jpeg)) as im:
        upright = im.convert("RGB")
    on_its_side = upright.transpose(Image.Transpose.ROTATE_90)
    if index == 0:
        return phone_jpeg(on_its_side), "baseline.jpg"
    if index == count - 1:
        return (tagged_png(upright) if later == "png" else phone_heic(on_its_side)), f"later.{later}"
    return jpeg, f"photo-{index}.jpg"


def _load(db, storage, limits, queue, later: str):
    world = make_world(db, sessions=0)
    photos = [(v, p) for v in simulated("improving").visits for p in v.photos]
    visits = {}
    for i, (sim_visit, p) in enumerate(photos):
        if sim_visit.index not in visits:
            visits[sim_visit.index] = series_svc.create_visit(db, world.tech, world.series.id, series_svc.VisitInput(
                kind=VISIT_TREATMENT, visit_date=START + dt.timedelta(days=sim_visit.day),
                technician_id=world.tech.id, device="CO2RE", energy_mj=40.0, density_pct=10.0, passes=2))
            db.commit()
        data, name = _dressed(i, len(photos), p.jpeg, later)
        tags = PhotoTags(view=VIEW_CLOSEUP, region="left cheek", time_point=p.time_point,
                         days_after=p.days_after if p.time_point == "after" else None)
        ingest_photo(db, storage, world.tech, visits[sim_visit.index].id, data, filename=name, tags=tags,
                     limits=limits)
    analyse_all(queue)
    db.expire_all()
    return world


@pytest.mark.parametrize("later", ["png", "heic"])
def test_bundle_originals_carry_pixels_without_metadata_and_verify(db, storage, limits, queue, config, tmp_path,
                                                                  monkeypatch, later):
    world = _load(db, storage, limits, queue, later)
    out = exports.export_bundle(db, storage, world.admin, world.series.id, include_originals=True)
    db.commit()
    zf = zipfile.ZipFile(io.BytesIO(out.data))
    manifest = json.loads(zf.read("manifest.json"))
    assert "metadata removed" in manifest["originals_note"]
    by_role = {o["role"]: o for o in manifest["originals"]}
    assert set(by_role) == {"baseline", "compared"}, "no measured progress pair"
    for entry in by_role.values():
        photo = db.get(Photo, entry["photo_id"])
        stored = storage.read(photo.original_key)
        copy = zf.read(entry["file"])
        assert entry["sha256"] == photo.sha256 == exports.sha256(stored)
        assert entry["export_sha256"] == exports.sha256(copy) != entry["sha256"]
        assert_no_metadata(copy)
        assert np.array_equal(pixels(copy), pixels(stored, upright=entry["converted_to_png"]))  # not re-encoded
        with Image.open(io.BytesIO(copy)) as im:
            assert im.info["icc_profile"] == SRGB
            assert ImageOps.exif_transpose(im).size == (photo.width, photo.height)  # upright as uploaded
    baseline = zf.read(by_role["baseline"]["file"])
    assert by_role["baseline"]["file"].endswith(".jpg") and by_role["compared"]["file"].endswith(".png")
    with Image.open(io.BytesIO(baseline)) as im:
        assert im.getexif()[0x0112] == 6  # still shows upright
    assert "EXIF (camera, GPS, capture time)" in by_role["baseline"]["metadata_removed"]
    if later == "png":
        assert {"eXIf chunk", "tEXt chunk"} <= set(by_role["compared"]["metadata_removed"])
    else:
        assert by_role["compared"]["converted_to_png"] and not by_role["baseline"]["converted_to_png"]

    verify = cli_verifier(config.INSTANCE_PATH, tmp_path, monkeypatch)

    ok = verify(out.data)
    assert ok.exit_code == 0, ok.output
    for entry in by_role.values():
        assert f"original photo {entry['photo_id']}: the stored original matches, and {entry['file']} is its copy" \
               in ok.output

    name = by_role["baseline"]["file"]
    leaked = storage.read(db.get(Photo, by_role["baseline"]["photo_id"]).original_key)
    swapped = verify(rezip(out.data, {name: leaked}))  # someone puts the file with GPS back
    assert swapped.exit_code == 1
    assert f"FAILED    {name}: MODIFIED" in swapped.output
    assert f"{name} in the bundle is not the copy made from the stored original" in swapped.output

    if later == "heic":  # a server whose zlib compresses differently still sees the same pixels
        monkeypatch.setattr(original_copy, "ZLIB_LEVEL", 1)
        again = verify(out.data)
        assert again.exit_code == 0, again.output
        assert f"{by_role['compared']['file']} holds its pixels (PNG compressed differently)" in again.output
