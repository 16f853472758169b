"""Overlays for people: redness heat map, spot outlines, line map; PNG encoding.

Every overlay is a uint8 RGB image of the photo's size. Heat maps use fixed
colour scales (never stretched per image), so the overlays of two photos of a
series can be compared side by side: the same colour means the same EI.
"""

from __future__ import annotations

import cv2
import numpy as np

#: EI mapped to the ends of the redness colour scale, EI units. 10 is pale
#: skin, 50 strongly inflamed; values outside are clamped.
EI_COLOUR_SCALE: tuple[float, float] = (10.0, 50.0)

#: Ridge strength mapped to the ends of the line colour scale, ln units
#: (see :class:`tracker.analysis.texture.TextureMeasure`). Strength below the
#: lower end is left transparent.
LINE_COLOUR_SCALE: tuple[float, float] = (0.006, 0.04)

#: Opacity of the redness heat map over the grey photo, in [0, 1].
HEAT_ALPHA: float = 0.6

#: Outline colour of pigment spots (RGB): cyan reads well on every skin tone.
SPOT_COLOUR: tuple[int, int, int] = (0, 255, 255)

#: Colour of lines (RGB).
LINE_COLOUR: tuple[int, int, int] = (0, 200, 255)


#: The inferno colour map as 256 RGB rows, float in [0, 1].
_INFERNO: np.ndarray = (
    cv2.applyColorMap(np.arange(256, dtype=np.uint8).reshape(-1, 1), cv2.COLORMAP_INFERNO)[:, 0, ::-1].astype(np.float32) / 255.0
)


#: The same map as 8-bit RGB, one table per channel (for cv2.LUT on a 3-channel index).
_INFERNO_U8: np.ndarray = np.rint(_INFERNO * 255.0).astype(np.uint8).reshape(256, 1, 3)


def _check_srgb(srgb: np.ndarray) -> np.ndarray:
    """sRGB photo as float32 in [0, 1]; accepts float in [0, 1] or uint8."""
    if not isinstance(srgb, np.ndarray):
        raise TypeError(f"srgb must be a numpy array, got {type(srgb).__name__}")
    if srgb.ndim != 3 or srgb.shape[2] != 3:
        raise ValueError(f"srgb must have shape (H, W, 3), got {srgb.shape}")
    if srgb.dtype == np.uint8:
        return srgb.astype(np.float32) / 255.0
    if not np.issubdtype(srgb.dtype, np.floating):
        raise TypeError(f"srgb must be float in [0, 1] or uint8, got dtype {srgb.dtype}")
    return np.clip(srgb, 0.0, 1.0).astype(np.float32, copy=False)


def _check_plane(array: np.ndarray, shape: tuple[int, int], name: str, *, boolean: bool) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(array).__name__}")
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    if boolean and array.dtype != bool:
        raise TypeError(f"{name} must be a boolean mask, got dtype {array.dtype}")
    if not boolean and not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"{name} must be a float array, got dtype {array.dtype}")
    return array


#: Grey of the photo for the overlays: compressed luma, lifted (keeps colour for the overlay).
_GREY_ROW = np.array([[0.299 * 0.7, 0.587 * 0.7, 0.114 * 0.7, 0.15]], np.float32)


def _to_uint8(rgb: np.ndarray) -> np.ndarray:
    # The steps of np.clip(np.rint(rgb * 255.0), 0, 255) in one buffer.
    scaled = np.multiply(rgb, 255.0)
    np.rint(scaled, out=scaled)
    np.clip(scaled, 0, 255, out=scaled)
    return scaled.astype(np.uint8)


def ei_colours(ei: np.ndarray) -> np.ndarray:
    """RGB colours (float in [0, 1], shape (..., 3)) of EI values on the fixed :data:`EI_COLOUR_SCALE`.

    Useful for drawing the legend beside the overlay.

    >>> ei_colours(np.array([10.0, 50.0])).shape
    (2, 3)
    """
    lo, hi = EI_COLOUR_SCALE
    t = np.clip((np.nan_to_num(np.asarray(ei, np.float32), nan=lo) - lo) / (hi - lo), 0.0, 1.0)
    return _INFERNO[np.rint(t * 255).astype(np.uint8)]


