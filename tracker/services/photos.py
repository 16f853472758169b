"""Staff corrections to photos: re-tag (patient, visit, view, time point) and delete.

Both are recorded in the audit trail with who, when and what was there before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from tracker.models import Analysis, Baseline, Photo, RegionRevision, User
from tracker.storage import Storage, StorageError

from . import audit
from .access import get_photo, get_visit, require_staff
from .analysis import ensure_analysis, stored_overlay_keys
from .baselines import current_baseline_photo_id, key_of, refresh_baseline
from .errors import DuplicatePhoto, ValidationFailed
from .intake import PhotoTags, describe_existing, find_duplicate, key_in_use, validate_tags
from .patients import require_photography_consent


def _snapshot(photo: Photo) -> dict[str, Any]:
    return {
        "patient_id": photo.patient_id,
        "visit_id": photo.visit_id,
        "view": photo.view,
        "region": photo.region,
        "time_point": photo.time_point,
        "days_after": photo.days_after,
    }


def retag_photo(session: Session, actor: User, photo_id: str, *, visit_id: str, tags: PhotoTags,
                reason: str = "") -> Photo:
    """File the photo under another visit (possibly of another patient) and/or other tags."""
    require_staff(actor)
    photo = get_photo(session, actor, photo_id)
    target = get_visit(session, actor, visit_id)
    clean = validate_tags(target, tags)
    target_patient = target.series.patient
    if target_patient.id != photo.patient_id:
        require_photography_consent(target_patient)
        dup = find_duplicate(session, target_patient.id, photo.sha256)
        if dup is not None:
            raise DuplicatePhoto(
                f"{target_patient.full_name} already has this photo. " + describe_existing(dup),
                existing_photo_id=dup.id,
            )
    before = _snapshot(photo)
    old_key = key_of(photo)
    photo.patient_id = target_patient.id
    photo.series_id = target.series_id
    photo.visit_id = target.id
    photo.visit = target
    photo.view = clean.view
    photo.region = clean.region
    photo.time_point = clean.time_point
    photo.days_after = clean.days_after
    after = _snapshot(photo)
    if before == after:
        raise ValidationFailed("Nothing changed: choose a different visit, view or time point.")
    session.flush()
    audit.record(session, actor, "photo.retagged", "photo", photo.id, before=before, after=after,
                 reason=(reason or "").strip()[:500])
    new_key = key_of(photo)
    refresh_baseline(session, old_key, actor=actor, clinic_id=photo.clinic_id)
    if new_key != old_key:
        refresh_baseline(session, new_key, actor=actor, clinic_id=photo.clinic_id)
    else:
        # Same view, other visit or time point: the default baseline may move.
        refresh_baseline(session, new_key, actor=actor, clinic_id=photo.clinic_id)
    ensure_analysis(session, photo, current_baseline_photo_id(session, new_key))
    return photo


def delete_photo(session: Session, storage: Storage, actor: User, photo_id: str, *, reason: str = "") -> None:
    """Delete the photo, its derived images and analyses; commit; then remove the files.

    The original file is removed unless another patient's photo has the same bytes.
    Files go after the commit, so a crash leaves at most an orphan file.
    """
    require_staff(actor)
    photo = get_photo(session, actor, photo_id)
    key = key_of(photo)
    files = [k for k in (photo.thumb_key, photo.display_key) if k]
    original = photo.original_key
    audit.record(session, actor, "photo.deleted", "photo", photo.id, **_snapshot(photo),
                 sha256=photo.sha256, filename=photo.original_filename, reason=(reason or "").strip()[:500])
    overlay_rows = session.scalars(
        select(Analysis.overlay_keys).where(or_(Analysis.photo_id == photo.id,
                                                Analysis.baseline_photo_id == photo.id))
    )
    files += stored_overlay_keys(overlay_rows)
    # Regions drawn on this photo (as a baseline) go with it: their rows by cascade, their masks here.
    files += [k for k in session.scalars(select(RegionRevision.mask_key).where(
        RegionRevision.baseline_photo_id == photo.id, RegionRevision.mask_key.is_not(None))) if k]
    session.execute(delete(RegionRevision).where(RegionRevision.baseline_photo_id == photo.id))
    session.execute(delete(Analysis).where(or_(Analysis.photo_id == photo.id,
                                               Analysis.baseline_photo_id == photo.id)))
    session.execute(delete(Baseline).where(Baseline.photo_id == photo.id))
    session.delete(photo)
    session.flush()
    refresh_baseline(session, key, actor=actor, clinic_id=photo.clinic_id)
    session.commit()
    if not key_in_use(session, original):
        files.append(original)
    for k in files:
        try:
            storage.delete(k)
        except StorageError:
            pass  # reported by `tracker verify`

