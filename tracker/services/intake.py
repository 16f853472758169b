"""Photo intake: one uploaded file becomes one stored original and one photo row.

Order of work (atomic): check everything that can be checked on the bytes;
write the original (content-addressed, atomic); then insert the row, the
baseline update and the queued analysis in one transaction. If anything after
the file write fails, the transaction is rolled back and the file we wrote is
removed. A crash between the two steps leaves at most an orphan file (which
``tracker verify`` reports), never a row pointing at nothing.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.models import Photo, User, Visit
from tracker.models.vocabulary import (
    DERIVATIVES_PENDING,
    TIME_AFTER,
    TIME_BEFORE,
    TIME_FOLLOW_UP,
    TIME_POINTS,
    VIEW_CLOSEUP,
    VIEWS,
    VISIT_TREATMENT,
)
from tracker.config import Config
from tracker.storage import Storage, StorageError, original_key

from . import audit
from .access import get_visit, require_staff
from .analysis import ensure_analysis
from .baselines import current_baseline_photo_id, key_of, refresh_baseline
from .dispatch import DERIVATIVES, defer
from .errors import DuplicatePhoto, FileTooLarge, UploadRefused, ValidationFailed
from .imaging import inspect_image
from .patients import require_photography_consent
from .text import plain_text


@dataclass(frozen=True)
class PhotoTags:
    view: str
    time_point: str
    region: str = ""
    days_after: int | None = None


@dataclass(frozen=True)
class IntakeLimits:
    max_bytes: int
    max_pixels: int

    @classmethod
    def from_config(cls, config: Config) -> IntakeLimits:
        return cls(max_bytes=config.MAX_UPLOAD_BYTES, max_pixels=config.MAX_IMAGE_PIXELS)


def human_size(n: int) -> str:
    """Bytes for people: ``512 KB``, ``3.4 MB``, ``40 MB``.

    >>> human_size(40 * 1048576), human_size(3_500_000), human_size(20_000)
    ('40 MB', '3.3 MB', '20 KB')
    """
    if n < 1048576:
        return f"{max(1, round(n / 1024))} KB"
    mb = n / 1048576
    return f"{mb:.0f} MB" if mb >= 10 or mb == int(mb) else f"{mb:.1f} MB"


def normalise_region(region: str | None) -> str:
    """"  Left  Cheek " -> "left cheek"."""
    return plain_text(region).lower()[:80]


def validate_tags(visit: Visit, tags: PhotoTags) -> PhotoTags:
    """Check the view / region / time point for a photo of ``visit``; return them normalised."""
    if tags.view not in VIEWS:
        raise ValidationFailed("Choose the view (front, profile, oblique or close-up).", field="view")
    region = normalise_region(tags.region) if tags.view == VIEW_CLOSEUP else ""
    if tags.view == VIEW_CLOSEUP and len((tags.region or "").strip()) > 80:
        raise ValidationFailed("The region name is too long: use at most 80 characters, e.g. \"left cheek\".",
                               field="region")
    if tags.view == VIEW_CLOSEUP and not region:
        raise ValidationFailed("Name the region of the close-up, e.g. \"left cheek\".", field="region")
    if tags.time_point not in TIME_POINTS:
        raise ValidationFailed("Choose the time point.", field="time_point")
    if visit.kind == VISIT_TREATMENT and tags.time_point == TIME_FOLLOW_UP:
        raise ValidationFailed("A treatment session's photos are taken before or after the treatment.",
                               field="time_point")
    if visit.kind != VISIT_TREATMENT and tags.time_point == TIME_BEFORE:
        raise ValidationFailed("A follow-up visit has no treatment: tag its photos as follow-up.",
                               field="time_point")
    days_after = None
    if tags.time_point == TIME_AFTER:
        days_after = 0 if tags.days_after is None else int(tags.days_after)
        if not 0 <= days_after <= 3650:
            raise ValidationFailed("Days after treatment must be between 0 and 3650.", field="days_after")
    return PhotoTags(tags.view, tags.time_point, region, days_after)


def clean_filename(name: str | None) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    return base.strip()[:255]


def describe_existing(photo: Photo) -> str:
    visit = photo.visit
    when = f"{photo.uploaded_at:%d %b %Y}"
    return (f"This photo was already uploaded on {when} as {photo.view_label.lower()}, "
            f"{visit.label.lower()} ({visit.visit_date:%d %b %Y}), {photo.time_point_label.lower()}. "
            "It was not stored twice.")


def find_duplicate(session: Session, patient_id: str, sha256: str) -> Photo | None:
    return session.scalar(select(Photo).where(Photo.patient_id == patient_id, Photo.sha256 == sha256))


def key_in_use(session: Session, key: str, *, excluding: str | None = None) -> bool:
    stmt = select(Photo.id).where(Photo.original_key == key)
    if excluding:
        stmt = stmt.where(Photo.id != excluding)
    return session.scalar(stmt.limit(1)) is not None


def ingest_photo(
    session: Session,
    storage: Storage,
    actor: User,
    visit_id: str,
    data: bytes,
    *,
    filename: str,
    tags: PhotoTags,
    limits: IntakeLimits,
) -> Photo:
    """Store one uploaded photo for ``visit_id``, or refuse it with a reason.

    Commits on success (derivatives and analysis are queued once committed);
    raises :class:`UploadRefused` / :class:`ValidationFailed` /
    :class:`ConsentRequired` / :class:`NotFound` otherwise, leaving nothing behind.
    """
    require_staff(actor)
    visit = get_visit(session, actor, visit_id)
    series = visit.series
    patient = series.patient
    require_photography_consent(patient)
    clean = validate_tags(visit, tags)
    if len(data) > limits.max_bytes:
        raise FileTooLarge(
            f"The file is {human_size(len(data))}; the limit is {human_size(limits.max_bytes)}. "
            "Export the photo at a smaller size."
        )
    info = inspect_image(data, max_pixels=limits.max_pixels)
    sha = hashlib.sha256(data).hexdigest()
    existing = find_duplicate(session, patient.id, sha)
    if existing is not None:
        raise DuplicatePhoto(describe_existing(existing), existing_photo_id=existing.id)

    key = original_key(sha)
    wrote = False
    try:
        if not (storage.exists(key) and storage.size(key) == len(data)):
            storage.put_bytes(key, data)
            wrote = True
    except StorageError as e:
        raise UploadRefused("The photo could not be saved on the server (storage error). "
                            "Nothing was stored; try again or tell your administrator.") from e
    try:
        photo = Photo(
            clinic_id=visit.clinic_id, patient_id=patient.id, series_id=series.id, visit_id=visit.id,
            view=clean.view, region=clean.region, time_point=clean.time_point, days_after=clean.days_after,
            sha256=sha, original_key=key, content_type=info.content_type,
            original_filename=clean_filename(filename), size_bytes=len(data),
            width=info.width, height=info.height, captured_at=info.captured_at,
            uploaded_by_id=actor.id, derivatives_state=DERIVATIVES_PENDING,
        )
        session.add(photo)
        session.flush()
        defer(session, DERIVATIVES, photo.id)  # first: people wait for the preview
        refresh_baseline(session, key_of(photo), actor=actor, clinic_id=photo.clinic_id)
        ensure_analysis(session, photo, current_baseline_photo_id(session, key_of(photo)))
        audit.record(session, actor, "photo.uploaded", "photo", photo.id, patient_id=patient.id,
                     visit_id=visit.id, view=photo.view_label, time_point=photo.time_point_label,
                     sha256=sha, filename=photo.original_filename)
        session.commit()
    except BaseException as e:
        session.rollback()
        if wrote and not key_in_use(session, key):
            try:
                storage.delete(key)
            except StorageError:
                pass  # an orphan file; `tracker verify` reports it
        if isinstance(e, IntegrityError):
            # Another upload of the same file for this patient won the race.
            dup = find_duplicate(session, patient.id, sha)
            if dup is not None:
                raise DuplicatePhoto(describe_existing(dup), existing_photo_id=dup.id) from e
        raise
    return photo
