"""Every export is recorded with the SHA-256 of what was handed out, and audited."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import ExportRecord, TreatmentSeries, User
from tracker.models.base import new_id

from .. import audit
from ..access import get_series, require_admin
from .content import ProgressPair


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_export(session: Session, actor: User, series: TreatmentSeries, *, kind: str, filename: str, data: bytes,
                  files: dict[str, str], originals: dict[str, str], view: str = "", export_id: str | None = None,
                  manifest_sha256: str | None = None, **detail: Any) -> ExportRecord:
    row = ExportRecord(id=export_id or new_id(), clinic_id=series.clinic_id, patient_id=series.patient_id,
                       series_id=series.id, created_by_id=actor.id, kind=kind, view=view, filename=filename,
                       sha256=sha256(data), manifest_sha256=manifest_sha256, files=files, originals=originals,
                       detail=detail)
    session.add(row)
    session.flush()
    audit.record(session, actor, f"export.{kind}", "export", row.id, series_id=series.id,
                 patient_id=series.patient_id, filename=filename, sha256=row.sha256)
    return row


def originals_of(pair: ProgressPair) -> dict[str, str]:
    out = {pair.baseline.id: pair.baseline.sha256}
    if pair.later is not None:
        out[pair.later.id] = pair.later.sha256
    return out


@dataclass(frozen=True)
class ExportFile:
    filename: str
    mimetype: str
    data: bytes
    record: ExportRecord


def list_exports(session: Session, actor: User, *, limit: int = 200) -> list[ExportRecord]:
    require_admin(actor)
    stmt = (select(ExportRecord).where(ExportRecord.clinic_id == actor.clinic_id)
            .order_by(ExportRecord.created_at.desc()).limit(limit))
    return list(session.scalars(stmt))


def exports_for_series(session: Session, actor: User, series_id: str) -> list[ExportRecord]:
    series = get_series(session, actor, series_id)
    stmt = select(ExportRecord).where(ExportRecord.series_id == series.id).order_by(ExportRecord.created_at.desc())
    return list(session.scalars(stmt))
