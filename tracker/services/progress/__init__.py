"""Progress of a series: which photos are compared, chart series, flags, summaries, outcomes.

- The **progress pair** of a view is its baseline and a later "before treatment" or
  "follow-up" photo (default: the latest). "After k sessions" is the photo taken
  before session k+1, or the follow-up after the last session.
- A **healing pair** is a session's "before" photo and its "N days after" photo:
  healing, never progress.
- Photos inside the clinic's **healing window** of the treatment type never count
  as progress; redness measured within 90 days of a session may include residual
  pinkness.

Every figure comes from a stored analysis (``analyses.result_json``); nothing here
measures images.

Modules: ``measures`` (what is measured), ``settings`` (clinic healing windows, overlay
visibility), ``timeline`` (photos classified on the series timeline, pairs, retakes),
``verdicts`` (changes, flags, plain-language summaries), ``charts`` (chart numbers and CSV),
``page`` (what a progress page and a photo page show), ``outcomes`` (across patients).
"""

from ..analysis import analysis_against
from .charts import (
    CSV_COLUMNS,
    chart_csv,
    chart_data,
)
from .measures import (
    CHARTED,
    MEASURE_BY_KEY,
    MEASURES,
    Measure,
)
from .outcomes import (
    OutcomeRow,
    outcomes,
)
from .page import (
    PhotoMeasures,
    ViewProgress,
    overlay_key_for,
    photo_measures,
    photo_of_analysis,
    series_progress,
    visible_ids,
)
from .settings import (
    DEFAULT_HEALING_DAYS,
    healing_windows,
    overlays_hidden_from_patients,
    save_progress_settings,
    set_healing_window,
    set_overlays_hidden,
)
from .timeline import (
    HEALING_LABEL,
    RESIDUAL_PINK_DAYS,
    RESIDUAL_PINK_NOTE,
    Pair,
    Point,
    any_pair,
    healing_pairs,
    hide_superseded,
    overlay_keys,
    photo_date,
    progress_pair,
    record_retake,
    retake_needed,
    superseded_ids,
    treatment_sessions,
    view_points,
    views_of,
)
from .areas import area_summary
from .verdicts import (
    PIGMENT_RISING,
    REDNESS_RISING,
    Change,
    Flag,
    changes,
    comparison_notes,
    flags,
    plain_summary,
    region_changes,
)

__all__ = [
    "analysis_against",
    "CHARTED",
    "CSV_COLUMNS",
    "Change",
    "DEFAULT_HEALING_DAYS",
    "Flag",
    "HEALING_LABEL",
    "MEASURES",
    "MEASURE_BY_KEY",
    "Measure",
    "OutcomeRow",
    "PIGMENT_RISING",
    "Pair",
    "PhotoMeasures",
    "Point",
    "REDNESS_RISING",
    "RESIDUAL_PINK_DAYS",
    "RESIDUAL_PINK_NOTE",
    "ViewProgress",
    "treatment_sessions",
    "any_pair",
    "area_summary",
    "changes",
    "chart_csv",
    "chart_data",
    "comparison_notes",
    "flags",
    "healing_pairs",
    "healing_windows",
    "hide_superseded",
    "outcomes",
    "overlay_key_for",
    "overlay_keys",
    "overlays_hidden_from_patients",
    "photo_date",
    "photo_measures",
    "photo_of_analysis",
    "plain_summary",
    "region_changes",
    "progress_pair",
    "save_progress_settings",
    "record_retake",
    "retake_needed",
    "series_progress",
    "set_healing_window",
    "set_overlays_hidden",
    "superseded_ids",
    "view_points",
    "views_of",
    "visible_ids",
]
