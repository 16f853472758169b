"""Estimate the minimal detectable change (MDC95) of each measure from repeat captures.

A repeat pair is the same simulated skin photographed twice under different,
randomly drawn conditions (light colour, exposure, gradient, pose, noise): any
difference the pipeline reports is measurement error. MDC95 = 2.77 x SEM with
SEM = RMS(differences) / sqrt(2); the RMS (not the SD) keeps a systematic bias
between lights inside the band. Seeds here are disjoint from the seeds the tests
and the tuning used.

The simulator's skin is not real skin: real close-ups (PAD-UFES-20 in ../shared/data/real,
its photos of 1,000 px or more) photographed again by :mod:`tracker.simulate.recapture` (a few
degrees of pose, framing, JPEG quality; white balance and exposure too for the uncalibrated
table) moved spot area about 5 times, line density 2.5-5 times and the spot count 3 times
further than the simulated repeats. Each table therefore holds the wider of the two: the simulated band and the real
one (for a colour measure with a chart, their root sum of squares, as the face tables do:
the real photos hold no chart, so their repeats show pose and compression, the simulated
ones the chart correction's spread between lights).

PAD-UFES also holds 300 px thumbnails: their repeats moved pigment load up to 6 times the
full-size band. A pair whose smaller photo is under 1,000 px gets a band moving towards a
separate, wider table (``small_photos``), estimated the same way on those photos.

Run ``tracker mdc-estimate`` to rewrite ``tracker/analysis/data/mdc.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tracker.analysis.mdc import DIRECTIONS, FULL_SIZE_LONG_SIDE_PX
from tracker.analysis.measures import COLOUR_KEYS, MEASURE_BY_KEY
from tracker.analysis.version import ANALYSIS_VERSION
from tracker.evaluation.repeats import repeat_comparisons

#: Seeds never used by tests or tuning (those use < 1000).
ESTIMATION_SEEDS = range(5000, 5030)
MDC_FILE = Path(__file__).resolve().parents[1] / "analysis" / "data" / "mdc.json"


@dataclass(frozen=True)
class RepeatDifferences:
    calibrated: bool
    pairs: int
    refused: int
    differences: dict[str, list[float]]

    def mdc95(self) -> dict[str, float]:
        out = {}
        for measure, values in self.differences.items():
            arr = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
            rms = float(np.sqrt(np.mean(arr**2))) if arr.size else float("nan")
            out[measure] = 2.77 * rms / math.sqrt(2.0)
        return out


#: A clinic's standard daylight lamp: repeat captures vary within it. Lights further
#: apart are refused by the pipeline as "not comparable", so they have no MDC.
STANDARD_LIGHT_K = (6000.0, 6800.0)


def _conditions(rng: np.random.Generator) -> dict[str, object]:
    return dict(
        cct_k=float(rng.uniform(*STANDARD_LIGHT_K)),
        exposure=float(rng.uniform(0.7, 1.1)),
        gradient=float(rng.uniform(0.0, 0.15)),
        gradient_angle_deg=float(rng.uniform(0.0, 360.0)),
        rotation_deg=float(rng.uniform(-4.0, 4.0)),
        shift_px=(float(rng.uniform(-40, 40)), float(rng.uniform(-40, 40))),
        scale=float(rng.uniform(0.96, 1.04)),
    )


def repeat_differences(
    *, calibrated: bool, seeds: range = ESTIMATION_SEEDS, progress: Callable[[int, int], None] = lambda i, n: None
) -> RepeatDifferences:
    """Photograph each seed's skin twice and collect the reported differences."""
    from tracker.analysis import analyze_photo
    from tracker.simulate import capture, encode_jpeg, make_skin_scene

    diffs: dict[str, list[float]] = {k: [] for k in DIRECTIONS}
    refused = 0
    for i, seed in enumerate(seeds):
        progress(i, len(seeds))
        rng = np.random.default_rng(seed)
        skin_type = int(rng.integers(1, 6))
        scene = make_skin_scene(seed=seed, shape_px=(1200, 1600), skin_type=skin_type)
        shots = []
        for shot in range(2):
            cond = _conditions(rng)
            cap = capture(scene, seed=seed * 10 + shot, chart=calibrated, chart_model="nano", out_shape=(1050, 1400), **cond)
            shots.append(encode_jpeg(cap.srgb, quality=int(rng.integers(88, 96))))
        result = analyze_photo(shots[1], baseline=shots[0]).to_dict()
        if result["comparison"] is None:
            refused += 1
            continue
        # From the figures, not the verdicts: a measure without an MDC yet has no verdict.
        baseline = result["comparison"]["baseline"]
        for measure in DIRECTIONS:
            section = MEASURE_BY_KEY[measure].section
            photo_value = (result.get(section) or {}).get(measure)
            base_value = (baseline.get(section) or {}).get(measure)
            if photo_value is not None and base_value is not None:
                diffs[measure].append(float(photo_value) - float(base_value))
    progress(len(seeds), len(seeds))
    return RepeatDifferences(calibrated, len(seeds), refused, diffs)


