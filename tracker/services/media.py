"""Stored images leaving the system for a screen or a download: access checked, view audited.

Each function answers which stored file to send, after checking that ``actor`` may see it and
recording the view in the audit trail; the web layer sends it with :meth:`Storage.send`.
Originals leave only as a staff download (they may carry location and device metadata).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tracker.models import User
from tracker.storage import Storage

from . import audit
from .access import get_photo, require_staff
from .analysis.overlays import image_extension, image_type
from .errors import NotFound
from .progress import overlay_key_for, photo_of_analysis

_ORIGINAL_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/heic": "heic"}


@dataclass(frozen=True)
class MediaFile:
    """A stored file to send: ``download_name`` set means an attachment, not an inline image."""

    key: str
    mimetype: str
    download_name: str | None = None


def _stored(storage: Storage, key: str | None) -> str:
    if not key or not storage.exists(key):
        raise NotFound("That image does not exist.")
    return key


def photo_image(session: Session, storage: Storage, actor: User, photo_id: str, size: str) -> MediaFile:
    """A photo's thumbnail (``size`` "thumb") or display JPEG ("display"). A thumbnail is part of
    the page that shows it, which records the view; a display image records its own."""
    photo = get_photo(session, actor, photo_id)
    key = _stored(storage, photo.thumb_key if size == "thumb" else photo.display_key)
    if size != "thumb":
        audit.record_view(session, actor, [photo.id], patient_id=photo.patient_id, page="image")
    return MediaFile(key, "image/jpeg")


def overlay_image(session: Session, storage: Storage, actor: User, analysis_id: str, name: str,
                  extension: str | None = None) -> MediaFile:
    """An analysis overlay image (patients: unless the clinic hides them), JPEG or, for analyses made
    before overlays became JPEG, PNG; asked for with another ``extension`` than its own, it does not
    exist (one address per image). It shows the photo, so it is recorded as a view of it like any other."""
    key = overlay_key_for(session, actor, analysis_id, name)
    if extension is not None and image_extension(key) != extension:
        raise NotFound("That image does not exist.")
    key = _stored(storage, key)
    photo = photo_of_analysis(session, analysis_id)
    audit.record_view(session, actor, [photo.id], patient_id=photo.patient_id, page="overlay")
    return MediaFile(key, image_type(key))


def original_download(session: Session, storage: Storage, actor: User, photo_id: str) -> MediaFile:
    """The original file as uploaded, for staff, audited as a download."""
    require_staff(actor)
    photo = get_photo(session, actor, photo_id)
    key = _stored(storage, photo.original_key)
    audit.record(session, actor, "photo.original_downloaded", "photo", photo.id)
    return MediaFile(key, photo.content_type,
                     download_name=f"photo-{photo.id}.{_ORIGINAL_EXTENSIONS[photo.content_type]}")
