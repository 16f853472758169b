"""Series and visits: defaults, session numbering and the timeline shown on the series page."""

from __future__ import annotations

import datetime as dt

import pytest

from tracker.models.vocabulary import VISIT_FOLLOW_UP, VISIT_TREATMENT
from tracker.services import series as series_svc
from tracker.services.errors import ValidationFailed


def test_defaults_are_three_sessions_about_three_months_apart(db, world):
    s = series_svc.create_series(db, world.tech, world.patient.id,
                                 series_svc.SeriesInput(treatment_type="micro_laser_peel", treated_areas=["cheeks"]))
    assert (s.planned_sessions, s.interval_days) == (3, 91)
    assert s.title == "Micro laser peel: cheeks"


def test_sessions_are_numbered_by_date_and_the_timeline_says_what_is_due(db, world):
    # world has sessions on 2024-01-10 and 2024-04-10; add one recorded late but dated between them.
    s = world.series
    late = series_svc.create_visit(db, world.tech, s.id, series_svc.VisitInput(
        kind=VISIT_TREATMENT, visit_date=dt.date(2024, 2, 1)))
    db.commit()
    assert [v.session_number for v in sorted(s.visits, key=lambda v: v.visit_date)] == [1, 2, 3]
    assert late.session_number == 2
    tl = series_svc.timeline(s)
    assert [i.days_since_previous_session for i in tl.visits] == [None, 22, 69]
    assert tl.sessions_done == 3 and tl.next_session_due is None
    assert tl.follow_up_due == dt.date(2024, 4, 10) + dt.timedelta(days=91)


def test_next_session_due_after_the_interval(db, world):
    tl = series_svc.timeline(world.series)
    assert tl.sessions_done == 2
    assert tl.next_session_due == dt.date(2024, 4, 10) + dt.timedelta(days=91)
    series_svc.create_visit(db, world.tech, world.series.id, series_svc.VisitInput(
        kind=VISIT_FOLLOW_UP, visit_date=dt.date(2024, 5, 1)))
    tl = series_svc.timeline(world.series)
    follow = tl.visits[-1]
    assert follow.visit.session_number is None and follow.visit.label == "Follow-up"
    assert follow.days_since_previous_session == (dt.date(2024, 5, 1) - dt.date(2024, 4, 10)).days


def test_visit_records_settings_and_complications(db, world):
    v = series_svc.create_visit(db, world.tech, world.series.id, series_svc.VisitInput(
        kind=VISIT_TREATMENT, visit_date=dt.date(2024, 7, 9), device="Fraxel", fluence_j_cm2=20.0,
        density_pct=15.0, passes=4, spot_size_mm=7.0, anaesthesia="topical",
        complications=["milia", "prolonged_redness"], notes="Mild oedema."))
    assert (v.fluence_j_cm2, v.passes, v.complications) == (20.0, 4, ["milia", "prolonged_redness"])
    with pytest.raises(ValidationFailed, match="complication"):
        series_svc.create_visit(db, world.tech, world.series.id, series_svc.VisitInput(
            kind=VISIT_TREATMENT, visit_date=dt.date(2024, 7, 9), complications=["bruised ego"]))
    with pytest.raises(ValidationFailed, match="density"):
        series_svc.create_visit(db, world.tech, world.series.id, series_svc.VisitInput(
            kind=VISIT_TREATMENT, visit_date=dt.date(2024, 7, 9), density_pct=140.0))



def test_a_new_visit_is_a_session_until_the_planned_sessions_are_done_then_a_follow_up(db, world):
    s = world.series  # two of three planned sessions done
    assert series_svc.default_visit_kind(s) == VISIT_TREATMENT
    series_svc.create_visit(db, world.tech, s.id, series_svc.VisitInput(kind=VISIT_TREATMENT,
                                                                         visit_date=dt.date(2024, 7, 10)))
    db.commit()
    assert series_svc.default_visit_kind(s) == VISIT_FOLLOW_UP
