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


def test_visits_that_exist_at_upgrade_count_as_reviewed(tmp_path):
    # Patients already saw these visits before review existed: the upgrade must not hide them.
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0005_sessions_and_security")
    now = "2026-01-05 10:00:00.000000"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO clinics (id, name, created_at) VALUES ('c1', 'Old clinic', :t)"), {"t": now})
        conn.execute(text("INSERT INTO patients (id, clinic_id, full_name, date_of_birth, fitzpatrick, concerns,"
                          " concerns_notes, is_simulated, created_at) VALUES ('p1', 'c1', 'A', '1980-01-01', 2,"
                          " '[]', '', 0, :t)"), {"t": now})
        conn.execute(text("INSERT INTO treatment_series (id, clinic_id, patient_id, treatment_type, treated_areas,"
                          " planned_sessions, interval_days, notes, is_simulated, created_at) VALUES ('s1', 'c1',"
                          " 'p1', 'erbium', '[\"face\"]', 3, 28, '', 0, :t)"), {"t": now})
        conn.execute(text("INSERT INTO visits (id, clinic_id, series_id, kind, visit_date, device, anaesthesia,"
                          " complications, notes, created_at) VALUES ('v1', 'c1', 's1', 'treatment', '2026-01-05',"
                          " '', 'none', '[]', '', :t)"), {"t": now})
    upgrade(engine)
    with engine.connect() as conn:
        reviewed = conn.execute(text("SELECT reviewed_at FROM visits WHERE id = 'v1'")).scalar_one()
    assert reviewed is not None
    engine.dispose()
