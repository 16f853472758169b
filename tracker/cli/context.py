"""What every database command needs: the config from the environment, an engine, the schema check."""

from __future__ import annotations

from typing import Any

import click

from tracker.config import Config, ConfigError


def load_config() -> Config:
    """The instance's config (``TRACKER_*`` environment), with its folder made; a click error when invalid."""
    try:
        config = Config()
        config.ensure_instance()
    except (ConfigError, OSError) as e:
        raise click.ClickException(str(e)) from e
    return config


def open_engine(config: Config) -> Any:
    from tracker.models import make_engine

    return make_engine(config.DATABASE_URL)


def check_migrated(engine: Any) -> None:
    """Refuse to run against a database whose schema is not the code's."""
    from tracker.models.migrate import current_revision, head_revision

    current, head = current_revision(engine), head_revision()
    if current != head:
        raise click.ClickException(
            f"the database is at revision {current or 'none'}, the code needs {head}: run `tracker db upgrade` first")
