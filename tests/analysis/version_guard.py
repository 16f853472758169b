"""The figures the analysis gives on a few fixed simulated pairs, and the file they are kept in.

A figure may change only together with ``ANALYSIS_VERSION``: stored results carry the
version they were measured with, and a chart never mixes two versions. The figures of
each version are kept in ``tests/analysis/golden/<version>.<instruction set>.json``;
``python -m tests.analysis.update_golden`` records them for the current version.

One file per instruction set, because OpenCV and numpy pick their kernels by the CPU: on
an AVX2 machine the same code and packages as on an AVX-512 one moved chart fits in the
5th digit and SIFT's inlier counts by 1-2 % (session 8). On a machine whose instruction set
has a file, figures must match to 6 digits; on another, they must match within
:data:`HARDWARE_REL_TOL` of a recorded set (a real change of the analysis still shows).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracker.analysis import ANALYSIS_VERSION, analyze_photo
from tracker.analysis.mdc import mdc_table
from tracker.evaluation.benchmark import widest_instruction_set
from tracker.simulate import capture, encode_jpeg, make_skin_scene

GOLDEN_DIR = Path(__file__).parent / "golden"
#: Small frames: the guard is about "did a figure move", not about accuracy, and runs on every test run.
SCENE_SHAPE = (480, 640)
OUT_SHAPE = (450, 600)
#: Stored figures keep 6 significant digits: a last-digit rounding flip is not a change.
REL_TOL = 2e-5
ABS_TOL = 1e-7
#: Across instruction sets: what differing float kernels moved on the guard's pairs (up to 1.4 %
#: on an inlier count, 0.2 % on a red area's change, 3e-4 MI on a melanin change), with room.
HARDWARE_REL_TOL = 0.02
HARDWARE_ABS_TOL = 1e-3
#: Keys whose values are the machine's, not the analysis' (run times).
VOLATILE = ("timings_s",)
UPDATE = "python -m tests.analysis.update_golden"


def instruction_set() -> str:
    """This CPU's widest dispatched instruction set as a file-name part, e.g. ``avx2`` or ``avx512_skx``."""
    return widest_instruction_set().lower().replace("-", "_").replace(".", "_")


def golden_path(version: str = ANALYSIS_VERSION) -> Path:
    return GOLDEN_DIR / f"{version}.{instruction_set()}.json"


def recorded_sets(version: str = ANALYSIS_VERSION) -> list[Path]:
    """Every instruction set's figures of ``version`` (older versions kept one plain ``<version>.json``)."""
    return sorted(GOLDEN_DIR.glob(f"{version}.*json"))


def _pair(seed: int, *, chart: bool, **later: float) -> tuple[bytes, bytes]:
    scene = make_skin_scene(seed=seed, shape_px=SCENE_SHAPE, mm_per_px=0.1)
    base = capture(scene, seed=1, chart=chart, chart_model="nano", out_shape=OUT_SHAPE)
    photo = capture(scene, seed=2, chart=chart, chart_model="nano", out_shape=OUT_SHAPE, **later)
    return encode_jpeg(base.srgb, quality=92), encode_jpeg(photo.srgb, quality=92)


def _without_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_volatile(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_without_volatile(v) for v in value]
    return value


def figures() -> dict[str, Any]:
    """Every figure of the fixed cases: full results (JSON form) and the MDC tables."""
    out: dict[str, Any] = {
        "mdc_calibrated": mdc_table(calibrated=True),
        "mdc_uncalibrated": mdc_table(calibrated=False),
    }
    base, photo = _pair(7, chart=True, cct_k=6000.0, exposure=0.85, rotation_deg=2.0, shift_px=(6.0, -4.0))
    out["with_chart_baseline"] = analyze_photo(base).to_dict()
    out["with_chart_pair"] = analyze_photo(photo, baseline=base).to_dict()
    base, photo = _pair(11, chart=False, exposure=1.1)
    out["without_chart_pair"] = analyze_photo(photo, baseline=base).to_dict()
    # Through JSON, as results are stored: tuples become lists, NaN stays NaN.
    return _without_volatile(json.loads(json.dumps(out)))


def figures_in_a_fresh_process() -> dict[str, Any]:
    """:func:`figures` measured by a new Python process, as ``update_golden`` records them.

    RANSAC in the alignment draws from OpenCV's per-thread random generator, whose state
    depends on everything the process did before: inside a long test run the same pair
    can align with a few inliers more or less.
    """
    root = Path(__file__).resolve().parents[2]
    code = "import json; from tests.analysis.version_guard import figures; print(json.dumps(figures()))"
    run = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(root)})
    if run.returncode != 0:
        raise RuntimeError(f"measuring the version guard's pairs failed:\n{run.stderr[-4000:]}")
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def differences(
    expected: Any, actual: Any, path: str = "", *, rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL
) -> Iterator[str]:
    """Where two figure trees differ beyond the float tolerance, one line per difference."""
    tol = {"rel_tol": rel_tol, "abs_tol": abs_tol}
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                yield f"{path}/{key}: gone (was {expected[key]!r})"
            elif key not in expected:
                yield f"{path}/{key}: new ({actual[key]!r})"
            else:
                yield from differences(expected[key], actual[key], f"{path}/{key}", **tol)
    elif isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for i, (e, a) in enumerate(zip(expected, actual)):
            yield from differences(e, a, f"{path}[{i}]", **tol)
    elif isinstance(expected, float | int) and isinstance(actual, float | int) \
            and not isinstance(expected, bool) and not isinstance(actual, bool):
        both_nan = isinstance(expected, float) and isinstance(actual, float) and math.isnan(expected) \
            and math.isnan(actual)
        if not both_nan and not math.isclose(expected, actual, rel_tol=rel_tol, abs_tol=abs_tol):
            yield f"{path}: {expected!r} -> {actual!r}"
    elif expected != actual:
        yield f"{path}: {expected!r} -> {actual!r}"


def hardware_differences(actual: dict[str, Any], version: str = ANALYSIS_VERSION) -> list[str]:
    """How ``actual`` differs from the nearest recorded set of ``version`` within the hardware tolerance
    (an empty list: it matches one of them); every figure, when the version has no recorded set."""
    best: list[str] | None = None
    for path in recorded_sets(version):
        changed = list(differences(json.loads(path.read_text(encoding="utf-8")), actual,
                                   rel_tol=HARDWARE_REL_TOL, abs_tol=HARDWARE_ABS_TOL))
        if best is None or len(changed) < len(best):
            best = [f"(against {path.name}) {line}" for line in changed]
    return best if best is not None else [f"no figures recorded for {version}"]


def write_golden(data: dict[str, Any], version: str = ANALYSIS_VERSION) -> Path:
    path = golden_path(version)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_golden(version: str = ANALYSIS_VERSION) -> dict[str, Any] | None:
    """This instruction set's recorded figures of ``version``, if any."""
    path = golden_path(version)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