#: Real same-area pairs (PAD-UFES-20, photographed minutes apart; ../shared/data/real).
REAL_PAIRS = (
    ("PAT_1286_999_824.png", "PAT_1286_999_846.png"),
    ("PAT_354_1814_619.png", "PAT_354_1814_153.png"),
    ("PAT_100_393_595.png", "PAT_100_393_898.png"),
    ("PAT_194_298_367.png", "PAT_194_298_945.png"),
    ("PAT_320_681_410.png", "PAT_320_681_724.png"),
)
REAL_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "real" / "pad_ufes_20"


def real_pair_report(folder: Path = REAL_DIR) -> list[dict[str, object]]:
    """What the pipeline reports for real repeat photos of one lesion (no chart in them), declared close-ups.

    They were taken minutes apart with different framing and light, so they show how
    often real repeats align and how far uncalibrated figures move; too few to
    estimate an MDC from, they are recorded beside it.
    """
    from tracker.analysis import analyze_photo

    if not folder.is_dir():
        return []
    report = []
    for baseline, photo in REAL_PAIRS:
        result = analyze_photo(folder / photo, baseline=folder / baseline, view="closeup").to_dict()
        entry: dict[str, object] = {"baseline": baseline, "photo": photo, "aligned": bool(result["alignment"]["ok"])}
        if result["comparison"] is not None:
            delta = result["comparison"]["delta"]
            entry.update({k: delta[k]["value"] for k in ("erythema_index_mean", "spot_area_pct", "line_density")})
        else:
            entry["reason"] = result["alignment"]["reason"]
        report.append(entry)
    return report


#: Repeat captures of each real close-up per table; seeds disjoint from tests (< 1000) and the faces (6000).
REAL_REPEATS_PER_PHOTO = 6
REAL_REPEAT_SEED = 7000
#: Only close-ups at least this large (px, long side) stand for a clinic's: PAD-UFES also holds
#: 300 px thumbnails, whose texture and spots, resampled by a few percent, move several times
#: more (line density 2.5x, spot area 2.5x, pigment load 4x) than those of its 1,150-1,730 px photos.
#: Those give the separate band of small photos (``small_photos`` in the file), with their own seeds.
REAL_MIN_LONG_SIDE_PX = FULL_SIZE_LONG_SIDE_PX
REAL_SMALL_REPEAT_SEED = 7100


def real_repeat_differences(
    *, light: bool, small: bool = False, folder: Path = REAL_DIR,
    progress: Callable[[int, int], None] = lambda i, n: None,
) -> RepeatDifferences | None:
    """Two simulated repeat captures of each real close-up, compared: their differences (None without the photos).

    ``light`` varies exposure and white balance as well as pose, framing and JPEG quality.
    ``small`` takes the photos under :data:`REAL_MIN_LONG_SIDE_PX` instead of those at or above it.
    """
    import cv2

    photos = []
    for path in sorted(folder.glob("*.png")) if folder.is_dir() else []:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is not None and (max(bgr.shape[:2]) < REAL_MIN_LONG_SIDE_PX) == small:
            photos.append(np.ascontiguousarray(bgr[:, :, ::-1], dtype=np.float32) / 255.0)
    if not photos:
        return None
    diffs: dict[str, list[float]] = {k: [] for k in DIRECTIONS}
    total, refused = len(photos) * REAL_REPEATS_PER_PHOTO, 0
    seed = (REAL_SMALL_REPEAT_SEED if small else REAL_REPEAT_SEED) + (1 if light else 0)
    for comparison in repeat_comparisons(photos, seed=seed, light=light,
                                         per_original=REAL_REPEATS_PER_PHOTO, view="closeup", progress=progress):
        if comparison is None:
            refused += 1
            continue
        for measure, change in comparison["delta"].items():
            if measure in diffs and change["value"] is not None:
                diffs[measure].append(float(change["value"]))
    return RepeatDifferences(not light, total, refused, diffs)


