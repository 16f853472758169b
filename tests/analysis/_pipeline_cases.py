"""Simulated photo pairs with known truth, shared by the pipeline-level tests.

Each case photographs a "before" and an "after" scene with the shared simulator
and knows the true change of every measure over any mask in scene pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from tracker.analysis.colour import srgb_to_linear
from tracker.simulate import Capture, capture, encode_jpeg, make_skin_scene, true_measures

SCENE_SHAPE = (1200, 1600)
OUT_SHAPE = (1050, 1400)
MM_PER_PX = 0.05
CHART = "nano"


@lru_cache(maxsize=8)
def scene(seed: int, **params: float):
    return make_skin_scene(seed=seed, shape_px=SCENE_SHAPE, mm_per_px=MM_PER_PX, **params)


def shoot(sc, *, seed: int, quality: int = 92, **params) -> tuple[Capture, bytes]:
    cap = capture(sc, seed=seed, chart_model=CHART, out_shape=OUT_SHAPE, **params)
    return cap, encode_jpeg(cap.srgb, quality=quality)


def max_unclipped_exposure(sc, **params) -> float:
    """The highest exposure at which no skin channel clips (for this light)."""
    probe = capture(sc, seed=0, chart_model=CHART, out_shape=OUT_SHAPE, noise=0.0, exposure=1.0, **params)
    peak = float(srgb_to_linear(probe.srgb)[probe.skin_mask].max())
    return 0.97 / peak


def scene_mask_from_baseline(region_working: np.ndarray, base_cap: Capture, scene_shape=SCENE_SHAPE) -> np.ndarray:
    """A baseline-frame mask (any scale) carried into scene pixels."""
    h, w = base_cap.srgb.shape[:2]
    full = cv2.resize(region_working.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    in_scene = cv2.warpAffine(full, base_cap.matrix_to_scene, (scene_shape[1], scene_shape[0]), flags=cv2.INTER_NEAREST)
    return in_scene > 0


def true_delta_ei(before, after, mask_scene: np.ndarray) -> float:
    return true_measures(after, mask=mask_scene).ei_mean - true_measures(before, mask=mask_scene).ei_mean


@dataclass(frozen=True)
class Cell:
    exposure: float | str  # a number or "max"
    cct_k: float
    gradient: float

    def label(self) -> str:
        return f"exposure={self.exposure} cct={self.cct_k:.0f}K gradient={self.gradient:g}"


LIGHT_GRID = tuple(
    Cell(exposure, cct, gradient)
    for exposure in (0.5, 1.0, "max")
    for cct in (2700.0, 4000.0, 6500.0)
    for gradient in (0.0, 0.2)
)
