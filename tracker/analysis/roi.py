"""Where to measure: the skin region of a photo, and the pixels that cannot be measured.

:func:`skin_region` finds skin by colour and keeps it whole: a region that
dropped red or pigmented skin would make every treatment look like an
improvement, so the classifier is deliberately one-sided (redder and darker
than the photo's typical skin is still skin) and the holes a spot or a line
leaves inside the skin are filled back in. What it removes is background,
hair at the edge of the skin, the colour chart (passed as ``exclude``) and
pixels whose values are clipped, crushed or specular (:func:`clipped_mask`).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage as ndi

from tracker.analysis.colour import srgb_to_linear
from tracker.analysis.holes import fill_holes

__all__ = ["channel_max_min", "clipped_mask", "skin_region"]

_WORK_SIDE = 320  # the skin classifier runs on a small copy: colour regions are large
_EPS = 0.002  # linear-light floor so log-chromaticity of near-black pixels stays finite
# Wide prior covering Fitzpatrick I-VI under ordinary light (u = ln R/G, v = ln G/B, linear light).
_PRIOR_U = (0.2, 1.8)  # ln R/G: even very fair skin has R/G > 1.25 in linear light; walls sit below
_PRIOR_V = (-0.5, 1.8)
_PRIOR_Y = (0.008, 0.95)
_K = 3.0  # robust standard deviations of tolerance around the photo's own skin colour
_RED_ALLOWANCE = 1.2  # ln R/G above the typical skin still counted as (red) skin
_PINK_ALLOWANCE = 0.6  # ln G/B below the typical skin still counted as (pink) skin
_SHADOW_YELLOWING = 0.3  # skin in shade is more saturated: ln G/B allowance per unit of ln darkness
_DARKER = 1.6  # ln luminance below the typical skin beyond which a pixel is not seed skin (hair, shadow)
_CLOSE_UP_BORDER = 0.6  # share of the frame edge that is skin above which the photo is a close-up
_CORE_RADIUS = 0.3  # (u, v) distance from the colour mode that defines the typical skin
# Width of the generic skin locus in (u, v) that weights the colour mode.
_LOCUS_WIDTH = 0.5
_MIN_PRIOR_SHARE = 0.2  # share of the usable centre in the skin prior needed to seed from the prior
# A declared close-up's skin under a cast: a region from the prior covering less than this share
# of the frame, away from its edges, is re-seeded from the frame's most common colour when that
# colour lies here (just below the prior's redness; neither blue nor green).
_MAX_ISLAND_SHARE = 0.5
_CAST_U = (-0.3, _PRIOR_U[0])
_CAST_V = (-0.3, 0.8)


def _check_srgb(srgb: object, name: str = "srgb") -> np.ndarray:
    if not isinstance(srgb, np.ndarray):
        raise TypeError(f"{name} must be a numpy array; got {type(srgb).__name__}")
    if srgb.ndim != 3 or srgb.shape[2] != 3 or srgb.shape[0] < 8 or srgb.shape[1] < 8:
        raise ValueError(f"{name} must have shape (h, w, 3) with h, w >= 8; got {srgb.shape}")
    if not np.issubdtype(srgb.dtype, np.floating):
        raise TypeError(f"{name} must be float in [0, 1]; got dtype {srgb.dtype}")
    return np.ascontiguousarray(srgb, dtype=np.float32)


def channel_max_min(srgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel max and min over the 3 channels of a float32 image.

    Through OpenCV's HSV conversion (V is the max, V * (1 - S) the min), which is
    ~10x faster than numpy's reduction over a 3-long last axis.
    """
    hsv = cv2.cvtColor(np.ascontiguousarray(srgb, dtype=np.float32), cv2.COLOR_RGB2HSV)
    mx = np.ascontiguousarray(hsv[:, :, 2])
    return mx, mx - hsv[:, :, 1] * mx


