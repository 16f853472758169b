"""Staff notes on a photo: what the technician saw (a scab, make-up, a different lamp).

Notes are for staff only: patients never see them, and every note is audited.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import PhotoNote, User

from . import audit
from .access import get_photo, require_staff
from .errors import ValidationFailed

MAX_NOTE_CHARS = 2000


def add_note(session: Session, actor: User, photo_id: str, body: str) -> PhotoNote:
    require_staff(actor)
    photo = get_photo(session, actor, photo_id)
    text = (body or "").strip()
    if not text:
        raise ValidationFailed("Write the note first.", field="body")
    if len(text) > MAX_NOTE_CHARS:
        raise ValidationFailed(f"A note is at most {MAX_NOTE_CHARS} characters.", field="body")
    note = PhotoNote(clinic_id=photo.clinic_id, photo_id=photo.id, body=text, created_by_id=actor.id)
    session.add(note)
    session.flush()
    audit.record(session, actor, "photo.note_added", "photo", photo.id, note_id=note.id)
    return note


def notes_of(session: Session, actor: User, photo_id: str) -> list[PhotoNote]:
    """The photo's notes, oldest first (staff only)."""
    require_staff(actor)
    photo = get_photo(session, actor, photo_id)
    return list(session.scalars(select(PhotoNote).where(PhotoNote.photo_id == photo.id)
                                .order_by(PhotoNote.created_at)))
