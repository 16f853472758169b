"""Recording who did what: every change to clinical data leaves an audit event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import AuditEvent, User


def record(
    session: Session,
    actor: User | None,
    action: str,
    obj_type: str,
    obj_id: str,
    *,
    clinic_id: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event to ``session`` (committed with the change it describes)."""
    clinic = clinic_id or (actor.clinic_id if actor is not None else None)
    if clinic is None:
        raise ValueError("an audit event needs a clinic")
    event = AuditEvent(
        clinic_id=clinic,
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=obj_type,
        object_id=obj_id,
        detail=_jsonable(detail),
    )
    session.add(event)
    return event


#: A photo's images fetched again within this many seconds of a recorded view add no line:
#: one page view is one line, not one per thumbnail, overlay or zoom.
VIEW_WINDOW_S = 300


def record_view(session: Session, actor: User, photo_ids: list[str], *, patient_id: str, page: str,
                obj_type: str = "photo", obj_id: str | None = None) -> AuditEvent | None:
    """One "photo.viewed" line for a page showing ``photo_ids`` (unless this very view was
    recorded within :data:`VIEW_WINDOW_S`; an image fetched by that page adds nothing)."""
    import datetime as dt

    from tracker.models import utcnow

    target = obj_id or (photo_ids[0] if photo_ids else "")
    if not target:
        return None
    since = utcnow() - dt.timedelta(seconds=VIEW_WINDOW_S)
    recent = session.scalar(select(AuditEvent.id).where(
        AuditEvent.actor_id == actor.id, AuditEvent.action == "photo.viewed", AuditEvent.object_type == obj_type,
        AuditEvent.object_id == target, AuditEvent.created_at >= since).limit(1))
    if recent is not None and page in ("image", "overlay"):
        return None
    return record(session, actor, "photo.viewed", obj_type, target, patient_id=patient_id, image=page,
                  photos=list(photo_ids))


def events_for(session: Session, clinic_id: str, obj_type: str, obj_id: str) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(
            AuditEvent.clinic_id == clinic_id,
            AuditEvent.object_type == obj_type,
            AuditEvent.object_id == obj_id,
        )
        .order_by(AuditEvent.created_at)
    )
    return list(session.scalars(stmt))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# Reading the trail (clinic admins) ------------------------------------------------------
#: Columns of the CSV export, in order.
CSV_COLUMNS = ("when_utc", "actor_name", "actor_email", "actor_role", "action", "object_type", "object_id",
               "patient_id", "detail")


def clinic_events(session: Session, actor: User, *, limit: int | None = 200,
                  action_prefix: str = "") -> list[AuditEvent]:
    """The actor's clinic's events, newest first (clinic admins only)."""
    from .access import require_admin

    require_admin(actor)
    stmt = select(AuditEvent).where(AuditEvent.clinic_id == actor.clinic_id)
    if action_prefix:
        stmt = stmt.where(AuditEvent.action.startswith(action_prefix, autoescape=True))
    stmt = stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def export_csv(session: Session, actor: User) -> str:
    """The clinic's whole audit trail as CSV (oldest first); the export itself is recorded.

    Free-text values that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``)
    are prefixed with an apostrophe; ids, actions and times are written as they are.
    """
    import csv
    import io
    import json

    events = list(reversed(clinic_events(session, actor, limit=None)))
    users = {u.id: u for u in session.scalars(select(User).where(User.clinic_id == actor.clinic_id))}
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for e in events:
        who = users.get(e.actor_id or "")
        detail = dict(e.detail or {})
        writer.writerow([
            e.created_at.isoformat(timespec="seconds"), _cell(who.full_name if who else "system"),
            _cell(who.email if who else ""), who.role if who else "", e.action, e.object_type, e.object_id,
            str(detail.get("patient_id", e.object_id if e.object_type == "patient" else "")),
            _cell(json.dumps(detail, sort_keys=True, ensure_ascii=False)),
        ])
    record(session, actor, "audit.exported", "clinic", actor.clinic_id, events=len(events))
    return "\ufeff" + buf.getvalue()  # a BOM: Excel then reads UTF-8 (non-Latin names) correctly


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
