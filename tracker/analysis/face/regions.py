"""Anatomical regions of a face from its landmarks: where each figure is measured.

Each region is a polygon through Face Mesh landmarks (drawn for the person's
right side and mirrored for the left). From every polygon the eyes, brows, lips
and nostrils are cut out with a margin, and only pixels that look like this
face's skin are kept, so hair over the forehead, a beard, glasses frames and
background at the face's edge are left out. Where two polygons meet, a pixel
belongs to the first region listed in :data:`REGION_KEYS`.

A region the head turns away from the camera (its outline shrinks to less
than ``MIN_VISIBLE_SHARE`` of its mirror image's area) is reported hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tracker.analysis.colour import srgb_to_linear

__all__ = ["FEATURE_KEYS", "REGION_KEYS", "FaceRegions", "face_regions", "feature_masks"]

REGION_KEYS = (
    "forehead",
    "cheek_left",
    "cheek_right",
    "nose",
    "chin",
    "perioral",
    "periorbital_left",
    "periorbital_right",
)
FEATURE_KEYS = ("eye_left", "eye_right", "brow_left", "brow_right", "lips", "nostril_left", "nostril_right")

# Polygons on the person's right side (image left in a front view), MediaPipe numbering.
_RIGHT = {
    "cheek": (116, 117, 118, 119, 120, 121, 47, 126, 142, 36, 203, 206, 216, 212, 214, 192, 213, 147, 123),
    "periorbital": (46, 53, 52, 65, 55, 193, 245, 128, 121, 120, 119, 118, 117, 111, 143, 156),
    "eye": (130, 247, 30, 29, 27, 28, 56, 190, 243, 112, 26, 22, 23, 24, 110, 25),
    "brow": (46, 53, 52, 65, 55, 107, 66, 105, 63, 70),
    "nostril": (79, 237, 44, 125, 241, 238, 20, 60, 75, 166),
}
# Mirror partners (right -> left) of every index used above and below.
_MIRROR = {
    116: 345, 117: 346, 118: 347, 119: 348, 120: 349, 121: 350, 47: 277, 126: 355, 142: 371, 36: 266,
    203: 423, 206: 426, 216: 436, 212: 432, 214: 434, 192: 416, 213: 433, 147: 376, 123: 352,
    46: 276, 53: 283, 52: 282, 65: 295, 55: 285, 193: 417, 245: 465, 128: 357, 111: 340, 143: 372,
    156: 383, 130: 359, 247: 467, 30: 260, 29: 259, 27: 257, 28: 258, 56: 286, 190: 414, 243: 463,
    112: 341, 26: 256, 22: 252, 23: 253, 24: 254, 110: 339, 25: 255, 107: 336, 66: 296, 105: 334,
    63: 293, 70: 300, 79: 309, 237: 457, 44: 274, 125: 354, 241: 461, 238: 458, 20: 250, 60: 290,
    75: 305, 166: 392, 114: 343, 217: 437, 198: 420, 209: 429, 129: 358, 64: 294, 98: 327, 97: 326,
    57: 287, 43: 273, 106: 335, 182: 406, 83: 313, 202: 422, 210: 430, 169: 394, 170: 395, 140: 369,
    171: 396, 54: 284, 103: 332, 67: 297, 109: 338, 68: 298, 71: 301, 61: 291, 146: 375, 91: 321,
    181: 405, 84: 314, 185: 409, 40: 270, 39: 269, 37: 267,
}


def _mirrored(indices: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(_MIRROR.get(i, i) for i in indices)


_POLYGONS: dict[str, tuple[int, ...]] = {
    # Brow tops, glabella, up to the top of the mesh (near the hairline).
    "forehead": (54, 103, 67, 109, 10, 338, 297, 332, 284, 298, 301, 300, 293, 334, 296, 336, 9, 107, 66, 105, 63, 70, 71, 68),
    "cheek_right": _RIGHT["cheek"],
    "cheek_left": _mirrored(_RIGHT["cheek"]),
    # Bridge, tip and wings, between the inner eye corners and the upper lip.
    "nose": (168, 193, 245, 128, 114, 217, 198, 209, 129, 64, 98, 97, 2, 326, 327, 294, 358, 429, 420, 437, 343, 357, 465, 417),
    # From the lower lip's crease to the front of the jaw, between the mouth corners' verticals.
    "chin": (43, 106, 182, 83, 18, 313, 406, 335, 273, 422, 430, 394, 395, 369, 396, 175, 171, 140, 170, 169, 210, 202),
    # Around the lips, inside the nasolabial folds, down to the lower lip's crease.
    "perioral": (98, 97, 2, 326, 327, 423, 426, 436, 432, 287, 273, 335, 406, 313, 18, 83, 182, 106, 43, 57, 212, 216, 206, 203),
    "periorbital_right": _RIGHT["periorbital"],
    "periorbital_left": _mirrored(_RIGHT["periorbital"]),
}
_FEATURES = {
    "eye_right": _RIGHT["eye"],
    "eye_left": _mirrored(_RIGHT["eye"]),
    "brow_right": _RIGHT["brow"],
    "brow_left": _mirrored(_RIGHT["brow"]),
    "lips": (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185),
    "nostril_right": _RIGHT["nostril"],
    "nostril_left": _mirrored(_RIGHT["nostril"]),
}
_PARTNER = {"cheek_left": "cheek_right", "cheek_right": "cheek_left",
            "periorbital_left": "periorbital_right", "periorbital_right": "periorbital_left"}

#: Margin cut around eyes, brows, lips and nostrils, as a share of the distance between the eyes' outer corners.
FEATURE_MARGIN = 0.05
#: A side region whose outline is smaller than this share of its mirror image's is turned away.
MIN_VISIBLE_SHARE = 0.35
#: A region keeping less than this share of its outline as skin is reported covered (a full beard).
MIN_SKIN_SHARE = 0.2
#: Skin test: pixels this much darker (natural log of luminance) than the skin's fitted shading are
#: dark: hair, beard, frames, or a pigment spot.
MAX_DARKER_LN = 1.0
#: Dark pixels filling this share of a neighbourhood (Gaussian, sigma this share of the eye span) are hair.
HAIR_DENSITY = 0.3
HAIR_DENSITY_SIGMA = 0.04
#: A connected dark patch wider than about this share of the eye span (as a square) is hair, not a spot.
MAX_SPOT_SHARE = 0.12
#: Robust standard deviations of yellowness (ln G/B) allowed around the typical skin; redder skin is always kept.
YELLOWNESS_K = 2.5
#: Pixels at least this much yellower (ln G/B) than the skin are hair-coloured, however wide the skin's spread.
MIN_YELLOW_EXCESS = 0.2
#: Pinker (less yellow) than the skin by this much more is still skin (redness lowers ln G/B).
PINK_ALLOWANCE = 0.6


@dataclass(frozen=True)
class FaceRegions:
    """The regions of one face, on the image's pixel grid.

    Attributes
    ----------
    masks : dict of str to np.ndarray
        One bool mask per key of :data:`REGION_KEYS` (all False when hidden).
    reasons : dict of str to str or None
        Why a region is empty (hidden by the turn of the head, or covered by hair
        or a beard), else None.
    features : np.ndarray
        Bool mask of eyes, brows, lips and nostrils with their margins: never measured.
    """

    masks: dict[str, np.ndarray]
    reasons: dict[str, str | None]
    features: np.ndarray

    @property
    def union(self) -> np.ndarray:
        out = np.zeros_like(self.features)
        for mask in self.masks.values():
            out |= mask
        return out


def _fill(points_xy: np.ndarray, indices: tuple[int, ...], shape: tuple[int, int], *, grow_px: float = 0.0) -> np.ndarray:
    """The polygon through the landmarks, grown (or shrunk, when negative) by ``grow_px``.

    Growing draws the outline with a round pen of that radius, which is the same as
    a dilation by a disc but costs the outline's length, not the image's area.
    """
    mask = np.zeros(shape, np.uint8)
    poly = np.round(points_xy[list(indices)] * 4).astype(np.int32)  # 2 bits of sub-pixel precision
    cv2.fillPoly(mask, [poly], 1, lineType=cv2.LINE_8, shift=2)
    r = round(abs(grow_px))
    if r:
        cv2.polylines(mask, [poly], True, 1 if grow_px > 0 else 0, thickness=2 * r + 1, lineType=cv2.LINE_8, shift=2)
    return mask.astype(bool)


def _polygon_area(points_xy: np.ndarray, indices: tuple[int, ...]) -> float:
    return float(abs(cv2.contourArea(points_xy[list(indices)].astype(np.float32))))


def feature_masks(points_xy: np.ndarray, shape: tuple[int, int], *, margin_px: float = 0.0) -> dict[str, np.ndarray]:
    """Eyes, brows, lips and nostrils as bool masks, each grown by ``margin_px``."""
    return {key: _fill(points_xy, poly, shape, grow_px=max(0.0, margin_px)) for key, poly in _FEATURES.items()}


def _shading_fit(logy: np.ndarray, core: np.ndarray) -> np.ndarray:
    """A planar model of the skin's log-luminance over the face: its shading.

    Planar, not quadratic: the fit is extrapolated from cheeks and forehead to the
    chin and jaw, where a curved fit dives and would call a dark beard "shaded skin".
    """
    h, w = logy.shape
    ys, xs = np.nonzero(core)
    step = max(1, ys.size // 4000)
    ys, xs = ys[::step], xs[::step]
    def design(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        y, x = y / h - 0.5, x / w - 0.5
        return np.stack([np.ones_like(x), x, y], axis=1)
    a, target = design(ys.astype(float), xs.astype(float)), logy[ys, xs].astype(float)
    keep = np.ones(target.size, bool)
    coef = np.zeros(3)
    for _ in range(2):  # refit without the pixels far below the first fit (hair, spots)
        coef = np.linalg.lstsq(a[keep], target[keep], rcond=None)[0]
        keep = target - a @ coef > -0.5
    yy, xx = np.mgrid[0:h, 0:w]
    return (design(yy.ravel().astype(float), xx.ravel().astype(float)) @ coef).reshape(h, w).astype(np.float32)


def _skin_like(srgb: np.ndarray, inside: np.ndarray, core: np.ndarray, *, eye_span: float) -> np.ndarray:
    """Pixels inside ``inside`` that are this face's skin: hair, beard, frames and background out.

    Hair is dark against the skin's own shading (fitted over ``core``) and dense:
    a pixel goes when dark pixels fill much of its neighbourhood, or when it
    belongs to a large dark patch. An isolated dark spot (a lentigo, a freckle)
    is small and alone, so it stays and is measured.
    """
    ys, xs = np.nonzero(inside)
    if ys.size == 0 or int(np.count_nonzero(core)) < 50:
        return inside
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    lin = srgb_to_linear(srgb[y0:y1, x0:x1]) + np.float32(0.002)
    logy = np.log(0.2126 * lin[..., 0] + 0.7152 * lin[..., 1] + 0.0722 * lin[..., 2])
    v = np.log(lin[..., 1] / lin[..., 2])
    c = core[y0:y1, x0:x1]
    q25, mv, q75 = np.percentile(v[c], [25, 50, 75])
    sv = max(float(q75 - q25) / 1.349, 0.05)
    dark = logy < _shading_fit(logy, c) - MAX_DARKER_LN
    density = cv2.GaussianBlur(dark.astype(np.float32), (0, 0), HAIR_DENSITY_SIGMA * eye_span)
    hair = density > HAIR_DENSITY
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dark.astype(np.uint8), connectivity=8)
    big = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= (MAX_SPOT_SHARE * eye_span) ** 2) + 1
    hair |= np.isin(labels, big)
    # Blonde, brown and red hair is more yellow (ln G/B) than the skin it lies on; redder
    # skin is not (blood lowers G), so a redness is never taken for hair.
    yellow = (v - mv) > max(YELLOWNESS_K * sv, MIN_YELLOW_EXCESS)
    hair |= cv2.GaussianBlur(yellow.astype(np.float32), (0, 0), HAIR_DENSITY_SIGMA * eye_span) > HAIR_DENSITY
    ok = ~hair & ~yellow & ((mv - v) <= YELLOWNESS_K * sv + PINK_ALLOWANCE)
    # Tidy: drop specks left between hairs.
    r = max(1, round(0.01 * eye_span))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    ok = cv2.morphologyEx(ok.astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool)
    out = np.zeros_like(inside)
    out[y0:y1, x0:x1] = ok
    return inside & out


def face_regions(srgb: np.ndarray, points_xy: np.ndarray) -> FaceRegions:
    """The eight anatomical regions of a face.

    Parameters
    ----------
    srgb : np.ndarray
        (h, w, 3) float32 sRGB in [0, 1]: the image the landmarks refer to.
    points_xy : np.ndarray
        (468, 2) landmark positions in that image's pixels.

    Returns
    -------
    FaceRegions
    """
    if srgb.ndim != 3 or srgb.shape[2] != 3:
        raise ValueError(f"srgb must have shape (h, w, 3); got {srgb.shape}")
    pts = np.asarray(points_xy, dtype=np.float64)[:, :2]
    if pts.shape != (468, 2):
        raise ValueError(f"points_xy must have shape (468, 2); got {pts.shape}")
    full_shape = srgb.shape[:2]
    eye_span = float(np.linalg.norm(pts[263] - pts[33]))
    # Worked in the landmarks' box (grown by the widest pen below): the same pixels as on
    # the whole frame, at a fraction of the cost; the masks are put back on the frame's grid.
    box = _landmark_box(pts, full_shape, margin_px=FEATURE_MARGIN * eye_span + 4)
    offset = np.array([box[1].start, box[0].start], np.float64)
    pts = pts - offset
    srgb = srgb[box]
    shape = srgb.shape[:2]
    features = np.zeros(shape, bool)
    for mask in feature_masks(pts, shape, margin_px=FEATURE_MARGIN * eye_span).values():
        features |= mask

    polygons = {key: _fill(pts, _POLYGONS[key], shape) & ~features for key in REGION_KEYS}
    # The face's typical skin: the cheeks and the forehead shrunk well inside their outlines.
    core = np.zeros(shape, bool)
    for key in ("cheek_left", "cheek_right", "forehead", "nose"):
        core |= _fill(pts, _POLYGONS[key], shape, grow_px=-0.06 * eye_span) & polygons[key]
    inside = np.zeros(shape, bool)
    for mask in polygons.values():
        inside |= mask
    skin = _skin_like(srgb, inside, core, eye_span=eye_span)

    masks: dict[str, np.ndarray] = {}
    reasons: dict[str, str | None] = {}
    claimed = np.zeros(shape, bool)
    for key in REGION_KEYS:
        partner = _PARTNER.get(key)
        if partner is not None:
            own, other = _polygon_area(pts, _POLYGONS[key]), _polygon_area(pts, _POLYGONS[partner])
            if own < MIN_VISIBLE_SHARE * other:
                masks[key] = np.zeros(shape, bool)
                reasons[key] = "hidden: the head is turned away from the camera on this side"
                continue
        mask = polygons[key] & skin & ~claimed
        if int(np.count_nonzero(mask)) < MIN_SKIN_SHARE * max(1, int(np.count_nonzero(polygons[key]))):
            masks[key] = np.zeros(shape, bool)
            reasons[key] = "covered: hair or a beard hides most of this region's skin"
            continue
        masks[key] = mask
        claimed |= mask
        reasons[key] = None
    return FaceRegions(masks={k: _on_frame(m, box, full_shape) for k, m in masks.items()}, reasons=reasons,
                       features=_on_frame(features, box, full_shape))


def _landmark_box(points_xy: np.ndarray, shape: tuple[int, int], *, margin_px: float) -> tuple[slice, slice]:
    """The landmarks' bounding box grown by ``margin_px`` (whole pixels), inside the image."""
    m = int(np.ceil(margin_px))
    lo = np.floor(points_xy.min(axis=0)).astype(int) - m
    hi = np.ceil(points_xy.max(axis=0)).astype(int) + m + 1
    rows, cols = shape
    return slice(max(0, lo[1]), min(rows, max(0, hi[1]))), slice(max(0, lo[0]), min(cols, max(0, hi[0])))


def _on_frame(mask: np.ndarray, box: tuple[slice, slice], shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, bool)
    out[box] = mask
    return out
