"""JSON API: one photo per upload request, and a photo's processing status.

Every POST carries the CSRF token in the ``X-CSRFToken`` header.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, url_for

from tracker.models import Photo
from tracker.services import access as obj
from tracker.services import baselines
from tracker.services.analysis import latest_analysis
from tracker.services.errors import DuplicatePhoto, UploadRefused
from tracker.services.intake import PhotoTags, ingest_photo
from tracker.services.photo_status import series_statuses

from .access import STAFF, role_required
from .context import actor, get_db, get_limits, get_storage

bp = Blueprint("api", __name__, url_prefix="/api")
staff_only = role_required(*STAFF)


def photo_json(db: Any, photo: Photo) -> dict[str, Any]:
    analysis = latest_analysis(db, photo.id)
    status = baselines.baseline_status(db, photo)
    return {
        "id": photo.id,
        "url": url_for("staff.photo", photo_id=photo.id),
        "view": photo.view_label,
        "time_point": photo.time_point_label,
        "visit": photo.visit.label,
        "width": photo.width,
        "height": photo.height,
        "captured_at": photo.captured_at.isoformat() if photo.captured_at else None,
        "derivatives": photo.derivatives_state,
        "thumb_url": url_for("media.thumb", photo_id=photo.id) if photo.thumb_key else None,
        "display_url": url_for("media.display", photo_id=photo.id) if photo.display_key else None,
        "analysis": analysis.state if analysis else None,
        "analysis_error": analysis.error if analysis else None,
        "is_baseline": status.is_baseline,
        "baseline_label": status.label,
    }


def _int_or_none(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise UploadRefused("Days after treatment must be a whole number.", field="days_after") from None


@bp.post("/visits/<visit_id>/photos")
@staff_only
def upload(visit_id: str) -> Any:
    db = get_db()
    file = request.files.get("file")
    if file is None or not file.filename:
        raise UploadRefused("No file was received. Choose the photo again.", field="file")
    tags = PhotoTags(view=request.form.get("view", ""), time_point=request.form.get("time_point", ""),
                     region=request.form.get("region", ""), days_after=_int_or_none(request.form.get("days_after")))
    try:
        photo = ingest_photo(db, get_storage(), actor(), visit_id, file.read(), filename=file.filename,
                             tags=tags, limits=get_limits())
    except DuplicatePhoto as e:
        return jsonify(error=e.message, existing_photo_url=url_for("staff.photo", photo_id=e.existing_photo_id)), 409
    return jsonify(photo=photo_json(db, photo)), 201


@bp.get("/photos/<photo_id>/status")
@staff_only
def photo_status(photo_id: str) -> Any:
    db = get_db()
    return jsonify(photo=photo_json(db, obj.get_photo(db, actor(), photo_id)))


@bp.get("/series/<series_id>/analysis-states")
@staff_only
def analysis_states(series_id: str) -> Any:
    """Each photo's analysis state for the live badges (live_status.js polls it)."""
    db = get_db()
    series = obj.get_series(db, actor(), series_id)  # another clinic's series: 404
    states = series_statuses(db, series.id)
    return jsonify(photos={pid: s.to_json() for pid, s in states.items()},
                   busy=any(s.busy for s in states.values()))
