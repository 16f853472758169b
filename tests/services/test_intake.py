"""Photo intake: what is accepted, what is refused (and why), and that nothing half-done remains."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import event, func, select

from tracker.models import Analysis, Photo
from tracker.models.vocabulary import CONSENT_PHOTOGRAPHY
from tracker.services import patients
from tracker.services.errors import (
    ConsentRequired,
    DuplicatePhoto,
    FileTooLarge,
    UnsupportedFile,
    UploadRefused,
    ValidationFailed,
)
from tracker.services.intake import IntakeLimits, PhotoTags, ingest_photo

from .factories import add_patient_with_series, bomb_png, exif_block, heic_bytes, jpeg_bytes, png_bytes

FRONT_BEFORE = PhotoTags(view="front", time_point="before")


def stored_files(storage) -> set[str]:
    return set(storage.iter_keys())


def upload(db, storage, world, data, *, limits, tags=FRONT_BEFORE, visit=None, name="photo.jpg"):
    return ingest_photo(db, storage, world.tech, (visit or world.visits[0]).id, data, filename=name,
                        tags=tags, limits=limits)


def photo_count(db) -> int:
    return db.scalar(select(func.count()).select_from(Photo))


def test_jpeg_is_stored_byte_for_byte_under_its_sha256_and_work_is_queued(db, storage, queue, world, limits):
    data = jpeg_bytes(seed=1)
    photo = upload(db, storage, world, data, limits=limits, name="IMG_0001.JPG")

    sha = hashlib.sha256(data).hexdigest()
    assert photo.sha256 == sha
    assert photo.original_key == f"originals/{sha[:2]}/{sha}"
    assert storage.read(photo.original_key) == data
    assert photo.content_type == "image/jpeg"
    assert (photo.width, photo.height) == (400, 300)
    assert photo.original_filename == "IMG_0001.JPG"
    # The upload returns before any derived image or analysis exists; both are queued.
    assert photo.derivatives_state == "pending" and photo.thumb_key is None
    assert sorted(queue.pending_names()) == ["analyze_photo", "make_derivatives"]
    analysis = db.scalar(select(Analysis).where(Analysis.photo_id == photo.id))
    assert analysis.state == "queued" and analysis.baseline_photo_id is None  # it is the baseline itself


def test_derivatives_are_made_by_the_queue(db, storage, queue, world, limits):
    photo = upload(db, storage, world, jpeg_bytes(2400, 1800, seed=2), limits=limits)
    assert queue.run_pending(only=("make_derivatives",)) == 1
    db.expire_all()
    photo = db.get(Photo, photo.id)
    assert photo.derivatives_state == "ready"
    with Image.open(io.BytesIO(storage.read(photo.thumb_key))) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == 320
    with Image.open(io.BytesIO(storage.read(photo.display_key))) as display:
        assert display.format == "JPEG" and display.size == (1600, 1200)


def test_png_and_heic_are_accepted_and_previewed_as_jpeg(db, storage, queue, world, limits):
    png = upload(db, storage, world, png_bytes(seed=3), limits=limits, name="scan.png")
    heic = upload(db, storage, world, heic_bytes(seed=4), limits=limits, name="IMG_1234.HEIC",
                  tags=PhotoTags(view="left_profile", time_point="before"))
    assert png.content_type == "image/png"
    assert heic.content_type == "image/heic" and (heic.width, heic.height) == (320, 240)
    queue.run_pending(only=("make_derivatives",))
    for photo in (png, heic):
        db.refresh(photo)
        assert photo.derivatives_state == "ready"
        with Image.open(io.BytesIO(storage.read(photo.display_key))) as im:
            assert im.format == "JPEG"


def test_exif_orientation_is_applied_to_size_and_derivatives(db, storage, queue, world, limits):
    # Stored sideways (400 x 300) with "rotate 90 CW to display" (orientation 6): dark quarter top-left.
    data = jpeg_bytes(400, 300, seed=5, exif=exif_block(orientation=6))
    photo = upload(db, storage, world, data, limits=limits)
    assert (photo.width, photo.height) == (300, 400)
    queue.run_pending(only=("make_derivatives",))
    db.refresh(photo)
    with Image.open(io.BytesIO(storage.read(photo.display_key))) as im:
        assert im.size == (300, 400)
        grey = np.asarray(im.convert("L"), dtype=float)
        top_left, top_right = grey[:200, :150].mean(), grey[:200, 150:].mean()
    # Rotating 90 degrees clockwise moves the dark top-left quarter to the top right.
    assert top_right < 0.5 * top_left
    assert storage.read(photo.original_key) == data  # the original is untouched


def test_exif_capture_time_is_read(db, storage, world, limits):
    photo = upload(db, storage, world, jpeg_bytes(seed=6, exif=exif_block(taken="2024:01:10 09:41:07")),
                   limits=limits)
    assert photo.captured_at == dt.datetime(2024, 1, 10, 9, 41, 7)
    heic = upload(db, storage, world, heic_bytes(seed=7, exif=exif_block(taken="2024:01:10 09:45:00")),
                  limits=limits, tags=PhotoTags(view="right_profile", time_point="before"))
    assert heic.captured_at == dt.datetime(2024, 1, 10, 9, 45, 0)
    no_exif = upload(db, storage, world, png_bytes(seed=8), limits=limits,
                     tags=PhotoTags(view="left_oblique", time_point="before"))
    assert no_exif.captured_at is None


def test_derivatives_carry_no_exif_or_gps_while_the_original_keeps_them(db, storage, queue, world, limits):
    data = jpeg_bytes(seed=9, exif=exif_block(gps=True, make="PhoneMaker", taken="2024:01:10 10:00:00"))
    with Image.open(io.BytesIO(data)) as src:
        assert src.getexif().get_ifd(0x8825)  # the test file really has GPS
    photo = upload(db, storage, world, data, limits=limits)
    queue.run_pending(only=("make_derivatives",))
    db.refresh(photo)
    assert storage.read(photo.original_key) == data
    for key in (photo.thumb_key, photo.display_key):
        raw = storage.read(key)
        assert b"Exif" not in raw and b"PhoneMaker" not in raw
        with Image.open(io.BytesIO(raw)) as im:
            assert len(im.getexif()) == 0
            assert "exif" not in im.info and "icc_profile" not in im.info


def test_same_file_twice_for_a_patient_is_recognised_and_not_stored_twice(db, storage, world, limits):
    data = jpeg_bytes(seed=10)
    first = upload(db, storage, world, data, limits=limits)
    files = stored_files(storage)
    with pytest.raises(DuplicatePhoto) as err:
        upload(db, storage, world, data, limits=limits, visit=world.visits[1],
               tags=PhotoTags(view="left_profile", time_point="before"))
    assert "already uploaded on" in str(err.value)
    assert "front" in str(err.value) and "session 1" in str(err.value)
    assert err.value.existing_photo_id == first.id and err.value.status == 409
    assert photo_count(db) == 1 and stored_files(storage) == files


def test_same_file_for_another_patient_is_a_separate_photo_sharing_one_original(db, storage, world, limits):
    data = jpeg_bytes(seed=11)
    mine = upload(db, storage, world, data, limits=limits)
    _, _, visit = add_patient_with_series(db, world.tech, "Other Patient")
    theirs = upload(db, storage, world, data, limits=limits, visit=visit)
    assert theirs.id != mine.id and theirs.original_key == mine.original_key
    assert len([k for k in stored_files(storage) if k.startswith("originals/")]) == 1


def _truncated() -> bytes:
    data = jpeg_bytes(800, 600, seed=12)
    return data[: len(data) // 2]


BAD_FILES = [
    ("notes.pdf", b"%PDF-1.7\n1 0 obj << >> endobj\n" * 20, UnsupportedFile, "not a photo"),
    ("fake.jpg", b"this is a text file renamed to .jpg\n" * 10, UnsupportedFile, "not a photo"),
    ("cut.jpg", None, UploadRefused, "incomplete"),
    ("empty.jpg", b"", UploadRefused, "empty"),
    ("bomb.png", None, UploadRefused, "megapixels"),
]


@pytest.mark.parametrize("name,data,error,words", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_refused_with_a_reason_and_the_rest_of_the_batch_goes_in(
        db, storage, queue, world, limits, name, data, error, words):
    if name == "cut.jpg":
        data = _truncated()
    if name == "bomb.png":
        data = bomb_png()
    batch = [("good-1.jpg", jpeg_bytes(seed=20)), (name, data), ("good-2.png", png_bytes(seed=21))]
    results = {}
    for filename, payload in batch:
        try:
            results[filename] = upload(db, storage, world, payload, limits=limits, name=filename)
        except UploadRefused as e:
            results[filename] = e
    refused = results[name]
    assert isinstance(refused, error)
    assert words in str(refused)
    assert isinstance(results["good-1.jpg"], Photo) and isinstance(results["good-2.png"], Photo)
    assert photo_count(db) == 2
    # Nothing of the refused file was kept: every stored original belongs to a row.
    originals = {k for k in stored_files(storage) if k.startswith("originals/")}
    assert originals == set(db.scalars(select(Photo.original_key)))


def test_oversized_file_is_refused_with_sizes_in_the_message(db, storage, world):
    small_limit = IntakeLimits(max_bytes=20_000, max_pixels=100_000_000)
    data = jpeg_bytes(1200, 900, seed=22, quality=98)
    assert len(data) > 20_000
    with pytest.raises(FileTooLarge) as err:
        upload(db, storage, world, data, limits=small_limit)
    assert "the limit is 20 KB" in str(err.value)
    assert err.value.status == 413
    assert photo_count(db) == 0 and stored_files(storage) == set()


def test_a_failure_after_the_file_is_written_leaves_no_file_and_no_row(db, session_factory, storage, world, limits):
    def database_down(session):
        raise RuntimeError("database went away during commit")

    event.listen(db, "before_commit", database_down)
    try:
        with pytest.raises(RuntimeError):
            upload(db, storage, world, jpeg_bytes(seed=23), limits=limits)
    finally:
        event.remove(db, "before_commit", database_down)
    with session_factory() as fresh:
        assert fresh.scalar(select(func.count()).select_from(Photo)) == 0
        assert fresh.scalar(select(func.count()).select_from(Analysis)) == 0
    assert stored_files(storage) == set()


def test_no_photo_without_photography_consent(db, storage, world, limits):
    patient, _, visit = add_patient_with_series(db, world.tech, "No Consent", consent=False)
    with pytest.raises(ConsentRequired) as err:
        upload(db, storage, world, jpeg_bytes(seed=24), limits=limits, visit=visit)
    assert "photography consent" in str(err.value)
    assert photo_count(db) == 0 and stored_files(storage) == set()


def test_revoked_consent_stops_uploads(db, storage, world, limits):
    upload(db, storage, world, jpeg_bytes(seed=25), limits=limits)
    patients.revoke_consent(db, world.tech, world.patient.id, CONSENT_PHOTOGRAPHY)
    db.commit()
    with pytest.raises(ConsentRequired):
        upload(db, storage, world, jpeg_bytes(seed=26), limits=limits,
               tags=PhotoTags(view="left_profile", time_point="before"))
    assert photo_count(db) == 1


def test_closeup_needs_a_region_and_tags_must_fit_the_visit(db, storage, world, limits):
    with pytest.raises(ValidationFailed, match="region"):
        upload(db, storage, world, jpeg_bytes(seed=27), limits=limits,
               tags=PhotoTags(view="closeup", time_point="before"))
    with pytest.raises(ValidationFailed, match="before or after"):
        upload(db, storage, world, jpeg_bytes(seed=27), limits=limits,
               tags=PhotoTags(view="front", time_point="follow_up"))
    photo = upload(db, storage, world, jpeg_bytes(seed=27), limits=limits,
                   tags=PhotoTags(view="closeup", region="  Left   Cheek ", time_point="after", days_after=3))
    assert (photo.region, photo.days_after, photo.time_point_label) == ("left cheek", 3, "3 days after")
    assert photo_count(db) == 1
