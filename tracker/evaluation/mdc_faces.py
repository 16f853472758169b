"""Minimal detectable change of each measure per anatomical region of a front view.

Estimated from simulated repeat captures of the shared real portraits
(../shared/data/real/interfaces_cc0_faces): each pair is two captures of one
portrait under independently drawn pose, framing, exposure, white balance and
JPEG quality (:mod:`tracker.simulate.recapture`) and no change of the skin, so
any difference is measurement error. MDC95 = 2.77 x RMS(difference) / sqrt(2)
per region and for the face (the union of the regions).

"uncalibrated" pairs change the light as well; "calibrated" pairs keep it (what a
chart's correction would leave). The portraits hold no chart, so both are
measured through the uncalibrated path: the calibrated table is the floor a chart
could reach, not a chart measured.

Run ``tracker mdc-estimate-faces`` to rewrite ``tracker/analysis/data/mdc_face.json``.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from tracker.analysis.face import REGION_KEYS
from tracker.analysis.mdc import DIRECTIONS
from tracker.analysis.version import ANALYSIS_VERSION
from tracker.evaluation.repeats import repeat_comparisons

FACES_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "real" / "interfaces_cc0_faces"
MDC_FACE_FILE = Path(__file__).resolve().parents[1] / "analysis" / "data" / "mdc_face.json"
#: Repeat pairs per portrait and table; seeds disjoint from tests (< 1000) and tuning.
PAIRS_PER_PORTRAIT = 8
SEED = 6000


def _portraits(folder: Path) -> list[np.ndarray]:
    out = []
    for path in sorted(folder.glob("*.jpg")):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is not None:
            out.append(np.ascontiguousarray(bgr[:, :, ::-1], dtype=np.float32) / 255.0)
    return out


def repeat_differences(
    *, light: bool, folder: Path = FACES_DIR, progress: Callable[[int, int], None] = lambda i, n: None
) -> tuple[dict[str, dict[str, list[float]]], int, int]:
    """Differences (photo - baseline) per region ("face" for the union) and measure, pairs, refused."""
    diffs: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    portraits = _portraits(folder)
    total, refused = len(portraits) * PAIRS_PER_PORTRAIT, 0
    for comparison in repeat_comparisons(portraits, seed=SEED + (1 if light else 0), light=light,
                                         per_original=PAIRS_PER_PORTRAIT, view="front", progress=progress):
        if comparison is None:
            refused += 1
            continue
        scopes = {"face": comparison["delta"], **{k: r["delta"] for k, r in comparison["regions"].items()}}
        for scope, delta in scopes.items():
            for measure, change in delta.items():
                if change["value"] is not None:
                    diffs[scope][measure].append(float(change["value"]))
    return diffs, total, refused


def _mdc95(values: list[float]) -> float:
    arr = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
    return 2.77 * float(np.sqrt(np.mean(arr**2))) / math.sqrt(2.0) if arr.size else float("nan")


def estimate_and_write(*, path: Path = MDC_FACE_FILE, progress: Callable[[str], None] = print) -> dict[str, object]:
    """Estimate both tables from the shared portraits and store them with the version."""
    if not FACES_DIR.is_dir():
        raise FileNotFoundError(f"the shared portraits are not at {FACES_DIR}")
    payload: dict[str, object] = {
        "analysis_version": ANALYSIS_VERSION,
        "method": (
            "MDC95 = 2.77 x RMS(repeat difference) / sqrt(2) per region, over simulated repeat captures of the "
            f"{len(_portraits(FACES_DIR))} shared CC0 portraits ({PAIRS_PER_PORTRAIT} pairs each): yaw +-4 deg, "
            "roll +-3 deg, zoom 0.95-1.05, shift +-20 px, JPEG q85-95; uncalibrated adds exposure 0.75-1.15 and "
            "white balance +-5 % G / +-10 % B. No skin changes."
        ),
    }
    pairs: dict[str, object] = {}
    for light, label in ((False, "calibrated"), (True, "uncalibrated")):
        diffs, total, refused = repeat_differences(
            light=light, progress=lambda i, n, label=label: progress(f"{label}: pair {i}/{n}")
        )
        table = {}
        for scope in ("face", *REGION_KEYS):
            table[scope] = {m: float(f"{_mdc95(diffs[scope][m]):.4g}") for m in DIRECTIONS if diffs[scope][m]}
        payload[label] = table
        pairs[label] = {"pairs": total, "refused": refused}
    # Never narrower without a chart than with one.
    cal, uncal = payload["calibrated"], payload["uncalibrated"]
    assert isinstance(cal, dict) and isinstance(uncal, dict)
    for scope, values in uncal.items():
        for m, v in values.items():
            values[m] = max(v, cal.get(scope, {}).get(m, v))
    payload["pairs"] = pairs
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return payload
