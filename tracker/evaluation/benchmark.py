"""``tracker bench``: speed and memory of the analysis on a 12-megapixel JPEG pair.

Figures are medians of several runs in one process, reported as ratios to a plain
``cv2.imdecode`` of the same file measured in the same run (before the process takes
the worker's heap settings, under which the analysis is then timed, as a worker runs
it), because absolute times on a shared machine drift while ratios hold (the
machine's load is printed with them). The test images are made in a child process so that the peak memory
reported is the analysis's own. Nothing is cached across runs: every cold run
decodes, calibrates and indexes its baseline again.

``--view front`` times a front-view (face) pair: the analysis finds both faces'
landmarks and regions, aligns them by their landmarks and refines the warp densely
(stage ``faces_s`` is the finding, ``align_s`` the alignment). The worker's memory (:mod:`tracker.evaluation.memory_probe`)
is measured for a 12 MP JPEG and a 100 MP 16-bit PNG, two photos at once.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

#: A 12 MP close-up at 0.025 mm per pixel (40 px/mm), landscape.
BENCH_SHAPE = (3000, 4000)
BENCH_MM_PER_PX = 0.025


def _make_pair(folder: str, view: str = "closeup") -> None:
    """Simulate a baseline and a later photo (light and pose changed, chart in frame)."""
    from tracker.simulate import capture, encode_jpeg, make_skin_scene

    if view == "front":
        from tracker.simulate.front import make_front_scene

        before = make_front_scene(seed=3, size_px=4096)
        after = make_front_scene(seed=3, size_px=4096, redness=0.35)
    else:
        scene_shape = (int(BENCH_SHAPE[0] * 1.15), int(BENCH_SHAPE[1] * 1.15))
        before = make_skin_scene(seed=101, shape_px=scene_shape, mm_per_px=BENCH_MM_PER_PX)
        after = make_skin_scene(seed=101, shape_px=scene_shape, mm_per_px=BENCH_MM_PER_PX, redness=0.2)
    base = capture(before, seed=1, chart=True, out_shape=BENCH_SHAPE)
    photo = capture(after, seed=2, chart=True, out_shape=BENCH_SHAPE, cct_k=4000.0, exposure=0.85,
                    rotation_deg=3.0, shift_px=(40.0, -25.0))
    Path(folder, "baseline.jpg").write_bytes(encode_jpeg(base.srgb, quality=92))
    Path(folder, "photo.jpg").write_bytes(encode_jpeg(photo.srgb, quality=92))


def widest_instruction_set() -> str:
    """The widest instruction set OpenCV dispatches to on this CPU, e.g. ``AVX2`` or ``AVX512-SKX``.

    ``cv2.getCPUFeaturesLine()`` marks the dispatched sets with ``*`` and those this CPU lacks
    with ``?``; numpy's wide kernels follow the same CPU features.
    """
    available = [t.strip("*") for t in cv2.getCPUFeaturesLine().split() if t.startswith("*") and not t.endswith("?")]
    return available[-1] if available else "baseline"


def machine() -> str:
    """The CPU the figures were measured on, e.g. "AMD EPYC, 2 CPUs, AVX2": ratios to the decode
    depend on it (the same code read 13.9-17.2x cold on the machine of sessions 5-7, 19x on an AMD
    EPYC without AVX-512 in session 8)."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs, {widest_instruction_set()}"


def _median_time(fn: Callable[[], object], repeats: int, cpu: list[float] | None = None) -> float:
    """Median wall seconds of ``fn``; its median CPU seconds (all threads) appended to ``cpu``."""
    times, cpu_times = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    if cpu is not None:
        cpu.append(statistics.median(cpu_times))
    return statistics.median(times)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def _make_huge(folder: str, source: str) -> None:
    from tracker.evaluation.memory_probe import make_huge_png

    make_huge_png(Path(folder), source=Path(source))


def _in_child(target: Callable[..., None], *args: str) -> None:
    """Run ``target`` in a fresh process, so its memory is not counted as the analysis's."""
    child = mp.get_context("spawn").Process(target=target, args=args)
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"making the benchmark images failed ({target.__name__}, exit code {child.exitcode})")


