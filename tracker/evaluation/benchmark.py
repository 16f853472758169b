"""``tracker bench``: speed and memory of the analysis on a 12-megapixel JPEG pair.

Figures are medians of several runs in one process, reported as ratios to a plain
``cv2.imdecode`` of the same file measured in the same run, because absolute
times on a shared machine drift while ratios hold. The test images are made in a
child process so that the peak memory reported is the analysis's own.
"""

from __future__ import annotations

import multiprocessing as mp
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


def _make_pair(folder: str) -> None:
    """Simulate a baseline and a later photo (light and pose changed, chart in frame)."""
    from tracker.simulate import capture, encode_jpeg, make_skin_scene

    scene_shape = (int(BENCH_SHAPE[0] * 1.15), int(BENCH_SHAPE[1] * 1.15))
    before = make_skin_scene(seed=101, shape_px=scene_shape, mm_per_px=BENCH_MM_PER_PX)
    after = make_skin_scene(seed=101, shape_px=scene_shape, mm_per_px=BENCH_MM_PER_PX, redness=0.2)
    base = capture(before, seed=1, chart=True, out_shape=BENCH_SHAPE)
    photo = capture(after, seed=2, chart=True, out_shape=BENCH_SHAPE, cct_k=4000.0, exposure=0.85,
                    rotation_deg=3.0, shift_px=(40.0, -25.0))
    Path(folder, "baseline.jpg").write_bytes(encode_jpeg(base.srgb, quality=92))
    Path(folder, "photo.jpg").write_bytes(encode_jpeg(photo.srgb, quality=92))


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


@dataclass(frozen=True)
class BenchReport:
    megapixels: float
    decode_s: float
    cold_s: float
    cached_s: float
    overlays_s: float
    peak_rss_mb: float
    rss_before_mb: float
    working_scale: float
    px_per_mm: float | None
    stage_times_s: dict[str, float]

    def as_text(self) -> str:
        ratio = lambda t: t / self.decode_s  # noqa: E731 - a one-line local helper reads best here
        lines = [
            f"12 MP pair: photo {self.megapixels:.1f} MP, working scale {self.working_scale:g}"
            + (f" ({self.px_per_mm:.1f} px/mm)" if self.px_per_mm else ""),
            f"cv2.imdecode (plain)          {self.decode_s * 1000:8.0f} ms   1.0x",
            f"analyze_photo, baseline cold  {self.cold_s * 1000:8.0f} ms  {ratio(self.cold_s):4.1f}x",
            f"analyze_photo, baseline cached{self.cached_s * 1000:8.0f} ms  {ratio(self.cached_s):4.1f}x",
            f"overlays (4 PNGs)             {self.overlays_s * 1000:8.0f} ms  {ratio(self.overlays_s):4.1f}x",
            f"peak memory (RSS)             {self.peak_rss_mb:8.0f} MB  (before analysis: {self.rss_before_mb:.0f} MB)",
            "stages of the last cold run:  "
            + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in self.stage_times_s.items()),
        ]
        return "\n".join(lines)


def run_benchmark(
    *,
    repeats: int = 5,
    photo: Path | None = None,
    baseline: Path | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> BenchReport:
    from tracker.analysis import analyze_photo, prepare_baseline
    from tracker.analysis.outputs import overlay_pngs

    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
        if photo is None:
            progress("simulating a 12 MP baseline and photo (once)...")
            ctx = mp.get_context("spawn")
            child = ctx.Process(target=_make_pair, args=(tmp,))
            child.start()
            child.join()
            if child.exitcode != 0:
                raise RuntimeError("the simulator failed to make the benchmark images")
            photo, baseline = Path(tmp, "photo.jpg"), Path(tmp, "baseline.jpg")
        if baseline is None:
            raise ValueError("baseline: --photo needs --baseline")
        photo_bytes, base_bytes = photo.read_bytes(), baseline.read_bytes()
        rss_before = _peak_rss_mb()

        progress("timing cv2.imdecode...")
        buf = np.frombuffer(photo_bytes, dtype=np.uint8)
        decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        megapixels = decoded.shape[0] * decoded.shape[1] / 1e6
        del decoded
        decode_s = _median_time(lambda: cv2.imdecode(buf, cv2.IMREAD_COLOR), repeats)

        progress("timing analyze_photo with a cold baseline...")
        analyze_photo(photo_bytes, baseline=base_bytes)  # warm-up: imports, caches
        cold_s = _median_time(lambda: analyze_photo(photo_bytes, baseline=base_bytes), repeats)
        last = analyze_photo(photo_bytes, baseline=base_bytes)

        progress("timing analyze_photo with a cached baseline...")
        prepared = prepare_baseline(base_bytes)
        cached_s = _median_time(lambda: analyze_photo(photo_bytes, baseline=prepared), repeats)

        progress("timing overlays...")
        overlays_s = _median_time(lambda: overlay_pngs(last), repeats)

        result = last.result
        return BenchReport(
            megapixels=megapixels,
            decode_s=decode_s,
            cold_s=cold_s,
            cached_s=cached_s,
            overlays_s=overlays_s,
            peak_rss_mb=_peak_rss_mb(),
            rss_before_mb=rss_before,
            working_scale=result.working_scale,
            px_per_mm=result.px_per_mm,
            stage_times_s={k: v for k, v in result.timings_s.items() if k != "total_s"},
        )
