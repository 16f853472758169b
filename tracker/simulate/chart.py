"""A simulated ColorChecker 24: smooth patch spectra and the chart's layout in a frame.

Patch spectra are the smoothest reflectances (least squared second difference,
bounded to [0.005, 0.98]) whose colour under D65 through the CIE 1931 observer is
the lead's reference table :data:`tracker.analysis.chart_reference.REFERENCE_SRGB`.
Smooth spectra are what real pigments have, and they let the camera (whose
sensitivities are not the CIE ones) see the chart slightly differently from the
reference, as a real camera does.

Layout: ``CHART_SIZES_MM[model]`` is the patch grid's outer edge. 6 x 4 patches
separated by black gaps of 17 % of the column pitch, on a black frame that extends
:data:`FRAME_MARGIN_FRACTION` of the grid height beyond the grid on every side.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.optimize import lsq_linear

from tracker.analysis.chart_reference import CHART_COLS, CHART_ROWS, CHART_SIZES_MM, REFERENCE_SRGB
from tracker.analysis.colour import srgb_to_linear
from tracker.simulate import spectra

#: Reflectance of the chart's black frame and gaps (matte black, flat spectrum).
FRAME_REFLECTANCE = 0.03
#: Width of the black frame beyond the patch grid, as a fraction of the grid height.
FRAME_MARGIN_FRACTION = 0.07
#: Black gap between patches as a fraction of the column pitch.
GAP_FRACTION = 0.17

CHART_POSITIONS: tuple[str, ...] = ("top-left", "top-right", "bottom-left", "bottom-right", "center")


@cache
def patch_reflectances() -> np.ndarray:
    """Smooth spectral reflectances of the 24 patches, shape (24, n_wavelengths), row-major from "dark skin"."""
    n = spectra.WAVELENGTHS_NM.size
    truth = spectra._truth_matrix().T  # (3, n): reflectance -> linear sRGB under D65
    second_diff = np.diff(np.eye(n), n=2, axis=0)
    targets = srgb_to_linear(REFERENCE_SRGB).astype(np.float64)
    out = np.empty((len(targets), n))
    weight = 300.0  # colour rows dominate: the colour must match, smoothness decides the rest
    for i, target in enumerate(targets):
        a = np.vstack([weight * truth, second_diff])
        b = np.concatenate([weight * target, np.zeros(n - 2)])
        out[i] = lsq_linear(a, b, bounds=(0.005, 0.98), method="bvls").x
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class ChartLayout:
    """Chart geometry in mm, origin at the patch grid's centre, x right, y down."""

    grid_w_mm: float
    grid_h_mm: float
    margin_mm: float
    patch_boxes_mm: np.ndarray  # (24, 4): x0, x1, y0, y1

    @property
    def outer_w_mm(self) -> float:
        return self.grid_w_mm + 2 * self.margin_mm

    @property
    def outer_h_mm(self) -> float:
        return self.grid_h_mm + 2 * self.margin_mm


def layout(model: str) -> ChartLayout:
    """The chart layout for a model in ``CHART_SIZES_MM`` ("mini", "classic")."""
    if model not in CHART_SIZES_MM:
        raise ValueError(f"chart_model must be one of {sorted(CHART_SIZES_MM)}, got {model!r}")
    w, h = CHART_SIZES_MM[model]
    gap = GAP_FRACTION * w / CHART_COLS
    pw = (w - (CHART_COLS - 1) * gap) / CHART_COLS
    ph = (h - (CHART_ROWS - 1) * gap) / CHART_ROWS
    boxes = []
    for r in range(CHART_ROWS):
        for c in range(CHART_COLS):
            x0 = -w / 2 + c * (pw + gap)
            y0 = -h / 2 + r * (ph + gap)
            boxes.append((x0, x0 + pw, y0, y0 + ph))
    return ChartLayout(w, h, FRAME_MARGIN_FRACTION * h, np.array(boxes))


def _coverage_1d(u: np.ndarray, lo: float, hi: float, half: float) -> np.ndarray:
    # Fraction of the pixel footprint [u - half, u + half] inside [lo, hi].
    return np.clip((np.minimum(u + half, hi) - np.maximum(u - half, lo)) / (2 * half), 0.0, 1.0)


@dataclass(frozen=True, eq=False)
class ChartRender:
    """A chart drawn in a frame: per-pixel coverage, patch weights and geometry (capture pixels)."""

    box: tuple[int, int, int, int]  # y0, y1, x0, x1 of the region the chart touches
    coverage: np.ndarray  # (h, w) fraction of each pixel covered by the chart (frame included)
    patch_index: np.ndarray  # (h, w) index of the nearest patch, 0-23
    patch_coverage: np.ndarray  # (h, w) fraction of the pixel covered by that patch
    corners_px: np.ndarray  # (4, 2) TL, TR, BR, BL of the patch grid's outer edge


