"""Service-layer fixtures: a real SQLite database and image store in a temporary folder,
and the real Huey queue (SQLite) whose tasks the tests execute in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tracker.config import TestConfig
from tracker.jobs import TaskQueue
from tracker.models import Base, make_engine, make_sessionmaker
from tracker.services.dispatch import bind_sink
from tracker.services.intake import IntakeLimits
from tracker.storage import FileSystemStorage

from .factories import World, make_world


@pytest.fixture
def config(tmp_path) -> TestConfig:
    cfg = TestConfig(tmp_path / "instance")
    cfg.ensure_instance()
    return cfg


@pytest.fixture
def session_factory(config) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(config.DATABASE_URL)
    Base.metadata.create_all(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def storage(config) -> FileSystemStorage:
    return FileSystemStorage(config.STORAGE_PATH)


@pytest.fixture
def queue(config, storage, session_factory) -> TaskQueue:
    return TaskQueue(config, storage=storage, session_factory=session_factory)


@pytest.fixture
def db(session_factory, queue) -> Iterator[Session]:
    session = bind_sink(session_factory(), queue)
    yield session
    session.close()


@pytest.fixture
def limits(config) -> IntakeLimits:
    return IntakeLimits.from_config(config)


@pytest.fixture
def world(db) -> World:
    return make_world(db)
