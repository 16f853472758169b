"""Derived images (thumbnail, display size), served only to those who may see the photo.

Originals are never served here: they may carry location and device metadata.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from tracker.services import media as media_svc

from .access import MEDIA, role_required
from .context import actor, get_storage
from .helpers import send_media, unit_of_work

bp = Blueprint("media", __name__, url_prefix="/media")
media_access = role_required(*MEDIA)


def _send(photo_id: str, size: str) -> Any:
    with unit_of_work() as db:
        media = media_svc.photo_image(db, get_storage(), actor(), photo_id, size)
    return send_media(media)


@bp.get("/<photo_id>/thumb.jpg")
@media_access
def thumb(photo_id: str) -> Any:
    return _send(photo_id, "thumb")


@bp.get("/<photo_id>/display.jpg")
@media_access
def display(photo_id: str) -> Any:
    return _send(photo_id, "display")