def place(
    out_shape: tuple[int, int], *, model: str, mm_per_px: float, position: str, angle_deg: float = 0.0
) -> ChartRender:
    """Draw the chart at ``position`` in a frame of ``out_shape`` (H, W) at ``mm_per_px``.

    The chart is upright (dark skin patch top-left) rotated by ``angle_deg``
    (counter-clockwise on screen). Raises ValueError if it does not fit.
    """
    if position not in CHART_POSITIONS:
        raise ValueError(f"chart_position must be one of {CHART_POSITIONS}, got {position!r}")
    lay = layout(model)
    h, w = out_shape
    a = np.deg2rad(angle_deg)
    ca, sa = np.cos(a), np.sin(a)
    ow, oh = lay.outer_w_mm / mm_per_px, lay.outer_h_mm / mm_per_px
    bw, bh = abs(ow * ca) + abs(oh * sa), abs(ow * sa) + abs(oh * ca)
    margin = 0.03 * min(h, w)
    if bw + 2 * margin > w or bh + 2 * margin > h:
        raise ValueError(
            f"chart_model {model!r} ({bw:.0f} x {bh:.0f} px at {mm_per_px:.4f} mm/px) does not fit in a "
            f"{w} x {h} frame; use a larger frame or a coarser scale (capture scale < 1)"
        )
    cx = {"left": margin + bw / 2, "right": w - margin - bw / 2}.get(position.split("-")[-1], (w - 1) / 2)
    cy = {"top": margin + bh / 2, "bottom": h - margin - bh / 2}.get(position.split("-")[0], (h - 1) / 2)
    cx -= 0.5 if position != "center" else 0.0
    cy -= 0.5 if position != "center" else 0.0
    y0, y1 = max(0, int(np.floor(cy - bh / 2)) - 2), min(h, int(np.ceil(cy + bh / 2)) + 3)
    x0, x1 = max(0, int(np.floor(cx - bw / 2)) - 2), min(w, int(np.ceil(cx + bw / 2)) + 3)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    # Screen counter-clockwise rotation in y-down coordinates; local (u, v) in mm.
    dx, dy = xx - np.float32(cx), yy - np.float32(cy)
    u = (dx * np.float32(ca) - dy * np.float32(sa)) * np.float32(mm_per_px)
    v = (dx * np.float32(sa) + dy * np.float32(ca)) * np.float32(mm_per_px)
    half = mm_per_px / 2
    coverage = _coverage_1d(u, -lay.outer_w_mm / 2, lay.outer_w_mm / 2, half) * _coverage_1d(v, -lay.outer_h_mm / 2, lay.outer_h_mm / 2, half)
    # Each pixel meets at most one patch while the gaps are wider than a pixel.
    boxes = lay.patch_boxes_mm
    pitch_u = boxes[1, 0] - boxes[0, 0]
    pitch_v = boxes[CHART_COLS, 2] - boxes[0, 2]
    col = np.clip(np.floor((u - boxes[0, 0] + (pitch_u - (boxes[0, 1] - boxes[0, 0])) / 2) / pitch_u), 0, CHART_COLS - 1).astype(np.int32)
    row = np.clip(np.floor((v - boxes[0, 2] + (pitch_v - (boxes[0, 3] - boxes[0, 2])) / 2) / pitch_v), 0, CHART_ROWS - 1).astype(np.int32)
    index = row * CHART_COLS + col
    b = boxes[index]
    patch_cov = _coverage_1d(u, b[..., 0], b[..., 1], half) * _coverage_1d(v, b[..., 2], b[..., 3], half)
    local = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * np.array([lay.grid_w_mm, lay.grid_h_mm]) / 2 / mm_per_px
    # Inverse of the local mapping: screen = R(-a) applied to local.
    corners = np.column_stack([local[:, 0] * ca + local[:, 1] * sa + cx, -local[:, 0] * sa + local[:, 1] * ca + cy])
    return ChartRender((y0, y1, x0, x1), coverage.astype(np.float32), index, patch_cov.astype(np.float32), corners)


def composite(image: np.ndarray, chart: ChartRender, patch_rgb: np.ndarray, frame_rgb: np.ndarray) -> None:
    """Paint the chart over ``image`` (H, W, 3) in place, given each patch's and the frame's colour."""
    y0, y1, x0, x1 = chart.box
    cov = chart.coverage[..., None]
    pcov = chart.patch_coverage[..., None]
    painted = pcov * patch_rgb.astype(np.float32)[chart.patch_index] + (cov - pcov) * frame_rgb.astype(np.float32)
    image[y0:y1, x0:x1] = image[y0:y1, x0:x1] * (1.0 - cov) + painted
