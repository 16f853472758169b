"""Security tests reuse the web fixtures (a clinic A with patients, a clinic B, a signed-in
client per role) and add helpers to check that nothing was left behind."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.web.conftest import (  # noqa: F401 - fixtures
    app,
    clients,
    csrf_app,
    db,
    resources,
    site,
    template,
)
from tracker.models import Analysis, AuditEvent, Photo


@dataclass(frozen=True)
class StoreState:
    photos: int
    analyses: int
    files: frozenset[str]


def store_state(app: Flask) -> StoreState:
    """Rows and files that an upload adds: the same before and after a refused one."""
    res = resources(app)
    with res.session_factory() as s:
        photos = s.scalar(select(func.count()).select_from(Photo))
        analyses = s.scalar(select(func.count()).select_from(Analysis))
    return StoreState(photos, analyses, frozenset(res.storage.iter_keys()))


def audit_actions(app: Flask, action: str) -> list[AuditEvent]:
    with resources(app).session_factory() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.created_at)))


@pytest.fixture
def tech(clients):
    return clients["technician"]
