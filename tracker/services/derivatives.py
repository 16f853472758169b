"""Derived images (thumbnail and display size) made in the background from the original."""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy.orm import Session

from tracker.models import Photo
from tracker.models.vocabulary import DERIVATIVES_FAILED, DERIVATIVES_READY
from tracker.storage import Storage

from .imaging import _DECODE_ERRORS, make_derivatives

log = logging.getLogger(__name__)


def thumb_key(photo_id: str) -> str:
    return f"derived/{photo_id}/thumb.jpg"


def display_key(photo_id: str) -> str:
    return f"derived/{photo_id}/display.jpg"


def build_derivatives(session: Session, storage: Storage, photo_id: str) -> Photo | None:
    """Make (or re-make) the photo's thumbnail and display image; commits.

    Returns None when the photo was deleted in the meantime. A photo that cannot be
    decoded is marked ``failed`` with the reason; a storage failure is raised so the
    queue can retry.
    """
    photo = session.get(Photo, photo_id)
    if photo is None:
        return None
    data = storage.read(photo.original_key)
    try:
        made = make_derivatives(data, photo.content_type)
    except _DECODE_ERRORS as e:
        log.warning("derivatives for photo %s failed: %s", photo_id, e)
        photo.derivatives_state = DERIVATIVES_FAILED
        photo.derivatives_error = f"The preview could not be made: {e}"
        session.commit()
        return photo
    tkey, dkey = thumb_key(photo.id), display_key(photo.id)
    storage.put_bytes(tkey, made.thumb_jpeg)
    storage.put_bytes(dkey, made.display_jpeg)
    session.expire_all()
    photo = session.get(Photo, photo_id)
    if photo is None:  # deleted while we worked: leave nothing behind
        for key in (tkey, dkey):
            storage.delete(key)
        return None
    photo.thumb_key, photo.display_key = tkey, dkey
    photo.thumb_sha256 = hashlib.sha256(made.thumb_jpeg).hexdigest()
    photo.display_sha256 = hashlib.sha256(made.display_jpeg).hexdigest()
    photo.derivatives_state = DERIVATIVES_READY
    photo.derivatives_error = None
    session.commit()
    return photo

