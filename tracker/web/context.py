"""Per-request resources: the database session, the image storage and the queue.

Views get them here and pass them to services explicitly.
"""

from __future__ import annotations

from typing import cast

from flask import current_app, g, request
from flask_login import current_user
from sqlalchemy.orm import Session, sessionmaker

from tracker.jobs import TaskQueue
from tracker.config import Config
from tracker.models import User
from tracker.services.dispatch import bind_sink
from tracker.services.intake import IntakeLimits
from tracker.storage import Storage

EXTENSION = "tracker"


class Resources:
    """What the app factory builds once and every request shares."""

    def __init__(self, session_factory: sessionmaker[Session], storage: Storage, queue: TaskQueue,
                 limits: IntakeLimits, config: Config) -> None:
        self.config = config
        self.session_factory = session_factory
        self.storage = storage
        self.queue = queue
        self.limits = limits


def resources() -> Resources:
    return cast(Resources, current_app.extensions[EXTENSION])


def get_db() -> Session:
    """The request's session (created on first use, closed at teardown).

    Its commits hand deferred background jobs to the queue.
    """
    if "db" not in g:
        res = resources()
        g.db = bind_sink(res.session_factory(), res.queue)
    return cast(Session, g.db)


def close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def get_storage() -> Storage:
    return resources().storage


def get_limits() -> IntakeLimits:
    return resources().limits


def actor() -> User:
    """The signed-in user (the access table guarantees there is one on protected routes)."""
    return cast(User, current_user._get_current_object())  # type: ignore[attr-defined]


def client_address() -> str:
    """The client's address: the one a trusted proxy (``TRACKER_TRUSTED_PROXIES``) reports
    in ``X-Forwarded-For`` (its last entry, the one the proxy added), else the peer's."""
    peer = request.remote_addr or ""
    trusted = current_app.config.get("TRUSTED_PROXIES", ())
    forwarded = request.headers.get("X-Forwarded-For", "")
    if peer in trusted and forwarded.strip():
        return forwarded.split(",")[-1].strip()[:64]
    return peer
