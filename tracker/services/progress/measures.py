"""The measures a progress page reports: the analysis package's one registry, re-exported.

Labels, units, precision, direction and patient wording all come from
:mod:`tracker.analysis.measures`; nothing here lists measures again.
"""

from __future__ import annotations

from tracker.analysis.measures import (
    CHARTED,
    COMPARED,
    MEASURE_BY_KEY,
    MEASURES,
    MeasureSpec,
)

#: The old name of a registry entry.
Measure = MeasureSpec

__all__ = ["CHARTED", "COMPARED", "MEASURES", "MEASURE_BY_KEY", "Measure", "MeasureSpec"]
