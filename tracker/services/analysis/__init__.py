"""The analysis row's life cycle, in one place.

- ``states``: the states (:class:`tracker.models.vocabulary.AnalysisState`) and the
  transitions, the only code that changes a row's state;
- ``enqueue``: creating rows for what must be measured, and handing them to the queue;
- ``leases``: which worker holds a row (atomic claims, renewed leases, the sweep);
- ``run``: measuring one row's photo and storing the outcome (the ``analyze_photo`` job);
- ``lookup``: reading rows (latest, finished, quality verdict, live state);
- ``overlays``: where overlay images are stored, and the one parser of their stored keys.
"""

from tracker.models.vocabulary import AnalysisState

from . import states
from .enqueue import current_analysis_version, ensure_analysis, photo_ids_in_order, reanalyze_photo
from .leases import (
    Claim,
    Heartbeat,
    LeaseLost,
    LeasePolicy,
    SweepReport,
    claim_analysis,
    give_up,
    renew,
    sweep,
    waiting_ids,
)
from .lookup import (
    STATE_LABELS,
    analyses_against,
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
from .overlays import (
    image_extension,
    overlay_hashes,
    overlay_key,
    overlay_keys,
    parse_overlay_json,
    stored_overlay_keys,
)
from .run import run_analysis

__all__ = [
    "STATE_LABELS",
    "AnalysisState",
    "analyses_against",
    "Claim",
    "Heartbeat",
    "LeaseLost",
    "LeasePolicy",
    "SweepReport",
    "analysis_against",
    "claim_analysis",
    "current_analysis_version",
    "ensure_analysis",
    "give_up",
    "latest_analysis",
    "latest_finished",
    "image_extension",
    "overlay_hashes",
    "overlay_key",
    "overlay_keys",
    "parse_overlay_json",
    "photo_ids_in_order",
    "photo_quality_failed",
    "photo_state",
    "quality_failed",
    "quality_failed_ids",
    "quality_refusal",
    "reanalyze_photo",
    "renew",
    "result_of",
    "run_analysis",
    "series_photo_states",
    "states",
    "stored_overlay_keys",
    "sweep",
    "waiting_ids",
]
