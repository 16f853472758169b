"""Images made from an analysis: masks for scripts, overlays for people.

Masks are written at full resolution in the frame the figures were measured in
(the baseline's when aligned), so a script can lay them over the original.
Overlays are display images, at most :data:`OVERLAY_LONG_SIDE_PX` on the long
side (the display image's size: they are shown over it), JPEG, each made and encoded on
one of two threads.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from tracker.analysis import overlays as _overlays
from tracker.analysis.pipeline import Analysis

#: EI colour scale of redness_map.png (fixed, so two photos' maps compare).
REDNESS_MAP_RANGE = (0.0, 40.0)
#: Long side of the overlays, px: the display image's (``services.imaging.DISPLAY_SIZE``).
OVERLAY_LONG_SIDE_PX = 1600
#: Overlays are JPEG at this quality, without chroma subsampling (full-resolution colour
#: keeps the one-pixel spot outlines and the heatmap's edges crisp). As PNG a 1600 px
#: overlay of a photo was 1.7-2.4 MB and 33-48 ms to encode; as this JPEG 0.3-0.4 MB and
#: about 6 ms. They are pictures for people: the figures come from the stored result.
OVERLAY_JPEG_QUALITY = 92
_OVERLAY_JPEG = [cv2.IMWRITE_JPEG_QUALITY, OVERLAY_JPEG_QUALITY,
                 cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
#: Fixed 16-bit scales of haemoglobin_map.png and melanin_map.png: counts per percent
#: of blood (dermis) or melanin (epidermis) volume fraction, after an offset.
CHROMOPHORE_MAP_COUNTS_PER_PCT = 1000.0
#: Offsets added before scaling, percent: melanin reads down to -10 % on skin bluer than
#: the model's melanin-free skin. Counts = 1000 x (value + offset); 0 = not measured.
HAEMOGLOBIN_MAP_OFFSET_PCT = 0.0
MELANIN_MAP_OFFSET_PCT = 10.0


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


def chromophore_map_16bit(values: np.ndarray, region: np.ndarray, *, offset_pct: float = 0.0) -> np.ndarray:
    """A percent map as 16-bit counts, 1000 x (value + offset); 0 outside the region and where not measured.

    >>> chromophore_map_16bit(np.array([[1.5, np.nan]]), np.array([[True, True]])).tolist()
    [[1500, 0]]
    """
    measured = region & np.isfinite(values)
    counts = np.clip((np.nan_to_num(values, nan=0.0) + offset_pct) * CHROMOPHORE_MAP_COUNTS_PER_PCT, 1, 65535)
    return np.where(measured, np.round(counts), 0).astype(np.uint16)


def mask_pngs(analysis: Analysis) -> dict[str, bytes]:
    """Full-resolution masks and maps: roi_mask, spot_mask, redness_map, haemoglobin_map, melanin_map (and aligned)."""
    art = analysis.artifacts
    out = {
        "roi_mask.png": _png(_full_res_mask(art.region, art.full_size)),
        "spot_mask.png": _png(_full_res_mask(art.spot_mask & art.region, art.full_size)),
        "redness_map.png": _png(
            cv2.resize(redness_map_grey(art.erythema_map, art.region), art.full_size, interpolation=cv2.INTER_LINEAR)
        ),
    }
    for name, values, offset in (
        ("haemoglobin_map.png", art.haemoglobin_map, HAEMOGLOBIN_MAP_OFFSET_PCT),
        ("melanin_map.png", art.melanin_map, MELANIN_MAP_OFFSET_PCT),
    ):
        if values is not None:
            grid = chromophore_map_16bit(values, art.region, offset_pct=offset)
            out[name] = _png(cv2.resize(grid, art.full_size, interpolation=cv2.INTER_NEAREST))
    if art.aligned:
        rgb = np.round(np.clip(art.srgb, 0, 1) * 255).astype(np.uint8)
        out["aligned.png"] = _rgb_png(cv2.resize(rgb, art.full_size, interpolation=cv2.INTER_LINEAR))
    # One mask per anatomical region, in the frame and at the size of roi_mask.png.
    for key, mask in art.region_masks.items():
        out[f"regions/{key}.png"] = _png(_full_res_mask(mask, art.full_size))
    return out


def _display_size(shape: tuple[int, ...]) -> tuple[int, int] | None:
    """(width, height) of the overlays, or None when the working image is small enough already."""
    h, w = shape[:2]
    factor = OVERLAY_LONG_SIDE_PX / max(h, w)
    return None if factor >= 1.0 else (max(1, round(w * factor)), max(1, round(h * factor)))


def _shrink(image: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    if size is None:
        return image
    if image.dtype == bool:
        return cv2.resize(image.view(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def region_mask_pngs(analysis: Analysis) -> dict[str, bytes]:
    """The anatomical regions measured, one 8-bit mask each at the overlays' size (stored with them).

    A region measured nowhere (a close-up has none; a beard may hide one) has no file: its
    reason is in the result.
    """
    art = analysis.artifacts
    size = _display_size(art.srgb.shape)
    return {f"region_{key}.png": _png(_shrink(mask, size).astype(np.uint8) * 255)
            for key, mask in art.region_masks.items() if mask.any()}


def overlay_images(analysis: Analysis) -> dict[str, bytes]:
    """Display overlays for people, as JPEG: redness heatmap, spot outlines, line map, aligned photo."""
    art = analysis.artifacts
    size = _display_size(art.srgb.shape)
    srgb = _shrink(np.clip(art.srgb, 0.0, 1.0).astype(np.float32, copy=False), size)
    region = _shrink(art.region, size)
    builders: dict[str, Callable[[], np.ndarray]] = {
        "redness.jpg": lambda: _overlays.redness_overlay(srgb, _shrink(art.erythema_map, size), region),
        "lines.jpg": lambda: _overlays.line_overlay(srgb, _shrink(art.line_map, size), region),
        "spots.jpg": lambda: _overlays.spot_overlay(srgb, _shrink(art.spot_mask & art.region, size)),
    }
    if art.aligned:
        builders["aligned.jpg"] = lambda: np.round(srgb * 255).astype(np.uint8)

    def made(name: str) -> bytes:
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(builders[name](), cv2.COLOR_RGB2BGR), _OVERLAY_JPEG)
        if not ok:  # pragma: no cover - OpenCV only fails here on invalid arrays
            raise ValueError("could not encode PNG")
        return buf.tobytes()

    # Each overlay made and encoded on its own task: OpenCV and numpy release the GIL.
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(builders, pool.map(made, builders), strict=True))


def write_outputs(analysis: Analysis, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write the CLI's ``--out`` files; returns the paths written."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in mask_pngs(analysis).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written
