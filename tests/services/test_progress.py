"""Progress: pairs, healing windows, verdicts, chart JSON and CSV, flags, summaries, outcomes.

Simulated series (improving, stable, worsening) go through the real intake and the real
queue, so every number is what the analysis stored.
"""

from __future__ import annotations

import csv
import json
import datetime as dt
import io

import pytest

from tracker.models.vocabulary import VIEW_CLOSEUP
from tracker.services import progress
from tracker.services.errors import Forbidden, NotFound, ValidationFailed

from .factories import add_patient_with_series, make_world
from .simulated import START, analyse_all, load_series

VIEW = (VIEW_CLOSEUP, "left cheek")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A real SQLite database, file storage and queue shared by this module (the analysis is slow)."""
    from tracker.config import TestConfig
    from tracker.jobs import TaskQueue
    from tracker.models import Base, make_engine, make_sessionmaker
    from tracker.services.dispatch import bind_sink
    from tracker.services.intake import IntakeLimits
    from tracker.storage import FileSystemStorage

    cfg = TestConfig(tmp_path_factory.mktemp("progress") / "instance")
    cfg.ensure_instance()
    engine = make_engine(cfg.DATABASE_URL)
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    storage = FileSystemStorage(cfg.STORAGE_PATH)
    queue = TaskQueue(cfg, storage=storage, session_factory=factory)
    session = bind_sink(factory(), queue)
    yield session, storage, queue, IntakeLimits.from_config(cfg)
    session.close()
    engine.dispose()


@pytest.fixture(scope="module")
def loaded(env):
    """One clinic with three patients: an improving, a stable and a worsening series."""
    db, storage, queue, limits = env
    world = make_world(db, sessions=0)
    out = {}
    for trend in ("improving", "stable", "worsening"):
        patient, series, first = add_patient_with_series(db, world.tech, f"Patient {trend}", start=START)
        series.treatment_type = "fractional_co2"
        db.commit()
        ids = load_series(db, storage, limits, world.tech, series, trend)
        out[trend] = (series, ids)
    analyse_all(queue)
    db.expire_all()
    return world, out


@pytest.fixture
def db(env):
    return env[0]


def _pair(db, world, series):
    views = progress.series_progress(db, world.tech, series.id)
    assert [(v.view, v.region) for v in views] == [VIEW]
    return views[0]


def _point(db, world, series, photo_id):
    return next(pt for pt in _pair(db, world, series).points if pt.photo.id == photo_id)


def test_progress_pair_healing_pair_and_verdicts_follow_the_true_trend(db, loaded):
    world, by_trend = loaded
    verdicts = {}
    for trend, (series, ids) in by_trend.items():
        vp = _pair(db, world, series)
        # baseline = before session 1; progress = before session 2 ("after 1 session"); the
        # 4-days-after photo is a healing pair, never progress.
        assert vp.pair is not None
        assert vp.pair.baseline.photo.id == ids[0]
        assert vp.pair.later.photo.id == ids[2]
        assert vp.pair.label == "After 1 session"
        assert [(h.baseline.photo.id, h.later.photo.id) for h in vp.healing] == [(ids[0], ids[1])]
        assert "healing, not progress" in vp.healing[0].label
        healing_point = next(pt for pt in vp.points if pt.photo.id == ids[1])
        assert healing_point.kind == "healing"
        assert all(c.verdict == "not comparable" for c in progress.changes(healing_point))
        # Redness 4 days after a session may include residual pinkness; 91 days later it is not noted.
        red = {c.measure.key: c for c in progress.changes(healing_point)}["red_area_pct"]
        assert progress.RESIDUAL_PINK_NOTE in red.reasons
        later_red = {c.measure.key: c for c in progress.changes(vp.pair.later)}["red_area_pct"]
        assert progress.RESIDUAL_PINK_NOTE not in later_red.reasons
        verdicts[trend] = {c.measure.key: c.verdict for c in progress.changes(vp.pair.later)}
    assert verdicts["improving"]["erythema_index_mean"] == "improved"
    assert verdicts["improving"]["red_area_pct"] == "improved"
    assert verdicts["stable"]["erythema_index_mean"] == "no measurable change"
    assert verdicts["stable"]["red_area_pct"] == "no measurable change"
    assert verdicts["worsening"]["erythema_index_mean"] == "worse"
    assert verdicts["worsening"]["pigment_load"] == "worse"


def test_worsening_series_raises_the_flags_prominent_for_dark_skin(db, loaded):
    world, by_trend = loaded
    kinds = {trend: {f.kind for f in _pair(db, world, s).flags} for trend, (s, _) in by_trend.items()}
    assert "hyperpigmentation" in kinds["worsening"]
    assert "prolonged_redness" in kinds["worsening"]
    assert not kinds["improving"] & {"hyperpigmentation", "prolonged_redness"}
    assert not kinds["stable"] & {"hyperpigmentation", "prolonged_redness"}
    # The factory's patients are Fitzpatrick IV: the flags are prominent.
    assert all(f.prominent for f in _pair(db, world, by_trend["worsening"][0]).flags)


def test_chart_json_and_csv_hold_the_same_numbers(db, loaded):
    world, by_trend = loaded
    series, ids = by_trend["improving"]
    data = progress.chart_data(db, world.tech, series.id, *VIEW)
    assert [p["photo_id"] for p in data["points"]] == ids
    assert [p["kind"] for p in data["points"]] == ["baseline", "healing", "progress"]
    later = data["points"][2]
    # The point is the pair's own photo value; its band is that pair's baseline ± the MDC its verdict used.
    low, high = later["bands"]["red_area_pct"]
    assert later["values"]["red_area_pct"] < low < high  # below its band: improved
    assert later["verdicts"]["red_area_pct"] == "improved"
    change = next(c for c in progress.changes(_point(db, world, series, ids[2])) if c.measure.key == "red_area_pct")
    assert later["values"]["red_area_pct"] == round(change.photo, 1)
    assert (low, high) == (round(change.baseline - change.mdc, 1), round(change.baseline + change.mdc, 1))
    # A healing photo is plotted at its own measured value: never a negative count or area.
    healing = data["points"][1]
    for m in data["measures"]:
        value = healing["values"].get(m["key"])
        assert value is None or m["minimum"] is None or value >= m["minimum"], (m["key"], value)
    assert [s["label"] for s in data["sessions"]] == ["Session 1", "Session 2"]
    assert data["sessions"][1]["settings"] == "40 mJ, 10 % density, 2 passes"
    rows = list(csv.DictReader(io.StringIO(progress.chart_csv(data))))
    from_csv = {(r["date"], r["measure"]): float(r["value"]) for r in rows if r["value"]}
    from_json = {(p["date"], k): v for p in data["points"] for k, v in p["values"].items() if v is not None}
    assert from_csv == from_json
    assert not any("e-" in r[k] for r in rows for k in ("value", "baseline", "mdc", "band_low", "band_high"))
    assert len(from_json) >= 12


def test_plain_summaries_use_areas_not_log_indices(db, loaded):
    world, by_trend = loaded
    improving = _pair(db, world, by_trend["improving"][0]).summary
    assert "Red area: less than at the start." in improving
    stable = _pair(db, world, by_trend["stable"][0]).summary
    assert "Red area: no change that the photos can measure yet." in stable
    assert not any("index" in line.lower() or "EI" in line or "_" in line for line in improving + stable)
    # One sentence per thing a patient knows: the legacy erythema index does not add a second "Redness".
    for summary in (improving, stable):
        topics = [line.split(":")[0] for line in summary]
        assert len(topics) == len(set(topics)), summary
    # With the clinic's "details" on, the same sentence carries the figures as every page prints them.
    pair = _pair(db, world, by_trend["improving"][0]).pair
    detailed = progress.plain_summary(pair, details=True)
    red = next(c for c in progress.changes(pair.later) if c.measure.key == "red_area_pct")
    assert f"Red area: less than at the start ({red.shown('baseline')} at the start, {red.shown('photo')} now " \
           f"% of the treated skin)." in detailed


def test_chart_refuses_other_clinics_and_other_patients(db, loaded):
    world, by_trend = loaded
    series, _ = by_trend["improving"]
    other = make_world(db, name="Clinic B", prefix="b", sessions=0)
    with pytest.raises(NotFound):
        progress.chart_data(db, other.tech, series.id, *VIEW)


def test_healing_windows_are_editable_per_clinic(db, loaded):
    world, by_trend = loaded
    assert progress.healing_windows(db, world.clinic.id)["fractional_co2"] == 14
    assert progress.healing_windows(db, world.clinic.id)["erbium"] == 3
    with pytest.raises(Forbidden):
        progress.set_healing_window(db, world.tech, "fractional_co2", 100)
    with pytest.raises(ValidationFailed):
        progress.set_healing_window(db, world.admin, "fractional_co2", 100)
    # A window longer than the 91 days between sessions makes "before session 2" healing too.
    progress.set_healing_window(db, world.admin, "fractional_co2", 90)
    db.commit()
    vp = _pair(db, world, by_trend["improving"][0])
    assert vp.pair is not None  # 91 days: just outside
    series, ids = by_trend["improving"]
    series.visits[1].visit_date = series.visits[0].visit_date + dt.timedelta(days=60)
    db.commit()
    vp = _pair(db, world, series)
    assert vp.pair is None
    later = next(pt for pt in vp.points if pt.photo.id == ids[2])
    assert later.kind == "healing" and "90-day healing window" in later.reason
    series.visits[1].visit_date = series.visits[0].visit_date + dt.timedelta(days=91)
    progress.set_healing_window(db, world.admin, "fractional_co2", 14)
    db.commit()



def test_progress_settings_as_typed_on_the_page_are_whole_days_and_blank_keeps_the_value(db, loaded):
    world, _ = loaded
    before = progress.healing_windows(db, world.clinic.id)
    for typed in ("7.5", "²", "-3", "ten"):
        with pytest.raises(ValidationFailed, match="whole numbers of days"):
            progress.save_progress_settings(db, world.admin, {"erbium": typed}, hide_overlays=False)
        db.rollback()
    progress.save_progress_settings(db, world.admin, {"erbium": " 5 ", "fractional_co2": ""}, hide_overlays=True)
    db.commit()
    after = progress.healing_windows(db, world.clinic.id)
    assert after["erbium"] == 5 and after["fractional_co2"] == before["fractional_co2"]
    assert progress.overlays_hidden_from_patients(db, world.clinic.id)
    progress.save_progress_settings(db, world.admin, {"erbium": str(before["erbium"])}, hide_overlays=False)
    db.commit()

def test_outcomes_per_treatment_type(db, loaded):
    world, by_trend = loaded
    rows, flagged = progress.outcomes(db, world.admin)
    assert [(r.treatment_type, r.series_count) for r in rows] == [("fractional_co2", 3)]
    mean, n = rows[0].means[1]["red_area_pct"]
    assert n == 3
    assert any(s.id == by_trend["worsening"][0].id for s, _ in flagged)
    rows, _ = progress.outcomes(db, world.admin, since=dt.date(2030, 1, 1))
    assert rows == []


def test_a_region_revision_is_measured_with_its_mask_and_corners(env, loaded):
    from sqlalchemy import select

    from tracker.models import Analysis
    from tracker.services import regions

    db, storage, queue, _ = env
    world, by_trend = loaded
    series, ids = by_trend["stable"]
    baseline = next(pt for pt in _pair(db, world, series).points if pt.kind == "baseline").photo
    before = progress.analysis_against(db, baseline, None)
    w, h = baseline.width, baseline.height
    # The left quarter of the photo only.
    polygon = json.dumps([[0, 0], [w / 4, 0], [w / 4, h], [0, h]])
    with pytest.raises(ValidationFailed):
        regions.save_region(db, storage, world.tech, ids[2], polygon=polygon, chart_corners="")  # not the baseline
    rev = regions.save_region(db, storage, world.tech, baseline.id, polygon=polygon, chart_corners="")
    db.commit()
    assert rev.revision == 1
    analyse_all(queue)
    db.expire_all()
    rows = db.scalars(select(Analysis).where(Analysis.roi_revision == 1, Analysis.photo_id.in_(ids))).all()
    assert {r.photo_id for r in rows} == set(ids)  # every photo of the view is measured again
    own = next(r for r in rows if r.photo_id == baseline.id)
    old_area = json.loads(before.result_json)["roi"]["area_px"]
    new_area = json.loads(own.result_json)["roi"]["area_px"]
    assert own.state == "done" and 0 < new_area < 0.5 * old_area
    later = next(r for r in rows if r.photo_id == ids[2])
    assert later.state == "done" and json.loads(later.result_json)["comparison"] is not None
    # The chart now shows the revision's figures.
    data = progress.chart_data(db, world.tech, series.id, *VIEW)
    base_point = next(p for p in data["points"] if p["kind"] == "baseline")
    assert base_point["values"]["red_area_pct"] == round(json.loads(own.result_json)["redness"]["red_area_pct"], 1)


def test_a_photo_retagged_after_the_region_was_drawn_is_measured_in_it(env, loaded):
    # ensure_analysis without an explicit revision takes the view's newest region on its baseline.
    from tracker.services import regions
    from tracker.services.analysis import ensure_analysis

    db, storage, _, _ = env
    world, by_trend = loaded
    series, ids = by_trend["improving"]
    baseline = next(pt for pt in _pair(db, world, series).points if pt.kind == "baseline").photo
    w, h = baseline.width, baseline.height
    polygon = json.dumps([[0, 0], [w / 2, 0], [w / 2, h], [0, h]])
    rev = regions.save_region(db, storage, world.tech, baseline.id, polygon=polygon, chart_corners="")
    db.commit()
    later = db.get(type(baseline), ids[2])
    row, _ = ensure_analysis(db, later, baseline.id)
    assert row.roi_revision == rev.revision
