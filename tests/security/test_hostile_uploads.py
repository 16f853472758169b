"""The hostile corpus through the real upload endpoint: the awkward-but-real files are stored
and decode the right way up; the broken and hostile ones get a clear 4xx and leave nothing."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tracker.analysis.decode import decode_image
from tracker.services.errors import UploadRefused
from tracker.services.safe_decode import inspect_isolated

from .conftest import resources, store_state
from .corpus import H, W, Case, accept_cases, hundred_mb, png16_rgb, refuse_cases

ACCEPT = accept_cases()
REFUSE = refuse_cases()


def test_the_corpus_is_large_enough_and_declared_in_two_groups():
    assert len(ACCEPT) + len(REFUSE) + 1 >= 40  # + the 100 MB upload
    assert len(ACCEPT) >= 20 and len(REFUSE) >= 20
    assert not {c.name for c in ACCEPT} & {c.name for c in REFUSE}


def upload(client, visit_id: str, case: Case):
    form = {"file": FileStorage(io.BytesIO(case.data), filename=case.filename,
                                content_type="application/octet-stream"),
            "view": "front", "time_point": "before"}
    # Encoded in memory: the test client would otherwise spool big bodies to an unclosed temp file.
    boundary, body = encode_multipart(form)
    return client.post(f"/api/visits/{visit_id}/photos", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def assert_upright_and_sane(srgb: np.ndarray, look: str, what: str) -> None:
    """The marker quarter (top left) is dark, the rest skin-coloured (or grey)."""
    h, w, _ = srgb.shape
    marker = srgb[: h // 2, : w // 2].mean()
    for quarter in (srgb[: h // 2, w // 2:], srgb[h // 2:, : w // 2], srgb[h // 2:, w // 2:]):
        assert quarter.mean() > marker + 0.25, f"{what}: the dark corner is not at the top left"
    r, g, b = srgb[h // 2:, w // 2:].reshape(-1, 3).mean(axis=0)
    if look == "grey":
        assert abs(r - g) < 0.02 and abs(g - b) < 0.02, f"{what}: grey image came out coloured"
    else:
        assert 0.72 < r < 0.88 and 0.55 < g < 0.70 and 0.47 < b < 0.62, f"{what}: colours off ({r:.2f} {g:.2f} {b:.2f})"
        assert r > g > b, f"{what}: skin tone order lost"


@pytest.mark.parametrize("case", ACCEPT, ids=[c.name for c in ACCEPT])
def test_awkward_real_files_are_accepted_and_decoded_correctly(app, site, tech, case):
    before = store_state(app)
    response = upload(tech, site.visit_id, case)
    assert response.status_code == 201, (case.name, response.get_json())
    photo = response.get_json()["photo"]
    assert (photo["width"], photo["height"]) == (W, H), f"{case.name}: size after orientation"
    after = store_state(app)
    assert after.photos == before.photos + 1
    new_files = after.files - before.files
    assert len(new_files) == 1 and next(iter(new_files)).startswith("originals/")
    stored = resources(app).storage.read(next(iter(new_files)))
    assert stored == case.data, "the original must be kept byte for byte"
    decoded = decode_image(stored)
    assert (decoded.full_width, decoded.full_height) == (W, H)
    assert_upright_and_sane(decoded.srgb, case.look, case.name)


def test_previews_of_accepted_files_are_upright_and_carry_no_metadata(app, site, tech):
    for case in ACCEPT[:10] + [c for c in ACCEPT if "GPS" in c.name or "HEIC" in c.name or "CMYK" in c.name]:
        assert upload(tech, site.visit_id, case).status_code == 201, case.name
    res = resources(app)
    assert res.queue.run_pending(only=("make_derivatives",)) >= 10
    from sqlalchemy import select

    from tracker.models import Photo
    with res.session_factory() as s:
        photos = list(s.scalars(select(Photo).where(Photo.visit_id == site.visit_id, Photo.display_key.is_not(None))))
    checked = 0
    for photo in photos:
        if photo.original_filename not in {c.filename for c in ACCEPT}:
            continue
        case = next(c for c in ACCEPT if c.filename == photo.original_filename)
        display = res.storage.read(photo.display_key)
        with Image.open(io.BytesIO(display)) as im:
            assert not im.getexif(), f"{case.name}: the display image still has EXIF"
            assert "icc_profile" not in im.info
        assert_upright_and_sane(decode_image(display).srgb, case.look, f"display of {case.name}")
        checked += 1
    assert checked >= 12


@pytest.mark.parametrize("case", REFUSE, ids=[c.name for c in REFUSE])
def test_broken_and_hostile_files_are_refused_with_a_reason_and_leave_nothing(app, site, tech, case):
    before = store_state(app)
    response = upload(tech, site.visit_id, case)
    assert 400 <= response.status_code < 500, (case.name, response.status_code)
    message = response.get_json()["error"]
    assert any(word in message.lower() for word in case.says), (case.name, message)
    assert "Traceback" not in message and "Error:" not in message
    assert store_state(app) == before, f"{case.name} left a file or a row behind"
    assert tech.get("/healthz").status_code == 200


def test_a_100_mb_upload_is_refused_before_it_is_read(app, site, tech):
    before = store_state(app)
    response = upload(tech, site.visit_id, Case("100 MB", hundred_mb(), "huge.jpg"))
    assert response.status_code == 413
    assert "limit" in response.get_json()["error"]
    assert store_state(app) == before


def test_the_decoder_runs_in_a_child_whose_limits_refuse_instead_of_crashing():
    """A file needing more memory or time than the child may use is refused; this process lives on."""
    buf = io.BytesIO()
    Image.new("RGB", (7000, 7000), (200, 150, 130)).save(buf, "PNG")  # 160 KB file, 147 MB of pixels
    big, small = buf.getvalue(), png16_rgb(5)
    limit = 200 * 1024**2
    assert (inspect_isolated(small, max_pixels=10**8, memory_bytes=limit).width, ) == (W, )
    with pytest.raises(UploadRefused, match="safety limits"):
        inspect_isolated(big, max_pixels=10**8, memory_bytes=limit)
    with pytest.raises(UploadRefused, match="safety limits"):
        inspect_isolated(big, max_pixels=10**8, wall_seconds=0.01)
    info = inspect_isolated(big, max_pixels=10**8)
    assert (info.width, info.height) == (7000, 7000)
