"""Synthetic skin-like scenes and known warps for the alignment tests (ground truth made here)."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from tracker.analysis.colour import linear_to_srgb, srgb_to_linear


def skin_texture(h: int, w: int, *, seed: int = 0) -> np.ndarray:
    """A textured skin-like sRGB image: tone, shading, pores, fine lines, freckles, noise.

    Deterministic for a seed; float32 (h, w, 3) in [0, 1].
    """
    rng = np.random.default_rng(seed)
    base = srgb_to_linear(np.array([0.80, 0.60, 0.48], np.float32))
    coarse = cv2.resize(rng.standard_normal((max(2, h // 64), max(2, w // 64))).astype(np.float32), (w, h),
                        interpolation=cv2.INTER_CUBIC) * 0.08
    medium = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 6) * 0.6
    fine = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 1.2) * 0.05
    shade = 1.0 + coarse + medium + fine
    # Pores: small dark dots.
    pores = np.zeros((h, w), np.float32)
    n = h * w // 900
    ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
    pores[ys, xs] = 1.0
    pores = cv2.GaussianBlur(pores, (0, 0), 1.3) * 12.0
    # Fine lines: random short curves.
    lines = np.zeros((h, w), np.float32)
    for _ in range(max(4, h * w // 40000)):
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        ang = rng.uniform(0, np.pi)
        length = rng.uniform(0.05, 0.2) * max(h, w)
        pts = np.array([[x0 + t * np.cos(ang) + 8 * np.sin(t / 25), y0 + t * np.sin(ang)] for t in np.linspace(0, length, 40)])
        cv2.polylines(lines, [np.round(pts * 4).astype(np.int32)], False, 1.0, 1, cv2.LINE_AA, shift=2)
    lines = cv2.GaussianBlur(lines, (0, 0), 1.0) * 0.6
    # Freckles / spots.
    spots = np.zeros((h, w), np.float32)
    for _ in range(max(3, h * w // 60000)):
        cv2.circle(spots, (int(rng.integers(0, w)), int(rng.integers(0, h))), int(rng.integers(3, 12)), 1.0, -1, cv2.LINE_AA)
    spots = cv2.GaussianBlur(spots, (0, 0), 2.0)
    lin = base * np.clip(shade - 0.25 * pores - 0.2 * lines, 0.2, 2.0)[:, :, None]
    lin = lin * (1.0 - spots[:, :, None] * np.array([0.45, 0.55, 0.6], np.float32))
    lin = lin + rng.normal(0, 0.003, (h, w, 3)).astype(np.float32)
    return linear_to_srgb(np.clip(lin, 0, 1))


@lru_cache(maxsize=4)
def _scene(h: int, w: int, seed: int) -> np.ndarray:
    scene = skin_texture(h, w, seed=seed)
    scene.flags.writeable = False
    return scene


def similarity_matrix(*, angle_deg: float, scale: float, tx: float, ty: float, centre: tuple[float, float]) -> np.ndarray:
    """2x3: rotate by angle and scale about `centre`, then shift by (tx, ty)."""
    m = cv2.getRotationMatrix2D(centre, angle_deg, scale)
    m[:, 2] += (tx, ty)
    return m


def as3(m: np.ndarray) -> np.ndarray:
    return np.vstack([m, [0.0, 0.0, 1.0]])


def render_pair(
    h: int, w: int, *, angle_deg: float, scale: float, shift_frac: tuple[float, float], seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(reference, moving, true moving->reference 2x3) rendered from one larger scene.

    The scene is 1.6x the frame; the reference is its centre crop, the moving
    view sees the scene rotated, scaled and shifted (so it is fully covered).
    """
    big = _scene(int(h * 1.6), int(w * 1.6), seed)
    bh, bw = big.shape[:2]
    # scene -> reference: crop the centre.
    crop = np.array([[1.0, 0, -(bw - w) / 2], [0, 1.0, -(bh - h) / 2]])
    reference = cv2.warpAffine(big, crop, (w, h), flags=cv2.INTER_LINEAR)
    # reference -> moving: the camera moved (similarity about the frame centre).
    ref_to_mov = similarity_matrix(angle_deg=angle_deg, scale=scale, tx=shift_frac[0] * w, ty=shift_frac[1] * h,
                                   centre=(w / 2, h / 2))
    scene_to_mov = as3(ref_to_mov) @ as3(crop)
    moving = cv2.warpAffine(big, scene_to_mov[:2], (w, h), flags=cv2.INTER_LINEAR)
    mov_to_ref = np.linalg.inv(as3(ref_to_mov))[:2]
    return reference.astype(np.float32), moving.astype(np.float32), mov_to_ref


def change_light(srgb: np.ndarray, *, exposure: float = 0.7, cast: tuple[float, float, float] = (1.0, 0.9, 0.75)) -> np.ndarray:
    """Same scene under another light: linear exposure change and a warm colour cast."""
    return linear_to_srgb(srgb_to_linear(srgb) * exposure * np.asarray(cast, np.float32))


def corner_errors(estimated: np.ndarray, truth: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Distances (reference px) at the reference corners between estimated and true moving->reference maps."""
    h, w = shape
    corners = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]], np.float64)
    in_moving = corners @ np.linalg.inv(as3(truth))[:2, :2].T + np.linalg.inv(as3(truth))[:2, 2]
    mapped = in_moving @ estimated[:, :2].T + estimated[:, 2]
    return np.hypot(*(mapped - corners).T)


def point_errors(estimated: np.ndarray, truth: np.ndarray, points_xy: np.ndarray) -> np.ndarray:
    """Distances (reference px) at given reference points between estimated and true moving->reference maps."""
    inv = np.linalg.inv(as3(truth))
    in_moving = points_xy @ inv[:2, :2].T + inv[:2, 2]
    mapped = in_moving @ estimated[:, :2].T + estimated[:, 2]
    return np.hypot(*(mapped - points_xy).T)
