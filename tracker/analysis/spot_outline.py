"""One spot's outline: grown to half its own contrast above the ring of skin around it.

Everything here works in a window around one peak of the melanin contrast map
(see :mod:`tracker.analysis.spots` for the map and the seeds): the outline at
half the spot's contrast (FWHM, core and ring medians re-estimated until it
settles), spills along lines cut off, and the shape and blob tests a spot must
pass. The window grows only while the outline reaches its side, so the work
per spot scales with the spot, not with the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tracker.analysis.order_stats import median

#: Shape limits: a spot is compact. Hairs and lines are long and thin.
MAX_ELONGATION: float = 3.0     # major / minor axis of the equivalent ellipse
MIN_SOLIDITY: float = 0.7       # area / convex hull area

#: Every outline is opened by a disc of this fraction of the spot's inscribed
#: radius: spills along a line or hair that touches the spot are cut off.
SPILL_FRACTION: float = 0.35

#: A spot is a peak of contrast in both directions: the smaller over the
#: larger curvature at its own scale (see ``blobness``). Bumps on lines score
#: ~0.1 on the simulator's skin, true spots 0.49 and up, a 3:1 oval ~0.5, the
#: 7 x 3 mm naevus of PAD-UFES-20 PAT_100_393_595 0.62.
MIN_BLOBNESS: float = 0.25

#: Ring of skin around a spot that gives its local background: starts this far
#: out, mm, and is at least ``RING_WIDTH_MM`` wide (or half the spot's radius).
RING_GAP_MM: float = 0.15
RING_WIDTH_MM: float = 0.5


def shape_ok(mask: np.ndarray, min_area_px: float, max_area_px: float) -> bool:
    """True when ``mask`` has a spot's size and is compact (elongation, solidity)."""
    area = np.count_nonzero(mask)
    if area < min_area_px or area > max_area_px:
        return False
    image = mask.astype(np.uint8)
    if area >= 5:
        # The pixels' covariance from their central moments (a tenth of np.cov's time); the
        # elongation is a ratio, so the count it is divided by does not matter.
        m = cv2.moments(image, binaryImage=True)
        a, b, c = m["mu20"], m["mu11"], m["mu02"]
        mean, spread = 0.5 * (a + c), float(np.hypot(0.5 * (a - c), b))
        low, high = mean - spread, mean + spread
        if low <= 0 or np.sqrt(high / low) > MAX_ELONGATION:
            return False
    contours, _ = cv2.findContours(image, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    # Contour areas run through pixel centres, so small blobs read slightly above 1.
    hull_area = cv2.contourArea(cv2.convexHull(np.concatenate(contours)))
    return bool(area >= MIN_SOLIDITY * hull_area)


def component_touching(mask: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Connected parts of ``mask`` (holes filled) that touch ``anchor``."""
    starts = anchor & mask
    if not starts.any():
        return np.zeros_like(mask)
    h, w = mask.shape
    image = np.ascontiguousarray(mask.view(np.uint8))
    # Flood fills from the anchor cost the parts' size, where labelling the window costs its size.
    reached = np.zeros((h + 2, w + 2), np.uint8)
    inner = reached[1:-1, 1:-1]
    while starts.any():
        y, x = divmod(int(np.argmax(starts)), w)
        cv2.floodFill(image, reached, (x, y), 0, 0, 0, 8 | cv2.FLOODFILL_MASK_ONLY | (1 << 8))
        starts &= inner == 0
    # Filling the outer contours fills the holes (pores or light flecks inside a spot).
    contours, _ = cv2.findContours(inner, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros(mask.shape, np.uint8)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled.astype(bool)


def distance_inside(mask: np.ndarray) -> np.ndarray:
    """Distance of each pixel of ``mask`` to its outside, px (0 outside)."""
    return cv2.distanceTransform(mask.view(np.uint8), cv2.DIST_L2, 5)


def around(mask: np.ndarray, margin: int) -> tuple[slice, slice]:
    """Bounding box of ``mask`` grown by ``margin`` px, clipped to the array.

    The 5x5 chamfer distance is at least the chessboard distance and its
    shortest paths stay within the box of their two ends, so distances up to
    ``margin`` from ``mask``, and inside it, are the same computed in this box.
    """
    x, y, bw, bh = cv2.boundingRect(mask.view(np.uint8))
    h, w = mask.shape
    return (
        slice(max(0, y - margin), min(h, y + bh + margin)),
        slice(max(0, x - margin), min(w, x + bw + margin)),
    )


@dataclass(frozen=True)
class Grown:
    """A spot's FWHM outline (window coordinates) with its core and ring levels, MI units."""

    mask: np.ndarray
    plateau: float
    background: float
    #: The contrast in the ring of skin around the outline.
    ring_values: np.ndarray

    @property
    def ring_high(self) -> float:
        """The ring's 90th percentile (0 for a ring under 8 px). Only asked of outlines that
        could be spots: most peaks on a face are not, and a percentile costs more than the outline."""
        return float(np.percentile(self.ring_values, 90)) if self.ring_values.size >= 8 else 0.0


def grow_fwhm(crop: np.ndarray, inside: np.ndarray, seed: np.ndarray, start_threshold: float, px_per_mm: float) -> Grown | None:
    """Outline one spot at half its own peak above its own surroundings.

    The peak is the median of the spot's core (robust to pores and lines
    crossing it) and the surroundings the median of a ring just outside it
    (robust to neighbours and mottling), re-estimated until the outline settles.
    ``seed`` is the filled component of ``(crop >= start_threshold) & inside`` at the
    peak (as :func:`outline_peak` makes it): the outline at the starting threshold.
    """
    threshold = start_threshold
    plateau = background = float("nan")
    ring_values = np.zeros(0, crop.dtype)
    gap = max(2.0, RING_GAP_MM * px_per_mm)
    for step in range(4):
        # At the starting threshold the parts touching the seed are the seed itself (what lies
        # in its holes is inside its outer contour): no need to find them again.
        mask = seed if step == 0 else component_touching((crop >= threshold) & inside, seed)
        if not mask.any():
            return None
        radius = np.sqrt(np.count_nonzero(mask) / np.pi)
        width = max(RING_WIDTH_MM * px_per_mm, 0.5 * radius)
        # Both distances are taken in a box just big enough for them (see around).
        box = around(mask, int(np.ceil(gap + width)) + 2)
        sub_mask, sub_crop = mask[box], crop[box]
        dist = distance_inside(sub_mask)
        core = dist >= 0.6 * float(dist.max())
        plateau = float(median(sub_crop[core]))
        outside = cv2.distanceTransform((~sub_mask).view(np.uint8), cv2.DIST_L2, 5)
        ring = (outside > gap) & (outside <= gap + width) & inside[box]
        ring_values = sub_crop[ring]
        background = float(median(ring_values)) if ring_values.size >= 8 else 0.0
        new_threshold = background + 0.5 * (plateau - background)
        settled = abs(new_threshold - threshold) <= 0.02 * max(plateau - background, 1e-6)
        threshold = new_threshold
        if settled:
            break
    # Holes are filled (pores inside a spot), but never over another spot.
    mask = component_touching((crop >= threshold) & inside, seed) & inside
    return Grown(mask=mask, plateau=plateau, background=background, ring_values=ring_values)


def blobness(contrast: np.ndarray, body: np.ndarray, origin: tuple[int, int]) -> float:
    """Smaller / larger curvature of the contrast at the spot's own scale, at its centre.

    About 1 for a round spot, 0.5 for a 3:1 oval, near 0 for a piece of a
    line: the Hessian of the contrast smoothed at the spot's equivalent radius
    sees whether the dark structure continues beyond the outline.
    """
    rows, cols = np.nonzero(body)
    radius = np.sqrt(rows.size / np.pi)
    sigma = max(1.0, radius)
    r, c = int(round(rows.mean())) + origin[0], int(round(cols.mean())) + origin[1]
    k = int(np.ceil(3 * sigma)) + 1
    r0, c0 = max(0, r - k), max(0, c - k)
    patch = contrast[r0 : r + k + 1, c0 : c + k + 1]
    y, x = r - r0, c - c0
    if not (1 <= y < patch.shape[0] - 1 and 1 <= x < patch.shape[1] - 1):
        return 1.0  # at the image edge: no room to tell, keep the spot
    smooth = cv2.GaussianBlur(patch, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    dxx = smooth[y, x + 1] - 2 * smooth[y, x] + smooth[y, x - 1]
    dyy = smooth[y + 1, x] - 2 * smooth[y, x] + smooth[y - 1, x]
    dxy = 0.25 * (smooth[y + 1, x + 1] - smooth[y + 1, x - 1] - smooth[y - 1, x + 1] + smooth[y - 1, x - 1])
    low, high = np.linalg.eigvalsh(np.array([[dxx, dxy], [dxy, dyy]], np.float64))
    # A dark spot is a peak of contrast: both curvatures negative.
    if low >= 0 or high > 0:
        return 0.0
    return float(high / low)


def cut_by_window(mask: np.ndarray, window: tuple[int, int, int, int], shape: tuple[int, int]) -> bool:
    """True when ``mask`` reaches a side of its window that is not the image's edge."""
    r0, r1, c0, c1 = window
    return bool(
        (r0 > 0 and mask[0].any())
        or (r1 < shape[0] and mask[-1].any())
        or (c0 > 0 and mask[:, 0].any())
        or (c1 < shape[1] and mask[:, -1].any())
    )


def open_by(mask: np.ndarray, dist: np.ndarray, radius: float) -> np.ndarray:
    """Binary opening by a disc of ``radius`` px, from the inside distance map."""
    centres = dist >= radius
    return (cv2.distanceTransform((~centres).astype(np.uint8), cv2.DIST_L2, 5) <= radius) & mask


def drop_arms(mask: np.ndarray, anchor: np.ndarray, min_area: float, max_area: float) -> np.ndarray | None:
    """The compact body of a spot that a line or hair runs into, or None.

    Opening by a disc a fraction of the spot's inscribed radius cuts away
    arms and spills narrower than the spot (a line running into it); the
    body keeps its outline. A light opening always applies; stronger ones
    only when the shape is still not compact.
    """
    dist = distance_inside(mask)
    inscribed = float(dist.max())
    for fraction in (SPILL_FRACTION, 0.5, 0.8):
        radius = fraction * inscribed
        if radius < 1.5:
            body = mask
        else:
            opened = open_by(mask, dist, radius)
            hold = anchor & opened
            body = component_touching(opened, hold if hold.any() else dist >= inscribed) & mask
        if body.any() and shape_ok(body, min_area, max_area):
            return body
    return None


def outline_peak(
    contrast: np.ndarray,
    region: np.ndarray,
    done: np.ndarray,
    peak_rc: tuple[int, int],
    peak: float,
    px_per_mm: float,
    max_diameter_mm: float,
) -> tuple[np.ndarray, Grown | None, tuple[int, int, int, int]]:
    """Seed and FWHM outline of the spot at one peak, in a window around it.

    The window starts at room for a 4 mm spot and doubles while the outline
    reaches its side, up to room for the largest spot and its ring (most spots
    are far smaller than the largest, and the per-spot work scales with the
    window). Returns the seed and the outline in window coordinates, and the
    window (r0, r1, c0, c1).
    """
    h, w = contrast.shape
    pr, pc = peak_rc
    ring_mm = RING_GAP_MM + RING_WIDTH_MM
    reach = int(np.ceil((max_diameter_mm + ring_mm) * px_per_mm)) + 2
    half = min(reach, int(np.ceil((2.0 + ring_mm) * px_per_mm)))
    while True:
        window = (max(0, pr - half), min(h, pr + half + 1), max(0, pc - half), min(w, pc + half + 1))
        r0, r1, c0, c1 = window
        crop = contrast[r0:r1, c0:c1]
        inside = region[r0:r1, c0:c1] & ~done[r0:r1, c0:c1]
        point = np.zeros(crop.shape, bool)
        point[pr - r0, pc - c0] = True
        seed = component_touching((crop >= 0.5 * peak) & inside, point)
        grown = grow_fwhm(crop, inside, seed, 0.5 * peak, px_per_mm)
        if grown is None or half >= reach or not cut_by_window(grown.mask, window, (h, w)):
            return seed, grown, window
        half = min(reach, 2 * half)
