"""Derived images (thumbnail, display size), served only to those who may see the photo.

Originals are never served here: they may carry location and device metadata.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, send_file

from tracker.services import access as obj, audit

from .access import MEDIA, role_required
from .context import actor, get_db, get_storage

bp = Blueprint("media", __name__, url_prefix="/media")
media_access = role_required(*MEDIA)


def _send(photo_id: str, which: str) -> Any:
    db, me = get_db(), actor()
    photo = obj.get_photo(db, me, photo_id)
    key = photo.thumb_key if which == "thumb" else photo.display_key
    if not key:
        abort(404)
    path = get_storage().local_path(key)
    if path is None or not path.is_file():
        abort(404)
    if which != "thumb":  # thumbnails are part of a page view, recorded by the page
        audit.record_view(db, me, [photo.id], patient_id=photo.patient_id, page="image")
        db.commit()
    return send_file(path, mimetype="image/jpeg", max_age=0, etag=False)


@bp.get("/<photo_id>/thumb.jpg")
@media_access
def thumb(photo_id: str) -> Any:
    return _send(photo_id, "thumb")


@bp.get("/<photo_id>/display.jpg")
@media_access
def display(photo_id: str) -> Any:
    return _send(photo_id, "display")
