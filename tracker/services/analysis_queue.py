"""Moved to :mod:`tracker.services.analysis` (``enqueue`` and ``lookup``); this name is kept for callers not yet moved."""

from tracker.services.analysis.enqueue import (  # noqa: F401
    current_analysis_version,
    ensure_analysis,
    photo_ids_in_order,
    reanalyze_photo,
)
from tracker.services.analysis.lookup import (  # noqa: F401
    STATE_LABELS,
    analysis_against,
    latest_analysis,
    latest_finished,
    photo_quality_failed,
    photo_state,
    quality_failed,
    quality_failed_ids,
    quality_refusal,
    result_of,
    series_photo_states,
)
