"""What database commands share: the config, one engine with its sessions, the storage.

``tracker`` puts one :class:`CliContext` on the click context; a command asks it for what
it needs (``@pass_cli``), each part is made on first use, and the engine is disposed of
when the command ends.
"""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tracker.config import Config, ConfigError
from tracker.models import make_engine, make_sessionmaker
from tracker.models.migrate import current_revision, head_revision
from tracker.storage import Storage, storage_from_config


def load_config() -> Config:
    """The instance's config (``TRACKER_*`` environment), with its folder made; a click error when invalid."""
    try:
        config = Config()
        config.ensure_instance()
    except (ConfigError, OSError) as e:
        raise click.ClickException(str(e)) from e
    return config


def open_engine(config: Config) -> Engine:
    return make_engine(config.DATABASE_URL)


def check_migrated(engine: Engine) -> None:
    """Refuse to run against a database whose schema is not the code's."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise click.ClickException(
            f"the database is at revision {current or 'none'}, the code needs {head}: run `tracker db upgrade` first")


class CliContext:
    """The config, the engine, its sessions and the storage of one command."""

    def __init__(self) -> None:
        self._config: Config | None = None
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._storage: Storage | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config()
        return self._config

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_engine(self.config)
        return self._engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            self._sessions = make_sessionmaker(self.engine)
        return self._sessions

    def require_current_schema(self) -> None:
        """A click error unless the database's schema is the code's (for commands that write)."""
        check_migrated(self.engine)

    @property
    def storage(self) -> Storage:
        if self._storage is None:
            self._storage = storage_from_config(self.config)
        return self._storage

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> CliContext:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


#: Passes the command's :class:`CliContext` as the first argument.
pass_cli = click.make_pass_decorator(CliContext)
