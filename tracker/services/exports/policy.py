"""Who may export: clinic admins, and technicians where the clinic allows it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tracker.models import ExportSettings, User
from tracker.models.base import utcnow
from tracker.models.vocabulary import CLINIC_ADMIN, TECHNICIAN

from .. import audit
from ..access import require_admin
from ..errors import Forbidden


def settings_for(session: Session, clinic_id: str) -> ExportSettings:
    row = session.get(ExportSettings, clinic_id)
    return row if row is not None else ExportSettings(clinic_id=clinic_id, technicians_may_export=False)


def can_export(session: Session, actor: User) -> bool:
    if not actor.active:
        return False
    if actor.role == CLINIC_ADMIN:
        return True
    return actor.role == TECHNICIAN and settings_for(session, actor.clinic_id).technicians_may_export


def require_export(session: Session, actor: User) -> None:
    if not can_export(session, actor):
        raise Forbidden("Only clinic admins can export photos and reports here. Your clinic admin can allow "
                        "technicians to export on the Exports page.")


def set_technicians_may_export(session: Session, actor: User, allowed: bool) -> ExportSettings:
    require_admin(actor)
    row = session.get(ExportSettings, actor.clinic_id)
    if row is None:
        row = ExportSettings(clinic_id=actor.clinic_id)
        session.add(row)
    row.technicians_may_export = bool(allowed)
    row.updated_at = utcnow()
    row.updated_by_id = actor.id
    audit.record(session, actor, "exports.setting_changed", "clinic", actor.clinic_id,
                 technicians_may_export=bool(allowed))
    return row