@dataclass(frozen=True)
class BenchReport:
    megapixels: float
    decode_s: float
    #: The same decode under the worker's heap settings (the analysis is timed under them).
    decode_worker_s: float
    cold_s: float
    cached_s: float
    overlays_s: float
    peak_rss_mb: float
    rss_before_mb: float
    working_scale: float
    px_per_mm: float | None
    stage_times_s: dict[str, float]
    view: str = "closeup"
    worker_peak_mb: dict[str, float] | None = None
    load: tuple[float, float] = (0.0, 0.0)
    #: CPU seconds (all threads) of decode, cold, cached and overlays: on a shared machine
    #: their ratios move less with the load than wall-clock ratios do.
    cpu_s: tuple[float, ...] = ()
    machine: str = ""

    def as_text(self) -> str:
        ratio = lambda t: t / self.decode_s  # noqa: E731 - a one-line local helper reads best here
        lines = [
            f"12 MP {self.view} pair: photo {self.megapixels:.1f} MP, working scale {self.working_scale:g}"
            + (f" ({self.px_per_mm:.1f} px/mm)" if self.px_per_mm else "")
            + f"; machine load {self.load[0]:.1f} before, {self.load[1]:.1f} after ({self.machine}, shared)",
            f"cv2.imdecode (plain)          {self.decode_s * 1000:8.0f} ms   1.0x",
            f"  (the same under the worker's heap settings {self.decode_worker_s * 1000:.0f} ms:"
            f" {self.decode_worker_s / self.decode_s:.2f}x)",
            f"analyze_photo, baseline cold  {self.cold_s * 1000:8.0f} ms  {ratio(self.cold_s):4.1f}x",
            f"analyze_photo, baseline cached{self.cached_s * 1000:8.0f} ms  {ratio(self.cached_s):4.1f}x",
            f"overlays (4 JPEGs)            {self.overlays_s * 1000:8.0f} ms  {ratio(self.overlays_s):4.1f}x",
        ]
        if len(self.cpu_s) == 4:
            d, c, k, o = self.cpu_s
            lines.append(f"CPU time (all threads): decode {d * 1000:.0f} ms; cold {c / d:.1f}x, cached {k / d:.1f}x,"
                         f" overlays {o / d:.1f}x of the decode's")
        lines.append(f"peak memory (RSS), this process{self.peak_rss_mb:7.0f} MB  (before analysis: {self.rss_before_mb:.0f} MB)")
        for name, mb in (self.worker_peak_mb or {}).items():
            lines.append(f"worker peak, two at once: {name:18s} {mb:6.0f} MB  (aim <= 1500 MB)")
        lines.append("stages of the last cold run:  "
                     + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in self.stage_times_s.items()))
        maps_cpu = self.stage_times_s.get("chromophores_cpu_s")
        if maps_cpu is not None:
            # Issue 12's budget: the maps' own work per photo against the plain decode (their wall
            # time, chromophores_s, also holds the waits while other threads share the cores).
            per_photo = maps_cpu / 2.0  # a cold run prepares both photos
            lines.append(f"chromophore maps: {per_photo * 1000:.0f} ms CPU a photo on their thread, "
                         f"{per_photo / self.decode_s:.2f}x the plain decode (aim <= 1x)")
        return "\n".join(lines)


def run_benchmark(
    *,
    repeats: int = 5,
    photo: Path | None = None,
    baseline: Path | None = None,
    view: str = "closeup",
    memory: bool = True,
    progress: Callable[[str], None] = lambda message: None,
) -> BenchReport:
    from tracker.analysis import analyze_photo, prepare_baseline
    from tracker.analysis.decode import return_freed_memory_to_the_system
    from tracker.analysis.outputs import overlay_images

    if view not in ("closeup", "front"):
        raise ValueError(f"view must be 'closeup' or 'front', got {view!r}")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
        if photo is None:
            progress(f"simulating a 12 MP {view} baseline and photo (once)...")
            _in_child(_make_pair, tmp, view)
            photo, baseline = Path(tmp, "photo.jpg"), Path(tmp, "baseline.jpg")
        if baseline is None:
            raise ValueError("baseline: --photo needs --baseline")
        photo_bytes, base_bytes = photo.read_bytes(), baseline.read_bytes()
        worker_peaks = None
        if memory:
            worker_peaks = _worker_memory(photo, baseline, Path(tmp), progress)
        rss_before = _peak_rss_mb()

        progress("timing cv2.imdecode...")
        buf = np.frombuffer(photo_bytes, dtype=np.uint8)
        decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        megapixels = decoded.shape[0] * decoded.shape[1] / 1e6
        del decoded
        cpu: list[float] = []
        # The reference: a plain decode in a plain process. Then the analysis is timed under the
        # worker's heap settings, as it runs there; they make the decode itself about twice as
        # fast (its 36 MB buffer is reused instead of mapped afresh), shown beside it.
        decode_s = _median_time(lambda: cv2.imdecode(buf, cv2.IMREAD_COLOR), repeats, cpu)
        return_freed_memory_to_the_system()
        decode_worker_s = _median_time(lambda: cv2.imdecode(buf, cv2.IMREAD_COLOR), repeats)

        progress("timing analyze_photo with a cold baseline...")
        analyze_photo(photo_bytes, baseline=base_bytes, view=view)  # warm-up: imports, caches
        cold_s = _median_time(lambda: analyze_photo(photo_bytes, baseline=base_bytes, view=view), repeats, cpu)
        last = analyze_photo(photo_bytes, baseline=base_bytes, view=view)

        progress("timing analyze_photo with a cached baseline...")
        prepared = prepare_baseline(base_bytes, view=view)
        cached_s = _median_time(lambda: analyze_photo(photo_bytes, baseline=prepared, view=view), repeats, cpu)

        progress("timing overlays...")
        overlays_s = _median_time(lambda: overlay_images(last), repeats, cpu)

        result = last.result
        return BenchReport(
            megapixels=megapixels,
            decode_s=decode_s,
            decode_worker_s=decode_worker_s,
            cold_s=cold_s,
            cached_s=cached_s,
            overlays_s=overlays_s,
            peak_rss_mb=_peak_rss_mb(),
            rss_before_mb=rss_before,
            working_scale=result.working_scale,
            px_per_mm=result.px_per_mm,
            stage_times_s={k: v for k, v in result.timings_s.items() if k != "total_s"},
            view=view,
            worker_peak_mb=worker_peaks,
            load=(load_before, os.getloadavg()[0]),
            cpu_s=tuple(cpu),
            machine=machine(),
        )


def _worker_memory(photo: Path, baseline: Path, folder: Path, progress: Callable[[str], None]) -> dict[str, float]:
    """Peak memory of a fresh worker doing two photos at once: 12 MP JPEGs, then a 100 MP 16-bit PNG."""
    from tracker.evaluation.memory_probe import worker_peak_mb

    progress("worker memory, two 12 MP JPEG jobs at once...")
    peaks = {"12 MP JPEG": worker_peak_mb(photo, baseline, content_type="image/jpeg")}
    progress("worker memory, two 100 MP 16-bit PNG jobs at once (slow)...")
    _in_child(_make_huge, str(folder), str(photo))
    huge = folder / "huge16.png"
    peaks["100 MP 16-bit PNG"] = worker_peak_mb(huge, huge, content_type="image/png")
    return peaks
