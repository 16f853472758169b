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

#: Photos of at least this long side (full resolution, px) get the full-size band: the real
#: close-ups it was estimated on are 1,150-1,730 px, the simulated ones 1,400 px.
FULL_SIZE_LONG_SIDE_PX = 1000
#: Photos this small or smaller (thumbnails, copies sent through messaging apps) get the band
#: estimated on real 300 px close-ups: their spots and texture, resampled by a few percent
#: between repeat photos, moved several times more (pigment load up to 6x the full-size band).
SMALL_PHOTO_LONG_SIDE_PX = 300


def small_photo_weight(long_side_px: int | None) -> float:
    """How far a photo's band moves from the full-size one (0) to the small-photo one (1).

    In between the two sizes the band is interpolated on the log of the size: no real photos
    lie between them, and a step would make a 990 px photo as noisy as a 300 px one.

    >>> small_photo_weight(4000), small_photo_weight(300), round(small_photo_weight(548), 2)
    (0.0, 1.0, 0.5)
    """
    if long_side_px is None or long_side_px >= FULL_SIZE_LONG_SIDE_PX:
        return 0.0
    span = math.log(FULL_SIZE_LONG_SIDE_PX / SMALL_PHOTO_LONG_SIDE_PX)
    return min(1.0, math.log(FULL_SIZE_LONG_SIDE_PX / max(long_side_px, 1)) / span)


def is_small_photo(width: int, height: int) -> bool:
    """True when a photo of ``width`` x ``height`` px is nearer the small-photo band than the full-size one
    (the comparison then says so in a note).

    >>> is_small_photo(300, 300), is_small_photo(979, 979), is_small_photo(4000, 3000)
    (True, False, False)
    """
    return small_photo_weight(max(width, height)) >= 0.5


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    text = resources.files("tracker.analysis").joinpath("data/mdc.json").read_text(encoding="utf-8")
    return json.loads(text)


def mdc_table(*, calibrated: bool, long_side_px: int | None = None) -> dict[str, float]:
    """MDC95 for every compared measure, in the measure's own unit.

    ``long_side_px``: the smaller long side of the pair's two photos (full resolution). Under
    :data:`FULL_SIZE_LONG_SIDE_PX` each band moves towards the one estimated on small photos
    (:func:`small_photo_weight`); None or a full-size photo: the full-size band.

    >>> mdc_table(calibrated=False)["erythema_index_mean"] > mdc_table(calibrated=True)["erythema_index_mean"]
    True
    >>> mdc_table(calibrated=False, long_side_px=300)["pigment_load"] > mdc_table(calibrated=False)["pigment_load"]
    True
    """
    table = _table()
    label = "calibrated" if calibrated else "uncalibrated"
    cal = {k: float(v) for k, v in table["calibrated"].items()}
    if calibrated:
        out = cal
    else:
        uncal = table.get("uncalibrated") or {}
        out = {k: float(uncal.get(k, v * UNCALIBRATED_FACTOR)) for k, v in cal.items()}
    weight = small_photo_weight(long_side_px)
    small = (table.get("small_photos") or {}).get(label) or {}
    if weight > 0.0 and small:
        out = {k: v + weight * max(0.0, float(small.get(k, v)) - v) for k, v in out.items()}
    return out


@lru_cache(maxsize=1)
def _face_table() -> dict[str, Any] | None:
    path = resources.files("tracker.analysis").joinpath("data/mdc_face.json")
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def region_mdc_table(region: str, *, calibrated: bool, long_side_px: int | None = None) -> dict[str, float]:
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
    ``long_side_px`` (as for :func:`mdc_table`): a smaller photo's band widens by the factor the
    close-up band widens for its size.

    >>> set(region_mdc_table("cheek_left", calibrated=True)) == set(mdc_table(calibrated=True))
    True
    >>> closeup = mdc_table(calibrated=True)["melanin_density"]
    >>> region_mdc_table("face", calibrated=True)["melanin_density"] >= closeup
    True
    """
    fallback = mdc_table(calibrated=calibrated)
    sized = mdc_table(calibrated=calibrated, long_side_px=long_side_px)
    table = _face_table()
    if table is None:
        return sized
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
    return {k: v * sized[k] / fallback[k] if fallback[k] > 0 else v for k, v in out.items()}


def mdc_provenance() -> dict[str, Any]:
    """Where the stored MDC figures came from: version, data, number of pairs (each result carries
    it; the raw repeat differences stay in ``data/mdc.json``)."""
    tables = ("calibrated", "uncalibrated", "small_photos")
    return {k: _without_differences(v) for k, v in _table().items() if k not in tables}


def _without_differences(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_differences(v) for k, v in value.items() if k != "differences"}
    return value
