"""Write example simulated images: ``python -m tracker.simulate OUT_DIR [--size full] [--seed N]``.

Writes ``close_up_chart.png`` (a close-up with a ColorChecker under warm light),
``front.png`` (the front view with a classic chart), ``series_strip.png`` (every
photo of an improving series, labelled) and ``truth.txt`` (the series' truths).
With ``--samples`` it writes the three JPEG sample images kept in ``sample_images/``
instead.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from tracker.simulate.capture import capture
from tracker.simulate.encode import encode_jpeg, encode_png
from tracker.simulate.front import make_front_scene
from tracker.simulate.series import CLOSE_UP_FRAME, FRONT_SIZE, Series, simulate_series
from tracker.simulate.scene import make_skin_scene


def _decode(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=np.float32) / 255.0


def series_strip(series: Series, *, thumb_w: int = 320) -> np.ndarray:
    """One row per view, one labelled thumbnail per photo; sRGB float (H, W, 3)."""
    rows = []
    for view in ("close-up", "front"):
        photos = series.photos(view=view)
        if not photos:
            continue
        tiles = []
        for p in photos:
            img = _decode(p.jpeg)
            th = int(round(img.shape[0] * thumb_w / img.shape[1]))
            # OpenCV 5 draws text on 8-bit images only.
            tile = np.round(cv2.resize(img, (thumb_w, th), interpolation=cv2.INTER_AREA) * 255).astype(np.uint8)
            label = f"day {p.day} {p.time_point}" + (" +chart" if p.capture.chart else "")
            sub = f"EI {p.truth['ei_mean']:.1f} spots {p.truth['spot_area_mm2']:.0f}mm2 {p.capture.cct_k:.0f}K"
            tile[:52] = (tile[:52] * 0.35).astype(np.uint8)
            for text, y in ((label, 20), (sub, 42)):
                cv2.putText(tile, text, (6, y), cv2.FONT_HERSHEY_SIMPLEX, 0.48, (255, 255, 255), 1, cv2.LINE_AA)
            tiles.append(tile.astype(np.float32) / 255.0)
        height = max(t.shape[0] for t in tiles)
        rows.append(np.hstack([np.pad(t, ((0, height - t.shape[0]), (0, 4), (0, 0)), constant_values=1.0) for t in tiles]))
    width = max(r.shape[1] for r in rows)
    return np.vstack([np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=1.0) for r in rows])


def write_examples(out_dir: Path, *, seed: int = 1, size: str = "small") -> list[Path]:
    """Write the example PNGs and truth listing; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (h, w), px = CLOSE_UP_FRAME[size]
    scene = make_skin_scene(seed=seed, shape_px=(h, w), mm_per_px=px, diffuse_redness=0.15)
    close = capture(scene, seed=seed, chart=True, chart_model="nano", cct_k=3500.0, gradient=0.1, gradient_angle_deg=20.0, exposure=0.9)
    front_scene = make_front_scene(seed=seed, size_px=FRONT_SIZE[size])
    front = capture(front_scene, seed=seed, chart=True, chart_model="classic", chart_position="bottom-left", cct_k=5500.0, light="daylight")
    series = simulate_series(seed=seed, size=size)
    paths = [out_dir / "close_up_chart.png", out_dir / "front.png", out_dir / "series_strip.png", out_dir / "truth.txt"]
    paths[0].write_bytes(encode_png(close.srgb))
    paths[1].write_bytes(encode_png(front.srgb))
    paths[2].write_bytes(encode_png(series_strip(series)))
    lines = []
    for visit in series.visits:
        for p in visit.photos:
            truth = ", ".join(f"{k}={v:.3f}" for k, v in p.truth.items())
            lines.append(f"visit {visit.index} ({visit.kind}) day {p.day} {p.view} {p.time_point}: {truth}")
    paths[3].write_text("\n".join(lines) + "\n")
    return paths


def write_samples(out_dir: Path, *, seed: int = 7) -> list[Path]:
    """Write the three JPEG samples (close-up with chart, front view, before/after pair)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (h, w), px = CLOSE_UP_FRAME["full"]
    scene = make_skin_scene(seed=seed, shape_px=(h, w), mm_per_px=px, diffuse_redness=0.15, n_spots=8)
    close = capture(scene, seed=seed, chart=True, chart_model="nano", cct_k=4200.0, gradient=0.08, gradient_angle_deg=200.0, light="led")
    front = capture(make_front_scene(seed=seed, size_px=1536), seed=seed, chart=True, chart_model="classic",
                    chart_position="bottom-left", cct_k=5600.0, light="daylight")
    series = simulate_series(seed=seed, views=("close-up",), size="small", sessions=3, after_sessions=())
    before, after = series.photos(view="close-up")[0], series.photos(view="close-up")[-1]
    pair = np.hstack([_decode(before.jpeg), np.ones((_decode(before.jpeg).shape[0], 8, 3), np.float32), _decode(after.jpeg)])
    paths = [out_dir / "close_up_with_chart.jpg", out_dir / "front_view.jpg", out_dir / "before_after_pair.jpg"]
    paths[0].write_bytes(encode_jpeg(close.srgb, quality=85))
    paths[1].write_bytes(encode_jpeg(front.srgb, quality=85))
    paths[2].write_bytes(encode_jpeg(cv2.resize(pair, (pair.shape[1] * 3 // 4, pair.shape[0] * 3 // 4), interpolation=cv2.INTER_AREA), quality=85))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tracker.simulate", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", choices=("small", "full"), default="small")
    parser.add_argument("--samples", action="store_true", help="write the three JPEG samples instead")
    args = parser.parse_args(argv)
    paths = write_samples(args.out_dir, seed=args.seed) if args.samples else write_examples(args.out_dir, seed=args.seed, size=args.size)
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