def clipped_mask(srgb: np.ndarray, *, high: float = 0.98, low: float = 0.02) -> np.ndarray:
    """Pixels that cannot be measured: a clipped or crushed channel, or a specular highlight.

    Parameters
    ----------
    srgb : np.ndarray
        (h, w, 3) float sRGB in [0, 1].
    high, low : float, keyword-only
        A channel >= ``high`` is clipped, <= ``low`` is crushed.

    Returns
    -------
    np.ndarray of bool, shape (h, w)
        True where unmeasurable, dilated by about 0.25 % of the short side
        (at least 1 px) because JPEG and demosaicing smear a clipped edge.
        Specular highlights are near-white (max channel >= 0.9, saturation
        <= 0.12) and at least 0.06 brighter than their surroundings.

    Examples
    --------
    >>> img = np.full((20, 20, 3), 0.5, np.float32)
    >>> img[10, 10] = 1.0
    >>> m = clipped_mask(img)
    >>> bool(m[10, 10]), bool(m[10, 11]), bool(m[0, 0])
    (True, True, False)
    """
    srgb = _check_srgb(srgb)
    if not (0.0 < low < high <= 1.0):
        raise ValueError(f"need 0 < low < high <= 1; got low={low}, high={high}")
    hsv = cv2.cvtColor(srgb, cv2.COLOR_RGB2HSV)
    # Contiguous planes: whole-image comparisons on them are twice as fast as on strided views.
    mx = np.ascontiguousarray(hsv[:, :, 2])
    sat = np.ascontiguousarray(hsv[:, :, 1])  # (max - min) / max
    darkest = np.multiply(sat, mx)
    bad = (mx >= high) | (np.subtract(mx, darkest, out=darkest) <= low)
    h, w = mx.shape
    # Specular: near-white and a local bright bump (a large-scale bright area is not a highlight).
    candidates = (mx >= 0.9) & (sat <= 0.12)
    if candidates.any():
        background = _smooth(mx, sigma_fraction=0.03)
        bad |= candidates & (np.subtract(mx, background, out=background) >= 0.06)
    r = max(1, round(0.0025 * min(h, w)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    # bool as 0/1 bytes both ways: dilating 0/1 gives 0/1, no copies.
    dilated: np.ndarray = cv2.dilate(bad.view(np.uint8), kernel).view(bool)
    return dilated


def skin_region(srgb: np.ndarray, *, exclude: np.ndarray | None = None, close_up: bool = False) -> np.ndarray:
    """The skin to measure: skin-coloured, connected, holes filled, unmeasurable pixels removed.

    Parameters
    ----------
    srgb : np.ndarray
        (h, w, 3) float sRGB in [0, 1].
    exclude : np.ndarray of bool, shape (h, w), optional, keyword-only
        Pixels that must not be measured whatever their colour (the colour chart).
    close_up : bool, keyword-only
        The photo was declared a close-up: skin to the frame's edges. A region that is an
        island inside the frame is then re-seeded from the frame's most common colour.

    Returns
    -------
    np.ndarray of bool, shape (h, w)

    Notes
    -----
    Skin colour is modelled in log-chromaticity of linear light
    (u = ln R/G, v = ln G/B), which ignores exposure. A wide prior covering
    Fitzpatrick I-VI finds seed pixels, weighted towards the centre of the
    frame; the photo's own typical skin colour (median, robust spread) is
    taken from them, or from the centre of the frame when the white balance
    pushed the skin outside the prior (a close-up that is all skin). Pixels are
    kept when their yellowness v is within 3 robust standard deviations and
    their redness u is anywhere from 3 deviations below to 1.2 above the
    typical skin: redder skin is never dropped. The largest central connected
    parts are kept and their holes filled, so spots, scars and lines inside
    the skin stay in the region.

    Examples
    --------
    >>> img = np.zeros((64, 64, 3), np.float32) + np.float32([0.2, 0.4, 0.6])  # blue background
    >>> img[16:48, 16:48] = [0.8, 0.6, 0.5]  # skin
    >>> img[30:34, 30:34] = [0.35, 0.2, 0.15]  # a dark spot inside the skin
    >>> m = skin_region(img)
    >>> bool(m[32, 32]), bool(m[20, 20]), bool(m[2, 2])
    (True, True, False)
    """
    srgb = _check_srgb(srgb)
    h, w = srgb.shape[:2]
    if exclude is not None:
        exclude = np.asarray(exclude)
        if exclude.shape != (h, w):
            raise ValueError(f"exclude must have shape {(h, w)} like srgb; got {exclude.shape}")
        if exclude.dtype != bool:
            raise TypeError(f"exclude must be a bool array; got dtype {exclude.dtype}")

    factor = min(1.0, _WORK_SIDE / max(h, w))
    size = (max(8, round(w * factor)), max(8, round(h * factor)))
    full_unusable = clipped_mask(srgb)
    if exclude is not None:
        full_unusable = full_unusable | exclude
    small = cv2.resize(srgb, size, interpolation=cv2.INTER_AREA)
    unusable = cv2.resize(full_unusable.astype(np.uint8), size, interpolation=cv2.INTER_AREA) > 0
    small_exclude = (
        cv2.resize(exclude.astype(np.uint8), size, interpolation=cv2.INTER_AREA) > 0
        if exclude is not None
        else np.zeros(unusable.shape, bool)
    )
    sh, sw = small.shape[:2]

    lin = srgb_to_linear(small) + np.float32(_EPS)
    u = np.log(lin[:, :, 0] / lin[:, :, 1])
    v = np.log(lin[:, :, 1] / lin[:, :, 2])
    logy = np.log(0.2126 * lin[:, :, 0] + 0.7152 * lin[:, :, 1] + 0.0722 * lin[:, :, 2])

    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    centre = np.exp(-(((xx - sw / 2) / (0.25 * sw)) ** 2 + ((yy - sh / 2) / (0.25 * sh)) ** 2) / 2)

    usable = ~unusable & (logy >= np.log(_PRIOR_Y[0])) & (logy <= np.log(_PRIOR_Y[1]))
    prior = usable & (u >= _PRIOR_U[0]) & (u <= _PRIOR_U[1]) & (v >= _PRIOR_V[0]) & (v <= _PRIOR_V[1])
    central = centre > 0.3
    # Trust the prior when it holds a fair share of the usable centre; a portrait's face
    # may fill only a third of it, between a wall and clothing outside the prior
    # (measured: simulated portrait 0.33, real faces 0.68-0.93, a badly white-balanced
    # close-up 0.11).
    if (prior & central).sum() >= _MIN_PRIOR_SHARE * max(1, (usable & central).sum()):
        seeds = prior
        u_floor = _PRIOR_U[0]  # colours are plausible: nothing greyer than any skin is skin
    else:
        seeds = usable  # white balance moved skin out of the prior: trust the centre of the frame
        u_floor = -np.inf
    if (seeds & central).sum() < 16:
        return np.zeros((h, w), dtype=bool)
    skin = _grown(u, v, logy, usable, small_exclude, _dominant_colour(u, v, seeds, centre), u_floor, centre)
    if close_up and _border_fraction(skin) < _CLOSE_UP_BORDER and skin.mean() < _MAX_ISLAND_SHARE:
        # A declared close-up is skin to the frame's edges. A small island seeded from the prior
        # is a lesion that kept a skin-like colour while a cast (a grey or green white balance)
        # took the skin around it just out of the prior: the skin is then the frame's most common
        # colour, when that colour is such a cast (a blue or green cloth is not).
        # (Real smartphone close-ups: a naevus and a carcinoma photo measured the lesion alone.)
        core = _dominant_colour(u, v, usable, np.ones_like(centre), locus=False)
        cast_u, cast_v = float(np.median(u[core])), float(np.median(v[core]))
        if _CAST_U[0] <= cast_u <= _CAST_U[1] and _CAST_V[0] <= cast_v <= _CAST_V[1]:
            around = _grown(u, v, logy, usable, small_exclude, core, -np.inf, centre)
            if _border_fraction(around) >= _CLOSE_UP_BORDER and around.sum() > skin.sum():
                skin = _fill_holes(around | skin, close_up=True) & ~small_exclude

    skin = cv2.resize(skin.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) >= 0.5
    return skin & ~full_unusable


def _grown(
    u: np.ndarray, v: np.ndarray, logy: np.ndarray, usable: np.ndarray, small_exclude: np.ndarray,
    core: np.ndarray, u_floor: float, centre: np.ndarray,
) -> np.ndarray:
    """Skin around the typical colour of ``core``: one-sided tolerances, cleaned, holes filled."""
    mu, su = _robust_centre_spread(u[core])
    mv, sv = _robust_centre_spread(v[core])
    my = float(np.median(logy[core]))
    su, sv = max(su, 0.05), max(sv, 0.05)
    skin = (
        usable
        & (u >= max(mu - _K * su, u_floor))
        & (u <= mu + max(_K * su, _RED_ALLOWANCE))
        & (v <= mv + _K * sv + _SHADOW_YELLOWING * np.maximum(my - logy, 0.0))
        & (v >= mv - _K * sv - _PINK_ALLOWANCE)
    )
    close_up = _border_fraction(skin) >= _CLOSE_UP_BORDER
    if not close_up:
        # In a wider view, much darker skin-hued pixels at the edge of the skin are hair
        # or shadow; dark spots inside the skin come back with the holes filled below.
        skin &= logy >= my - _DARKER

    sh, sw = skin.shape
    r = max(1, round(0.01 * max(sh, sw)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    skin = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool)
    skin = _central_components(skin, centre)
    skin = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_CLOSE, kernel).astype(bool)
    # Fill holes ignoring the chart, then take the chart out again.
    skin = _fill_holes(skin | (small_exclude & ndi.binary_dilation(skin, iterations=2)), close_up=close_up)
    skin &= ~small_exclude
    return skin


def _dominant_colour(
    u: np.ndarray, v: np.ndarray, seeds: np.ndarray, centre: np.ndarray, *, locus: bool = True
) -> np.ndarray:
    """Seed pixels near the centre-weighted mode of (u, v): the photo's typical skin colour."""
    bins = 0.05
    # A soft generic skin-locus weight keeps a large uniform background (yellow bokeh,
    # a wall) from outvoting the more varied skin near the centre.
    weight = centre
    if locus:
        weight = centre * np.exp(-0.5 * (((u - 0.8) / _LOCUS_WIDTH) ** 2 + ((v - 0.35) / _LOCUS_WIDTH) ** 2))
    uu, vv, ww = u[seeds], v[seeds], weight[seeds]
    lo_u, lo_v = float(uu.min()), float(vv.min())
    iu = ((uu - lo_u) / bins).astype(np.int32)
    iv = ((vv - lo_v) / bins).astype(np.int32)
    hist = np.zeros((iu.max() + 1, iv.max() + 1), np.float64)
    np.add.at(hist, (iu, iv), ww)
    hist = ndi.gaussian_filter(hist, 2.0)
    pu, pv = np.unravel_index(int(np.argmax(hist)), hist.shape)
    mode_u, mode_v = lo_u + (pu + 0.5) * bins, lo_v + (pv + 0.5) * bins
    core = seeds & (np.hypot(u - mode_u, v - mode_v) <= _CORE_RADIUS) & (centre > 0.05)
    return core if core.sum() >= 16 else seeds


def _border_fraction(mask: np.ndarray) -> float:
    return float(np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]]).mean())


