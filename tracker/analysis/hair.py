"""Hair on the skin: found on the log-luminance image and filled in before texture is measured.

A dark hair is a thin, long valley of luminance, the very shape the line measure looks for:
on a hairy real close-up (PAD-UFES-20 PAT_1276_957_406) the "lines" were the hairs, so a
shave between two sessions would have read as smoother skin, and the resampling of a repeat
photo moved the figure beyond its band. Hair differs from a wrinkle in depth and length:

- **depth**: a morphological black-hat (closing by a small disc minus the image) finds dark
  structures narrower than the disc; a hair is at least :data:`MIN_DEPTH_LN` (about 18 %)
  darker than the skin beside it, a wrinkle a few percent (on the simulator's close-ups with
  lines no pixel passes);
- **length**: an opening by straight segments of :data:`MIN_LENGTH_MM` in 16 directions keeps
  only what a segment that long fits inside, so a lesion's pigment network and pores (short,
  dark, meshed) stay, and hair (mm to cm long, nearly straight over 1.5 mm) goes.

The hair pixels and their soft edge are then filled with the value of a wider closing, the
skin level around them (the DullRazor idea: Lee et al., Comput Biol Med 1997), so that the
line and roughness filters see skin where hair lay instead of losing the region around every
hair; the filled pixels are left out of the texture figures (the skin beneath is unseen).
Sixty hairs drawn over a real hairless close-up moved its line density by +8 % and roughness
by +6 % this way, both within their MDC (without it: +335 % and +29 %); 25 over a simulated
close-up with wrinkles, +2 % and -1 % (tests/analysis/test_hair.py).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

#: Half-width of the disc that the black-hat closes over, mm: wider than a hair (0.05-0.15 mm).
DISC_RADIUS_MM: float = 0.2
#: Least darkness of a hair against the skin beside it, ln units (0.2: 18 % darker).
MIN_DEPTH_LN: float = 0.2
#: Least length of a straight run inside a hair, mm.
MIN_LENGTH_MM: float = 1.5
#: Directions of the straight segments.
DIRECTIONS: int = 16
#: The hair's soft edge, mm beyond its dark core: left there, the edge still reads as a line.
EDGE_MM: float = 0.33
#: Radius of the wider closing whose value fills the hair, mm: wide enough to span the hair
#: and its edge, so the fill is the skin beside it (a hair-wide closing left half the valley).
FILL_RADIUS_MM: float = 0.5


@functools.lru_cache(maxsize=16)
def _segments(length_px: int) -> tuple[np.ndarray, ...]:
    """Straight one-pixel segments of ``length_px`` (odd) through the centre, in :data:`DIRECTIONS` directions."""
    c = length_px // 2
    out = []
    for k in range(DIRECTIONS):
        theta = np.pi * k / DIRECTIONS
        dx, dy = np.cos(theta) * c, np.sin(theta) * c
        se = np.zeros((length_px, length_px), np.uint8)
        cv2.line(se, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1, 1)
        out.append(se)
    return tuple(out)


def _could_hold(deep: np.ndarray, length: int) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """The parts of ``deep`` (uint8) big enough to hold a straight segment of ``length`` px, in their box.

    A segment of ``length`` pixels spans at least ``length / sqrt(2)`` rows or columns and is
    8-connected, so it lies within one component that wide: the openings of the smaller
    components are empty, and skipping them gives the same result (most photos: every one).
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(deep, connectivity=8)
    span = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    keep = np.flatnonzero(span >= int(length / np.sqrt(2.0))) + 1
    if keep.size == 0:
        return None
    pad = length // 2 + 1  # the openings' reach, so the box's border changes nothing
    h, w = deep.shape
    left = stats[keep, cv2.CC_STAT_LEFT]
    top = stats[keep, cv2.CC_STAT_TOP]
    r0, c0 = max(0, int(top.min()) - pad), max(0, int(left.min()) - pad)
    r1 = min(h, int((top + stats[keep, cv2.CC_STAT_HEIGHT]).max()) + pad)
    c1 = min(w, int((left + stats[keep, cv2.CC_STAT_WIDTH]).max()) + pad)
    lookup = np.zeros(n, np.uint8)
    lookup[keep] = 1
    return (r0, r1, c0, c1), lookup[labels[r0:r1, c0:c1]]