def _wider(simulated: dict[str, float], real: dict[str, float], *, calibrated: bool) -> dict[str, float]:
    """The band that holds on both: the wider one, or for a colour measure with a chart both spreads together."""
    out = {}
    for key, sim in simulated.items():
        own = real.get(key, float("nan"))
        if not math.isfinite(own):
            out[key] = sim
        elif calibrated and key in COLOUR_KEYS:
            out[key] = math.hypot(sim, own)
        else:
            out[key] = max(sim, own)
    return out


def _summary(rep: RepeatDifferences) -> dict[str, object]:
    """A real-photo estimate as the file keeps it: its pairs, refusals, band and every difference."""
    return {
        "pairs": rep.pairs,
        "refused": rep.refused,
        "mdc": {k: float(f"{v:.4g}") for k, v in rep.mdc95().items()},
        "differences": {k: [float(f"{x:.4g}") for x in v] for k, v in rep.differences.items()},
    }


def estimate_and_write(*, path: Path = MDC_FILE, progress: Callable[[str], None] = print) -> dict[str, object]:
    """Estimate calibrated and uncalibrated MDC95 tables, and the wider ones of small photos, and store them
    with the version."""
    tables: dict[str, dict[str, float]] = {}
    small_tables: dict[str, dict[str, float]] = {}
    meta: dict[str, dict[str, object]] = {}
    for calibrated in (True, False):
        label = "calibrated" if calibrated else "uncalibrated"
        rep = repeat_differences(
            calibrated=calibrated, progress=lambda i, n, label=label: progress(f"{label}: pair {i}/{n}")
        )
        mdc = simulated = rep.mdc95()
        real = real_repeat_differences(
            light=not calibrated, progress=lambda i, n, label=label: progress(f"{label}: real close-up pair {i}/{n}")
        )
        if real is not None:
            mdc = _wider(simulated, real.mdc95(), calibrated=calibrated)
        if not calibrated:
            # Never narrower than with a chart: the uncalibrated band includes the calibrated one.
            mdc = {k: max(v, tables["calibrated"][k]) for k, v in mdc.items()}
        tables[label] = {k: float(f"{v:.4g}") for k, v in mdc.items()}
        # The raw repeat differences, so the table can be checked and re-derived.
        meta[label] = {
            "pairs": rep.pairs,
            "refused": rep.refused,
            "differences": {k: [float(f"{x:.4g}") for x in v] for k, v in rep.differences.items()},
            "simulated_mdc": {k: float(f"{v:.4g}") for k, v in simulated.items()},
        }
        if real is not None:
            meta[label]["real_close_ups"] = _summary(real)
        small = real_repeat_differences(
            light=not calibrated, small=True,
            progress=lambda i, n, label=label: progress(f"{label}: real small photo pair {i}/{n}"),
        )
        if small is not None:
            # Never narrower than the full-size band, nor without a chart than with one.
            band = _wider(tables[label], small.mdc95(), calibrated=calibrated)
            if not calibrated:
                band = {k: max(v, small_tables["calibrated"][k]) for k, v in band.items()}
            small_tables[label] = {k: float(f"{v:.4g}") for k, v in band.items()}
            meta[label]["real_small_photos"] = _summary(small)
    payload = {
        "analysis_version": ANALYSIS_VERSION,
        "method": "MDC95 = 2.77 x RMS(repeat difference) / sqrt(2) over simulated repeat captures "
        "(standard lamp 6000-6800 K, exposure 0.7-1.1, gradient <= 15 %, pose +-4 deg, JPEG q88-95), "
        f"seeds {ESTIMATION_SEEDS.start}-{ESTIMATION_SEEDS.stop - 1}; the wider of that and the band of "
        f"{REAL_REPEATS_PER_PHOTO} repeat captures of each real PAD-UFES close-up of >= {REAL_MIN_LONG_SIDE_PX} px "
        "(pose +-4 deg, zoom 0.95-1.05, "
        "JPEG q85-95; exposure 0.75-1.15 and white balance for the uncalibrated table), "
        f"seeds {REAL_REPEAT_SEED}-{REAL_REPEAT_SEED + 1} (colour measures with a chart: both in quadrature); "
        f"small_photos (a pair holding a photo under {REAL_MIN_LONG_SIDE_PX} px): the wider of each table and the band "
        f"of the same repeat captures of the real close-ups under that size, seeds {REAL_SMALL_REPEAT_SEED}-"
        f"{REAL_SMALL_REPEAT_SEED + 1}",
        "pairs": meta,
        "real_pairs": real_pair_report(),
        **tables,
    }
    if small_tables:
        payload["small_photos"] = small_tables
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return payload
