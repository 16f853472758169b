"""Pure image science: decode, quality, alignment, colour calibration and skin measures.

Imports numpy, OpenCV and scikit-image only; never Flask, SQLAlchemy or storage.
The entry points are :func:`analyze_photo` and :func:`prepare_baseline`
(``pipeline.py``); they load lazily so that importing a small helper module does
not pull in the whole pipeline.
"""

from __future__ import annotations

from typing import Any

from tracker.analysis.version import ANALYSIS_VERSION

_PIPELINE_NAMES = frozenset(
    {"analyze_photo", "prepare_baseline", "Analysis", "AnalysisInputError", "PreparedBaseline", "Artifacts"}
)

__all__ = ["ANALYSIS_VERSION", *sorted(_PIPELINE_NAMES)]


def __getattr__(name: str) -> Any:
    if name in _PIPELINE_NAMES:
        from tracker.analysis import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'tracker.analysis' has no attribute {name!r}")
