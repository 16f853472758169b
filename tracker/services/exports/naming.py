"""Labels and file names of exported files (no patient name on marketing images)."""

from __future__ import annotations

import datetime as dt
import re

from tracker.models import Photo, TreatmentSeries, Visit
from tracker.models.vocabulary import TIME_FOLLOW_UP, VISIT_TREATMENT

from .content import ProgressPair


def sessions_before(visit: Visit) -> int:
    """Treatment sessions done before this visit's day (a session's own "before" photo excludes it)."""
    return sum(1 for v in visit.series.visits if v.kind == VISIT_TREATMENT and v.visit_date < visit.visit_date)


def stage_label(photo: Photo) -> str:
    """"Baseline"-free description of when a photo stands in the series: "After 2 sessions"."""
    n = sessions_before(photo.visit)
    if n == 0:
        return "Before treatment"
    return f"After {n} session{'s' if n != 1 else ''}"


def photo_caption(photo: Photo) -> str:
    """"Session 3, before treatment, 10 Jul 2024" or "Follow-up visit, 10 Jul 2025"."""
    if photo.time_point == TIME_FOLLOW_UP:
        return f"Follow-up visit, {photo.visit.visit_date:%d %b %Y}"
    return f"{photo.visit.label}, {photo.time_point_label.lower()}, {photo.visit.visit_date:%d %b %Y}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "photo"


def _visit_slug(visit: Visit) -> str:
    if visit.kind == VISIT_TREATMENT and visit.session_number:
        return f"session{visit.session_number}"
    return "follow-up"


def view_slug(pair: ProgressPair) -> str:
    return _slug(pair.label)


def comparison_filename(pair: ProgressPair, ext: str = "png") -> str:
    """``front_baseline-vs-session3_2026-05-01.png``."""
    assert pair.later is not None
    return f"{view_slug(pair)}_baseline-vs-{_visit_slug(pair.later.visit)}_{pair.later.visit.visit_date:%Y-%m-%d}.{ext}"


def aligned_filename(pair: ProgressPair) -> str:
    """``front_session3_2026-05-01_aligned-to-baseline.png``."""
    assert pair.later is not None
    return (f"{view_slug(pair)}_{_visit_slug(pair.later.visit)}_{pair.later.visit.visit_date:%Y-%m-%d}"
            "_aligned-to-baseline.png")


def report_filename(series: TreatmentSeries, when: dt.date) -> str:
    return f"progress-report_{_slug(series.patient.full_name)}_{_slug(series.treatment_type)}_{when:%Y-%m-%d}.pdf"


def bundle_filename(series: TreatmentSeries, when: dt.date) -> str:
    return f"export-bundle_{_slug(series.patient.full_name)}_{_slug(series.treatment_type)}_{when:%Y-%m-%d}.zip"


def marketing_filename(pair: ProgressPair) -> str:
    """No patient name, no id: ``front_before-after_2026-05-01_marketing.png``."""
    assert pair.later is not None
    return f"{view_slug(pair)}_before-after_{pair.later.visit.visit_date:%Y-%m-%d}_marketing.png"
