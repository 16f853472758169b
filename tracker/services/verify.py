"""Consistency between photo rows and stored files (``tracker verify``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Analysis, Photo
from tracker.storage import Storage


@dataclass
class VerifyReport:
    checked: int = 0
    #: Keys a row points at but storage does not have (data loss: investigate).
    missing: list[str] = field(default_factory=list)
    #: Stored files no row points at (left by a crash mid-upload; safe to remove).
    orphans: list[str] = field(default_factory=list)


def verify_storage(session: Session, storage: Storage) -> VerifyReport:
    referenced: set[str] = set()
    for original, thumb, display in session.execute(select(Photo.original_key, Photo.thumb_key, Photo.display_key)):
        referenced.update(k for k in (original, thumb, display) if k)
    for (overlays,) in session.execute(select(Analysis.overlay_keys).where(Analysis.overlay_keys.is_not(None))):
        try:
            value = json.loads(overlays)
        except ValueError:
            continue
        if isinstance(value, dict):
            referenced.update(v for v in value.values() if isinstance(v, str))
    report = VerifyReport()
    for key in sorted(referenced):
        report.checked += 1
        if not storage.exists(key):
            report.missing.append(key)
    lister = getattr(storage, "iter_keys", None)
    if callable(lister):
        report.orphans = [k for k in lister() if k not in referenced]
    return report
