"""The upload endpoint: one file per request, a clear 4xx message per refused file."""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.services.factories import bomb_png, heic_bytes, jpeg_bytes, png_bytes

from .conftest import build_app, dispose, signed_in


def post(client, visit_id, data: bytes, name="photo.jpg", **tags):
    form = {"file": FileStorage(io.BytesIO(data), filename=name, content_type="application/octet-stream"), "view": tags.get("view", "left_profile"),
            "time_point": tags.get("time_point", "before")}
    for key in ("region", "days_after"):
        if key in tags:
            form[key] = tags[key]
    # Encoded in memory: the test client would otherwise spool big bodies to an unclosed temp file.
    boundary, body = encode_multipart(form)
    return client.post(f"/api/visits/{visit_id}/photos", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def test_a_photo_goes_in_and_the_answer_describes_it(clients, site):
    response = post(clients["technician"], site.visit_id, jpeg_bytes(seed=100), "IMG_1.jpg",
                    view="closeup", region="Left cheek", time_point="after", days_after="3")
    assert response.status_code == 201
    photo = response.get_json()["photo"]
    assert photo["view"] == "Close-up: left cheek" and photo["time_point"] == "3 days after"
    assert photo["url"] == f"/photos/{photo['id']}" and photo["derivatives"] == "pending"
    assert photo["analysis"] == "queued"
    status = clients["technician"].get(f"/api/photos/{photo['id']}/status").get_json()["photo"]
    assert status["id"] == photo["id"]


BAD = [
    ("report.pdf", b"%PDF-1.4 not an image" * 10, 415, "not a photo"),
    ("empty.jpg", b"", 422, "empty"),
    ("cut.jpg", None, 422, "incomplete"),
    ("huge.png", None, 422, "megapixels"),
]


@pytest.mark.parametrize("name,data,status,words", BAD, ids=[b[0] for b in BAD])
def test_a_bad_file_gets_a_4xx_with_its_reason_and_the_next_file_still_goes_in(clients, site, name, data, status,
                                                                               words):
    if name == "cut.jpg":
        full = jpeg_bytes(800, 600, seed=101)
        data = full[: len(full) // 2]
    if name == "huge.png":
        data = bomb_png()
    tech = clients["technician"]
    refused = post(tech, site.visit_id, data, name)
    assert refused.status_code == status
    assert words in refused.get_json()["error"]
    accepted = post(tech, site.visit_id, png_bytes(seed=102), "next.png")
    assert accepted.status_code == 201


def test_heic_from_a_phone_is_accepted(clients, site):
    response = post(clients["technician"], site.visit_id, heic_bytes(seed=103), "IMG_0042.HEIC")
    assert response.status_code == 201


def test_duplicate_answers_409_with_a_link_to_the_existing_photo(clients, site):
    tech = clients["technician"]
    data = jpeg_bytes(seed=104)
    first = post(tech, site.visit_id, data).get_json()["photo"]
    again = post(tech, site.visit_id, data, view="right_profile")
    assert again.status_code == 409
    body = again.get_json()
    assert "already uploaded on" in body["error"] and body["existing_photo_url"] == first["url"]


def test_tags_are_checked(clients, site):
    tech = clients["technician"]
    missing_region = post(tech, site.visit_id, jpeg_bytes(seed=105), view="closeup")
    assert missing_region.status_code == 400 and missing_region.get_json()["field"] == "region"
    bad_days = post(tech, site.visit_id, jpeg_bytes(seed=105), time_point="after", days_after="three")
    assert bad_days.status_code == 422 and "whole number" in bad_days.get_json()["error"]
    no_file = tech.post(f"/api/visits/{site.visit_id}/photos", data={"view": "front"})
    assert no_file.status_code == 422 and "No file" in no_file.get_json()["error"]


def test_no_consent_and_foreign_visits_are_refused(clients, site):
    tech = clients["technician"]
    no_consent = post(tech, site.no_consent_visit_id, jpeg_bytes(seed=106))
    assert no_consent.status_code == 409 and "photography consent" in no_consent.get_json()["error"]
    foreign = post(tech, site.other_clinic_visit_id, jpeg_bytes(seed=107))
    assert foreign.status_code == 404


def test_patients_cannot_upload(clients, site):
    assert post(clients["patient"], site.visit_id, jpeg_bytes(seed=108)).status_code == 403
    assert post(clients["anonymous"], site.visit_id, jpeg_bytes(seed=108)).status_code == 401


def test_oversized_uploads_are_refused_with_the_limit(template, tmp_path):
    import shutil

    shutil.copytree(template.instance, tmp_path / "instance")
    app = build_app(tmp_path / "instance", WTF_CSRF_ENABLED=False, MAX_UPLOAD_MB=1)
    try:
        tech = signed_in(app, template.cookies["technician"])
        site = template.site
        big = jpeg_bytes(1600, 1200, seed=109, quality=100)
        big = big + b"\0" * max(0, 1_600_000 - len(big))  # well over 1 MB: stopped by the request limit
        over_request = post(tech, site.visit_id, big, "big.jpg")
        assert over_request.status_code == 413 and "1 MB limit" in over_request.get_json()["error"]
        # Just over the file limit but inside the request envelope: refused by the intake service.
        near = jpeg_bytes(800, 600, seed=110, quality=95)
        near = near + b"\0" * (1_100_000 - len(near))
        assert 1_048_576 < len(near) < 1_048_576 + 200_000
        over_file = post(tech, site.visit_id, near, "near.jpg")
        assert over_file.status_code == 413 and "the limit is 1 MB" in over_file.get_json()["error"]
        assert post(tech, site.visit_id, jpeg_bytes(seed=111)).status_code == 201
    finally:
        dispose(app)
