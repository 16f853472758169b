"""Peak memory of a worker doing two photos' jobs at once, in a fresh process.

``tracker bench`` runs :func:`worker_peak_mb` for a 12 MP JPEG and a 100 MP
16-bit PNG. The child process starts like ``tracker worker`` (default job
threads: two, nice 10, glibc told to return freed buffers) and does, in each of two threads at once, what the queue does
for an uploaded photo of a series: the display and thumbnail images, then the
analysis against the series baseline given as bytes (decoded and prepared in
the job, as for the first photo of a visit), then the overlays. Prepared
baselines stay alive to the end, as in the worker's baseline cache. The peak
resident memory of the child (``ru_maxrss``) is the whole tree's: decoding and
analysis start no processes of their own.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import threading
from pathlib import Path
from typing import Any

#: Job threads of the worker that ``tracker serve`` starts (``--queue-workers``).
SERVE_JOB_THREADS = 2


def _one_job(photo: bytes, baseline: bytes, content_type: str, keep: list[Any], errors: list[str]) -> None:
    from tracker.analysis import analyze_photo, prepare_baseline
    from tracker.analysis.outputs import overlay_images
    from tracker.services.imaging import make_derivatives

    try:
        make_derivatives(photo, content_type)
        prepared = prepare_baseline(baseline)
        keep.append(prepared)
        overlay_images(analyze_photo(photo, baseline=prepared))
    except Exception as exc:  # noqa: BLE001 - reported to the parent as text
        errors.append(f"{type(exc).__name__}: {exc}")


def _child(photo_path: str, baseline_path: str, content_type: str, jobs: int, answer: Any) -> None:
    import os

    from tracker.analysis.decode import return_freed_memory_to_the_system

    os.nice(10)  # as the worker runs
    return_freed_memory_to_the_system()
    photo, baseline = Path(photo_path).read_bytes(), Path(baseline_path).read_bytes()
    keep: list[Any] = []
    errors: list[str] = []
    threads = [
        threading.Thread(target=_one_job, args=(photo, baseline, content_type, keep, errors)) for _ in range(jobs)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answer.put({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "errors": errors})


def worker_peak_mb(photo: Path, baseline: Path, *, content_type: str, jobs: int = SERVE_JOB_THREADS) -> float:
    """Peak resident memory (MB) of a fresh worker process doing ``jobs`` photos at once.

    Raises
    ------
    RuntimeError
        A job failed or the child died (its message says which).
    """
    ctx = mp.get_context("spawn")
    answer = ctx.Queue()
    child = ctx.Process(target=_child, args=(str(photo), str(baseline), content_type, jobs, answer))
    child.start()
    child.join()
    if child.exitcode != 0 or answer.empty():
        raise RuntimeError(f"the memory probe died (exit code {child.exitcode})")
    result = answer.get()
    if result["errors"]:
        raise RuntimeError("a job of the memory probe failed: " + "; ".join(result["errors"]))
    return float(result["peak_mb"])


def make_huge_png(folder: Path, *, source: Path) -> Path:
    """A 100 MP 16-bit PNG (11544 x 8658) made from a 12 MP photo, small enough to upload (~17 MB)."""
    import cv2
    import numpy as np

    image = cv2.imread(str(source), cv2.IMREAD_COLOR)
    big = cv2.resize(image, (11544, 8658), interpolation=cv2.INTER_NEAREST).astype(np.uint16) * 257
    path = folder / "huge16.png"
    cv2.imwrite(str(path), big, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    return path
