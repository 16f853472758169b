"""Alembic: an empty database upgraded to head has exactly the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tracker.models import Base, make_engine
from tracker.models.migrate import current_revision, head_revision, upgrade


def test_upgrade_on_an_empty_database_matches_the_models(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"
    upgrade(engine)  # running it again is harmless
    engine.dispose()


def test_analyses_table_has_what_the_analysis_job_needs(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    upgrade(engine)
    cols = {c["name"] for c in inspect(engine).get_columns("analyses")}
    assert {"id", "clinic_id", "photo_id", "baseline_photo_id", "roi_revision", "chart_corners",
            "analysis_version", "state", "attempts", "lease_expires_at", "error", "result_json",
            "overlay_keys", "created_at", "finished_at", "inputs_key"} <= cols
    uniques = inspect(engine).get_unique_constraints("analyses")
    assert any(u["column_names"] == ["inputs_key"] for u in uniques)
    engine.dispose()
