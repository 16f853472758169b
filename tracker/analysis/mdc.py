"""Minimal detectable change (MDC95) of each measure, and which way is better.

The MDC values are estimated from repeat captures (``tracker/evaluation/mdc.py``,
run by ``tracker mdc-estimate``) and stored in ``data/mdc.json`` together with the
analysis version they were estimated for: a change smaller than the MDC is "no
measurable change". MDC95 = 2.77 x SEM, SEM = SD(differences of repeat pairs) / sqrt(2).
Without colour calibration the figures are wider (``UNCALIBRATED_FACTOR`` or a
separately estimated table).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from typing import Any

from tracker.analysis.measures import COLOUR_KEYS, EXPOSURE_KEYS, Direction, directions

#: Which way each compared measure should move when treatment works (from the registry).
DIRECTIONS: dict[str, Direction] = directions()

#: Measures that move with exposure and white balance, so that without a colour
#: reference their change is not interpretable and raises no flag (from the registry).
EXPOSURE_DEPENDENT: frozenset[str] = EXPOSURE_KEYS

#: Used when no separate uncalibrated table was estimated.
UNCALIBRATED_FACTOR = 3.0


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    text = resources.files("tracker.analysis").joinpath("data/mdc.json").read_text(encoding="utf-8")
    return json.loads(text)


def mdc_table(*, calibrated: bool) -> dict[str, float]:
    """MDC95 for every compared measure, in the measure's own unit.

    >>> mdc_table(calibrated=False)["erythema_index_mean"] > mdc_table(calibrated=True)["erythema_index_mean"]
    True
    """
    table = _table()
    cal = {k: float(v) for k, v in table["calibrated"].items()}
    if calibrated:
        return cal
    uncal = table.get("uncalibrated") or {}
    return {k: float(uncal.get(k, v * UNCALIBRATED_FACTOR)) for k, v in cal.items()}


@lru_cache(maxsize=1)
def _face_table() -> dict[str, Any] | None:
    path = resources.files("tracker.analysis").joinpath("data/mdc_face.json")
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def region_mdc_table(region: str, *, calibrated: bool) -> dict[str, float]:
    """MDC95 of every compared measure over one anatomical region of a front view (or ``face``, their union).

    Estimated from simulated repeat captures of real portraits (``tracker
    mdc-estimate-faces``). A measure or region missing from that table falls back to
    the close-up figure, and so does an estimate of zero (no variation seen in the
    repeats, e.g. no spot in a region): a band of zero would call any single new spot
    a change.

    With a chart, the portraits' repeats vary only in pose and JPEG (they hold no
    chart), so a colour measure's band would leave out what the chart correction
    itself leaves between sessions: the close-up table's light and exposure spread.
    The two are independent, so a colour measure's band is their root sum of squares.

    >>> set(region_mdc_table("cheek_left", calibrated=True)) == set(mdc_table(calibrated=True))
    True
    >>> closeup = mdc_table(calibrated=True)["melanin_density"]
    >>> region_mdc_table("face", calibrated=True)["melanin_density"] >= closeup
    True
    """
    fallback = mdc_table(calibrated=calibrated)
    table = _face_table()
    if table is None:
        return fallback
    regions = table.get("calibrated" if calibrated else "uncalibrated") or {}
    own = regions.get(region) or {}
    out = {}
    for key, closeup in fallback.items():
        mdc = float(own.get(key) or 0.0)
        if mdc <= 0.0:
            out[key] = closeup
        elif calibrated and key in COLOUR_KEYS:
            out[key] = math.hypot(mdc, closeup)
        else:
            out[key] = mdc
    return out


def mdc_provenance() -> dict[str, Any]:
    """Where the stored MDC figures came from: version, data, number of pairs (each result carries
    it; the raw repeat differences stay in ``data/mdc.json``)."""
    return {k: _without_differences(v) for k, v in _table().items() if k not in ("calibrated", "uncalibrated")}


def _without_differences(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_differences(v) for k, v in value.items() if k != "differences"}
    return value
