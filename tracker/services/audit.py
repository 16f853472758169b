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