def hair_and_skin_level(
    log_lum: np.ndarray, px_per_mm: float, *, inside: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Where hair lies, with its edge (bool), and the skin level to fill it with, both of ``log_lum``'s shape.

    Parameters
    ----------
    log_lum : ndarray, shape (H, W), float32
        Natural log of linear luminance.
    px_per_mm : float
        Scale of ``log_lum``, px per mm.
    inside : ndarray, shape (H, W), bool, optional
        The region: hair is sought inside it only, and what lies beyond it is not seen (a
        brighter background beside the region's straight edge would make the edge a "hair").

    Examples
    --------
    >>> skin = np.zeros((80, 80), np.float32)
    >>> skin[:, 40] = -0.5  # a hair, 39 % darker, 80 px (6.7 mm) long
    >>> skin[20:23, 10:13] = -0.5  # a pore-sized dark dot
    >>> hair, level = hair_and_skin_level(skin, 12.0)
    >>> bool(hair[:, 40].all()), bool(hair[20:23, 10:13].any()), float(level[40, 40])
    (True, False, 0.0)
    """
    log_lum = np.ascontiguousarray(log_lum, dtype=np.float32)
    if inside is not None:
        # Outside, darker than anything inside: a closing's dilation never takes it, so an edge
        # pixel is judged by the region's pixels alone.
        log_lum = np.where(inside, log_lum, np.float32(log_lum.min() - 10.0))
    radius = max(1, round(DISC_RADIUS_MM * px_per_mm))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    closed = cv2.morphologyEx(log_lum, cv2.MORPH_CLOSE, disc, borderType=cv2.BORDER_REPLICATE)
    deep = (closed - log_lum) > MIN_DEPTH_LN
    if inside is not None:
        deep &= inside
    deep = deep.view(np.uint8)
    length = max(5, round(MIN_LENGTH_MM * px_per_mm)) | 1
    core = np.zeros_like(deep)
    long_enough = _could_hold(deep, length)
    if long_enough is None:
        return core.view(bool), closed  # nothing long enough to be hair: no opening to run
    (r0, r1, c0, c1), candidates = long_enough
    for segment in _segments(length):
        # Beyond the image is not hair (OpenCV's default border would let a segment run out of it).
        opened = cv2.morphologyEx(candidates, cv2.MORPH_OPEN, segment, borderType=cv2.BORDER_CONSTANT, borderValue=0)
        np.bitwise_or(core[r0:r1, c0:c1], opened, out=core[r0:r1, c0:c1])
    if not core.any():
        return core.view(bool), closed
    edge = max(1, round(EDGE_MM * px_per_mm))
    hair = cv2.dilate(core, np.ones((2 * edge + 1, 2 * edge + 1), np.uint8))
    fill = max(radius + 1, round(FILL_RADIUS_MM * px_per_mm))
    wide = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * fill + 1, 2 * fill + 1))
    level = cv2.morphologyEx(log_lum, cv2.MORPH_CLOSE, wide, borderType=cv2.BORDER_REPLICATE)
    return hair.view(bool), level


def without_hair(log_lum: np.ndarray, px_per_mm: float, *, inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log_lum`` with the hair ``inside`` the region filled by the skin level around it, and that hair's mask.

    Only the region's hair is filled: what lies beyond it (background, another body part)
    must not change the region's figures.
    """
    hair, level = hair_and_skin_level(log_lum, px_per_mm, inside=inside)
    hair &= inside
    if not hair.any():
        return log_lum, hair
    filled = np.array(log_lum, dtype=np.float32, copy=True)
    np.copyto(filled, level, where=hair)
    return filled, hair
