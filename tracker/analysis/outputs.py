"""Images made from an analysis: masks for scripts, overlays for people.

Masks are written at full resolution in the frame the figures were measured in
(the baseline's when aligned), so a script can lay them over the original.
Overlays are display images at the working scale.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from tracker.analysis import overlays as _overlays
from tracker.analysis.pipeline import Analysis

#: EI colour scale of redness_map.png (fixed, so two photos' maps compare).
REDNESS_MAP_RANGE = (0.0, 40.0)


def _full_res_mask(mask: np.ndarray, full_size: tuple[int, int]) -> np.ndarray:
    width, height = full_size
    up = cv2.resize(mask.astype(np.uint8) * 255, (width, height), interpolation=cv2.INTER_NEAREST)
    return up


def _png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    if not ok:  # pragma: no cover - OpenCV only fails here on invalid arrays
        raise ValueError("could not encode PNG")
    return buf.tobytes()


def _rgb_png(rgb_uint8: np.ndarray) -> bytes:
    return _png(cv2.cvtColor(rgb_uint8, cv2.COLOR_RGB2BGR))


def redness_map_grey(erythema_map: np.ndarray, region: np.ndarray) -> np.ndarray:
    """EI as 8-bit grey on the fixed ``REDNESS_MAP_RANGE`` (0 outside the region)."""
    lo, hi = REDNESS_MAP_RANGE
    scaled = np.clip((np.nan_to_num(erythema_map, nan=lo) - lo) / (hi - lo), 0.0, 1.0)
    return np.where(region, np.round(scaled * 255), 0).astype(np.uint8)


def mask_pngs(analysis: Analysis) -> dict[str, bytes]:
    """Full-resolution masks and maps: roi_mask, spot_mask, redness_map (and aligned)."""
    art = analysis.artifacts
    out = {
        "roi_mask.png": _png(_full_res_mask(art.region, art.full_size)),
        "spot_mask.png": _png(_full_res_mask(art.spot_mask & art.region, art.full_size)),
        "redness_map.png": _png(
            cv2.resize(redness_map_grey(art.erythema_map, art.region), art.full_size, interpolation=cv2.INTER_LINEAR)
        ),
    }
    if art.aligned:
        rgb = np.round(np.clip(art.srgb, 0, 1) * 255).astype(np.uint8)
        out["aligned.png"] = _rgb_png(cv2.resize(rgb, art.full_size, interpolation=cv2.INTER_LINEAR))
    return out


def overlay_pngs(analysis: Analysis) -> dict[str, bytes]:
    """Display overlays for people: redness heatmap, spot outlines, line map, aligned photo."""
    art = analysis.artifacts
    out = {
        "redness.png": _overlays.encode_png(_overlays.redness_overlay(art.srgb, art.erythema_map, art.region)),
        "spots.png": _overlays.encode_png(_overlays.spot_overlay(art.srgb, art.spot_mask & art.region)),
        "lines.png": _overlays.encode_png(_overlays.line_overlay(art.srgb, art.line_map, art.region)),
    }
    if art.aligned:
        out["aligned.png"] = _rgb_png(np.round(np.clip(art.srgb, 0, 1) * 255).astype(np.uint8))
    return out


def write_outputs(analysis: Analysis, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write the CLI's ``--out`` files; returns the paths written."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in mask_pngs(analysis).items():
        path = folder / name
        path.write_bytes(data)
        written.append(path)
    return written
