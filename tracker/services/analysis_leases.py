"""Moved to :mod:`tracker.services.analysis.leases`; this name is kept for callers not yet moved."""

from tracker.services.analysis.leases import (  # noqa: F401
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