def redness_overlay(srgb: np.ndarray, erythema_map: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Erythema heat map over a grey version of the photo.

    Parameters
    ----------
    srgb : ndarray, shape (H, W, 3), float in [0, 1] or uint8
        The photo, display-encoded.
    erythema_map : ndarray, shape (H, W), float
        EI per pixel (see :func:`tracker.analysis.redness.erythema_index`); NaN
        shows as plain grey.
    region : ndarray, shape (H, W), bool
        Where the heat map is drawn; elsewhere the grey photo shows.

    Returns
    -------
    ndarray, shape (H, W, 3), uint8
        RGB image; colours follow the fixed :data:`EI_COLOUR_SCALE` (inferno:
        dark purple = EI 10, orange = 35, pale yellow = 50).
    """
    srgb = _check_srgb(srgb)
    shape = srgb.shape[:2]
    erythema_map = _check_plane(erythema_map, shape, "erythema_map", boolean=False)
    region = _check_plane(region, shape, "region", boolean=True)
    # The grey's three channels are equal: rounded once, then copied.
    level_grey = _to_uint8(cv2.transform(srgb, _GREY_ROW))
    grey = cv2.merge([level_grey, level_grey, level_grey])
    # The opacity is HEAT_ALPHA or 0: blend everywhere in 8 bits, keep the blend inside.
    lo, hi = EI_COLOUR_SCALE
    clamped = np.nan_to_num(erythema_map, nan=lo)
    np.clip(clamped, lo, hi, out=clamped)
    level = cv2.convertScaleAbs(clamped, alpha=255.0 / (hi - lo), beta=-255.0 * lo / (hi - lo))
    heat = cv2.LUT(cv2.merge([level, level, level]), _INFERNO_U8)
    out = grey.copy()
    blend = cv2.addWeighted(grey, 1.0 - HEAT_ALPHA, heat, HEAT_ALPHA, 0.0)
    # cv2.copyTo is np.copyto(out, blend, where=inside[..., None]) without numpy's broadcast of the mask.
    inside = (region & np.isfinite(erythema_map)).view(np.uint8)
    out = cv2.copyTo(blend, inside, out)
    return out


def spot_overlay(srgb: np.ndarray, spot_mask: np.ndarray) -> np.ndarray:
    """Outlines of pigment spots drawn on the photo.

    Parameters
    ----------
    srgb : ndarray, shape (H, W, 3), float in [0, 1] or uint8
        The photo, display-encoded.
    spot_mask : ndarray, shape (H, W), bool
        Spot pixels (see :class:`tracker.analysis.pigment.PigmentMeasure`).

    Returns
    -------
    ndarray, shape (H, W, 3), uint8
        The photo in colour with each spot outlined in :data:`SPOT_COLOUR` over
        a thin dark halo, line width ~1/500 of the image size (at least 1 px).
    """
    srgb = _check_srgb(srgb)
    spot_mask = _check_plane(spot_mask, srgb.shape[:2], "spot_mask", boolean=True)
    out = _to_uint8(srgb)
    width = max(1, round(max(srgb.shape[:2]) / 500))
    # Outline just outside the spot, so the spot's own pixels stay visible.
    grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 3,) * 2)
    outside = cv2.dilate(spot_mask.astype(np.uint8), grow)
    contours, _ = cv2.findContours(outside, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, (0, 0, 0), width + 2, lineType=cv2.LINE_8)
    cv2.drawContours(out, contours, -1, SPOT_COLOUR, width, lineType=cv2.LINE_8)
    return out


def line_overlay(srgb: np.ndarray, line_map: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Fine lines and wrinkles highlighted over a grey version of the photo.

    Parameters
    ----------
    srgb : ndarray, shape (H, W, 3), float in [0, 1] or uint8
        The photo, display-encoded.
    line_map : ndarray, shape (H, W), float
        Ridge strength, ln units (see :class:`tracker.analysis.texture.TextureMeasure`).
    region : ndarray, shape (H, W), bool
        Where lines are drawn.

    Returns
    -------
    ndarray, shape (H, W, 3), uint8
        Grey photo with lines in :data:`LINE_COLOUR`, opacity proportional to
        strength on the fixed :data:`LINE_COLOUR_SCALE` (transparent below its
        lower end, opaque at its upper end).
    """
    srgb = _check_srgb(srgb)
    shape = srgb.shape[:2]
    line_map = _check_plane(line_map, shape, "line_map", boolean=False)
    region = _check_plane(region, shape, "region", boolean=True)
    lo, hi = LINE_COLOUR_SCALE
    # np.clip((line_map - lo) / (hi - lo), 0, 1) with NaN as 0 and nothing outside the region, in one buffer.
    alpha = np.nan_to_num(line_map, nan=0.0)
    alpha -= lo
    alpha /= hi - lo
    np.clip(alpha, 0.0, 1.0, out=alpha)
    alpha[~region] = 0.0
    alpha = alpha.astype(np.float32, copy=False)
    colour = np.array(LINE_COLOUR, np.float32) / 255.0
    # (1 - alpha) * grey + alpha * colour, channel by channel: the same float32 products and
    # sums as numpy's broadcast over the channel axis, without it.
    grey = cv2.transform(srgb, _GREY_ROW)
    keep = np.subtract(np.float32(1.0), alpha)
    base = cv2.multiply(keep, grey)
    out = cv2.merge([cv2.add(base, np.multiply(alpha, c)) for c in colour])
    return _to_uint8(out)


def encode_png(rgb_uint8: np.ndarray) -> bytes:
    """PNG bytes of an RGB uint8 image (no metadata).

    >>> encode_png(np.zeros((2, 2, 3), np.uint8))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    if not isinstance(rgb_uint8, np.ndarray):
        raise TypeError(f"rgb_uint8 must be a numpy array, got {type(rgb_uint8).__name__}")
    if rgb_uint8.dtype != np.uint8:
        raise TypeError(f"rgb_uint8 must be uint8, got dtype {rgb_uint8.dtype}")
    if rgb_uint8.ndim != 3 or rgb_uint8.shape[2] != 3:
        raise ValueError(f"rgb_uint8 must have shape (H, W, 3), got {rgb_uint8.shape}")
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb_uint8[..., ::-1]))
    if not ok:
        raise ValueError("rgb_uint8 could not be encoded as PNG")
    return buf.tobytes()