def _fill_holes(mask: np.ndarray, *, close_up: bool) -> np.ndarray:
    """Fill holes; in a close-up (frame edge mostly skin) the frame edge closes them too.

    A dark lesion cut by the frame edge is then still surrounded (by skin and the
    edge) and kept, which is what a close-up of a treated spot needs.
    """
    if close_up:
        return fill_holes(np.pad(mask, 1, constant_values=True))[1:-1, 1:-1]
    return fill_holes(mask)


def _robust_centre_spread(values: np.ndarray) -> tuple[float, float]:
    q25, q50, q75 = np.percentile(values, [25, 50, 75])
    return float(q50), float((q75 - q25) / 1.349)


def _central_components(mask: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Keep the component with the most centre-weighted area, and any at least a quarter as big."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return mask
    weight = np.bincount(labels.ravel(), weights=centre.ravel(), minlength=count)[1:]
    area = np.bincount(labels.ravel(), minlength=count)[1:]
    best = weight.max()
    keep = np.flatnonzero((weight >= 0.25 * best) & (area >= 0.01 * mask.size)) + 1
    if keep.size == 0:
        keep = np.array([int(np.argmax(weight)) + 1])
    return np.isin(labels, keep)


def _smooth(channel: np.ndarray, *, sigma_fraction: float) -> np.ndarray:
    """Large-scale Gaussian smoothing computed on a downscaled copy (full-size blur costs seconds)."""
    h, w = channel.shape
    factor = min(1.0, 256 / max(h, w))
    small = cv2.resize(channel, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)
    sigma = max(1.0, sigma_fraction * max(small.shape))
    blurred = cv2.GaussianBlur(small, (0, 0), sigma)
    return cv2.resize(blurred, (w, h), interpolation=cv2.INTER_LINEAR)
