"""Colour and light calibration of one photo, from the best reference it holds.

Order of preference:

1. a ColorChecker chart (found automatically, or from corners marked by the
   technician): full colour correction with a planar illumination term, and the
   scale in mm per pixel from the chart's known size;
2. a grey card (corners marked): von Kries scaling in Bradford cone space from
   the card's linear mean, which also fixes exposure;
3. nothing: exposure normalisation and an achromatic (luminance-only) planar
   illumination correction, estimated away from the skin when a skin mask is
   given; the result is marked uncalibrated.

No step ever matches skin statistics to anything: a normalisation fitted to the
skin would erase the very change the clinic wants to see. Every correction comes
from a reference or is achromatic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from tracker.analysis.chart import (
    MAX_ACCEPTED_DELTA_E,
    ChartDetection,
    ColourCorrection,
    detect_chart,
    fit_colour_correction,
    normalised_coordinates,
)
from tracker.analysis.chart_reference import CHART_SIZES_MM, DEFAULT_CHART, NEUTRAL_PATCHES
from tracker.analysis.colour import XYZ_FROM_LINEAR, srgb_to_linear

__all__ = [
    "Calibration",
    "calibrate",
    "CHART_TARGET_DELTA_E_MEAN",
    "CHART_TARGET_DELTA_E_MAX",
    "UNCALIBRATED_TARGET_LUMINANCE",
]

#: Quality gate for a chart correction (CIEDE2000 of the patches after correction).
CHART_TARGET_DELTA_E_MEAN = 2.0
CHART_TARGET_DELTA_E_MAX = 4.0
#: Without a reference, the median luminance of the reference region is scaled to this (mid grey).
UNCALIBRATED_TARGET_LUMINANCE = 0.18
#: A grey card's assumed reflectance (the common 18 % card).
DEFAULT_GREY_CARD_REFLECTANCE = 0.18

# Illumination fields are smooth: estimate them on this long side (px), never at 12 MP.
_FIELD_LONG_SIDE = 256
# Exposure gain without a reference is kept within this factor either way.
_MAX_UNCALIBRATED_GAIN = 4.0
_LUMA = np.array([0.2126, 0.7152, 0.0722])

# The Bradford cone response matrix (XYZ to LMS).
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


@dataclass(frozen=True)
class Calibration:
    """A photo's calibrated linear image and how it was obtained.

    Attributes
    ----------
    method : str
        "colour_chart", "grey_card" or "none".
    calibrated : bool
        True when colour came from a reference in the frame (chart or grey card).
    linear : ndarray, shape (H, W, 3), float32
        Corrected linear RGB of the whole image (>= 0; may exceed 1 where the
        photo was brighter than the reference white).
    chart_delta_e_mean, chart_delta_e_max : float or None
        CIEDE2000 of the chart patches after correction (None without a chart).
    mm_per_px : float or None
        Scale at the chart's plane from its known size; None without a chart.
    chart_mask : ndarray of bool, shape (H, W), or None
        The chart and its frame, to keep out of regions and alignment.
    chart_corners : ndarray, shape (4, 2), or None
        Patch grid corners TL, TR, BR, BL ("dark skin" at TL), image px.
    notes : tuple of str
        Plain-language remarks for the technician.
    correction : ColourCorrection or None
        The fitted chart correction.
    exposure_gain : float
        Overall gain applied to linear light (grey card / uncalibrated paths; 1 for charts,
        whose matrix includes it).
    illumination : tuple of float
        Planar illumination term (a, b) over normalised coordinates (u, v) in [-1, 1]
        that was divided out: light proportional to 1 + a*u + b*v (chart) or
        exp(a*u + b*v) (achromatic estimate without a reference).
    chart : ChartDetection or None
        The chart the correction was fitted to (its raw patch values feed the
        chromophore inversion's camera response).
    light_cct_k : float or None
        Apparent colour temperature (K, McCamy) of the light from the neutral
        reference as the camera recorded it, before correction. A chart corrects
        colour, but not skin-vs-chart metamerism: two photos whose lights differ by
        thousands of kelvin are less comparable. A camera that white-balanced the
        light away reads near 6500 K whatever the light. None without a reference.
    """

    method: str
    calibrated: bool
    linear: np.ndarray
    chart_delta_e_mean: float | None
    chart_delta_e_max: float | None
    mm_per_px: float | None
    chart_mask: np.ndarray | None
    chart_corners: np.ndarray | None
    notes: tuple[str, ...]
    correction: ColourCorrection | None = None
    exposure_gain: float = 1.0
    illumination: tuple[float, float] = (0.0, 0.0)
    light_cct_k: float | None = None
    chart: ChartDetection | None = None


def calibrate(
    srgb: np.ndarray,
    *,
    chart_corners: np.ndarray | None = None,
    grey_card_corners: np.ndarray | None = None,
    chart_model: str = DEFAULT_CHART,
    skin_mask: np.ndarray | None = None,
    grey_card_reflectance: float = DEFAULT_GREY_CARD_REFLECTANCE,
    codes: np.ndarray | None = None,
) -> Calibration:
    """Calibrate a photo's colour and light from the best reference in it.

    Parameters
    ----------
    srgb : ndarray, shape (H, W, 3)
        Display-encoded RGB in [0, 1], float.
    chart_corners : ndarray, shape (4, 2), optional
        Patch grid corners (TL, TR, BR, BL, "dark skin" at TL; image px) when
        automatic detection fails; automatic detection is tried when these fit badly.
    grey_card_corners : ndarray, shape (4, 2), optional
        Corners of a grey card in the frame (any order around the card), used
        when there is no usable chart.
    chart_model : str
        A key of ``chart_reference.CHART_SIZES_MM`` ("mini" or "classic"): the
        chart's physical size, for ``mm_per_px``.
    skin_mask : ndarray of bool, shape (H, W), optional
        Skin pixels. Used only without a reference, to estimate exposure and the
        illumination gradient from everything *but* the skin.
    grey_card_reflectance : float
        The grey card's reflectance in (0, 1) (0.18 for the common card).
    codes : ndarray, shape (H, W, 3), uint8 or uint16, optional
        The same pixels as ``srgb`` as integer code values (``DecodedImage.codes``):
        decoding to linear light and the chart's tone curve then go through lookup
        tables, the same values several times faster.

    Returns
    -------
    Calibration
        Never raises for a photo without a usable reference: that is
        ``method="none"``, ``calibrated=False`` with a note.
    """
    srgb = _check_srgb(srgb)
    if chart_model not in CHART_SIZES_MM:
        raise ValueError(f"chart_model: {chart_model!r} is not one of {tuple(CHART_SIZES_MM)}")
    if skin_mask is not None:
        skin_mask = np.asarray(skin_mask)
        if skin_mask.shape != srgb.shape[:2]:
            raise ValueError(f"skin_mask: shape {skin_mask.shape} differs from the image's {srgb.shape[:2]}")
        skin_mask = skin_mask.astype(bool)
    if not (0.0 < float(grey_card_reflectance) < 1.0):
        raise ValueError(f"grey_card_reflectance: expected a value in (0, 1), got {grey_card_reflectance}")
    if codes is not None and (codes.shape != srgb.shape or codes.dtype not in (np.uint8, np.uint16)):
        raise ValueError(f"codes: expected uint8 or uint16 of shape {srgb.shape}, got {codes.dtype} {codes.shape}")
    notes: list[str] = []
    chart = _from_chart(srgb, chart_corners, chart_model, notes, codes=codes)
    if chart is not None:
        return chart
    linear = srgb_to_linear(srgb if codes is None else codes)
    if grey_card_corners is not None:
        card = _from_grey_card(linear, grey_card_corners, float(grey_card_reflectance), notes)
        if card is not None:
            return card
    return _uncalibrated(linear, skin_mask, notes)


def uncalibrated(srgb: np.ndarray, *, skin_mask: np.ndarray | None = None) -> Calibration:
    """The reference-free correction only (exposure and achromatic gradient), chart or not.

    Used when one photo of a pair has a chart and the other has none: both are then
    processed the same way, so their figures compare (a chart-corrected photo against
    a camera-colour one would differ by the camera's own colour rendering).
    """
    srgb = _check_srgb(srgb)
    if skin_mask is not None:
        skin_mask = np.asarray(skin_mask, dtype=bool)
        if skin_mask.shape != srgb.shape[:2]:
            raise ValueError(f"skin_mask: shape {skin_mask.shape} differs from the image's {srgb.shape[:2]}")
    return _uncalibrated(srgb_to_linear(srgb), skin_mask, [])


# ----------------------------------------------------------------------------- chart


def _detections(
    srgb: np.ndarray, corners: np.ndarray | None, notes: list[str], *, codes: np.ndarray | None = None
) -> Iterator[ChartDetection]:
    """Marked corners first (the technician's word), then automatic detection."""
    if corners is not None:
        marked = detect_chart(srgb, corners=corners)  # always a detection with corners
        if marked is not None:
            yield marked
    det = detect_chart(srgb, codes=codes)
    if det is None:
        notes.append("no colour chart found in the frame")
    else:
        yield det


def _from_chart(
    srgb: np.ndarray, corners: np.ndarray | None, chart_model: str, notes: list[str],
    *, codes: np.ndarray | None = None,
) -> Calibration | None:
    for det in _detections(srgb, corners, notes, codes=codes):
        try:
            corr = fit_colour_correction(det, image_shape=srgb.shape[:2])
        except ValueError:
            try:  # a 3x3 needs fewer patches than the root-polynomial
                corr = fit_colour_correction(det, image_shape=srgb.shape[:2], model="linear_planar", tone="none")
                notes.append(f"chart ({det.source}): few usable patches, simple 3x3 correction")
            except ValueError:
                notes.append(f"chart ({det.source}): too few usable patches (clipped, crushed or out of frame)")
                continue
        if corr.delta_e_mean <= MAX_ACCEPTED_DELTA_E:
            # Code values go to corrected light through lookup tables, with no camera-linear copy.
            linear = srgb_to_linear(srgb) if codes is None else None
            return _chart_result(linear, det, corr, chart_model, notes, codes=codes)
        notes.append(
            f"chart ({det.source}) rejected: mean error {corr.delta_e_mean:.1f} > {MAX_ACCEPTED_DELTA_E:g}, not a chart"
        )
    return None


def _chart_result(
    linear: np.ndarray | None, det: ChartDetection, corr: ColourCorrection, chart_model: str, notes: list[str],
    *, codes: np.ndarray | None = None,
) -> Calibration:
    if det.source == "corners":
        notes.append("chart from marked corners")
    excluded = int(det.patch_clipped.sum())
    if excluded:
        notes.append(f"{excluded} chart patches clipped, crushed or out of frame: left out of the fit")
    if corr.delta_e_mean > CHART_TARGET_DELTA_E_MEAN or corr.delta_e_max > CHART_TARGET_DELTA_E_MAX:
        notes.append(
            f"chart error above target (mean {corr.delta_e_mean:.1f} > {CHART_TARGET_DELTA_E_MEAN:g}"
            f" or max {corr.delta_e_max:.1f} > {CHART_TARGET_DELTA_E_MAX:g})"
        )
    mm_per_px, aspect_note = _mm_per_px(det.corners, chart_model)
    if aspect_note:
        notes.append(aspect_note)
    return Calibration(
        method="colour_chart",
        calibrated=True,
        linear=corr.apply(linear, codes=codes),
        chart_delta_e_mean=corr.delta_e_mean,
        chart_delta_e_max=corr.delta_e_max,
        mm_per_px=mm_per_px,
        chart_mask=det.chart_mask,
        chart_corners=det.corners,
        notes=tuple(notes),
        correction=corr,
        illumination=corr.illumination,
        light_cct_k=_apparent_cct(det.patch_linear[[k for k in NEUTRAL_PATCHES if not det.patch_clipped[k]]]),
        chart=det,
    )


def _mm_per_px(corners: np.ndarray, chart_model: str) -> tuple[float, str | None]:
    """Scale from the patch grid's edges: the 6-patch edges are the width, the 4-patch ones the height."""
    width_mm, height_mm = CHART_SIZES_MM[chart_model]
    tl, tr, br, bl = np.asarray(corners, dtype=np.float64)
    width_px = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height_px = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    seen, expected = width_px / height_px, width_mm / height_mm
    note = None
    if abs(seen / expected - 1.0) > 0.15:
        note = (
            f"chart proportions {seen:.2f} differ from the {chart_model} chart's {expected:.2f}:"
            " tilted chart or another model, scale uncertain"
        )
    return float((width_mm / width_px + height_mm / height_px) / 2), note


def _apparent_cct(neutrals: np.ndarray) -> float | None:
    """McCamy's CCT of the mean chromaticity of neutral patches' camera linear RGB (read as sRGB)."""
    neutrals = np.asarray(neutrals, dtype=np.float64).reshape(-1, 3)
    if len(neutrals) == 0:
        return None
    xyz = neutrals @ XYZ_FROM_LINEAR.T
    total = xyz.sum(axis=1, keepdims=True)
    ok = total[:, 0] > 1e-6
    if not ok.any():
        return None
    x, y = (xyz[ok] / total[ok]).mean(axis=0)[:2]
    n = (x - 0.3320) / (0.1858 - y)
    return float(np.clip(449.0 * n**3 + 3525.0 * n**2 + 6823.3 * n + 5520.33, 1000.0, 25000.0))


# ----------------------------------------------------------------------------- grey card


def _from_grey_card(
    linear: np.ndarray, corners: np.ndarray, reflectance: float, notes: list[str]
) -> Calibration | None:
    corners = np.asarray(corners, dtype=np.float64)
    if corners.shape != (4, 2) or not np.all(np.isfinite(corners)):
        raise ValueError(f"grey_card_corners: expected shape (4, 2) of finite values, got {corners.shape}")
    # The card's inner half: clear of its edges and of a marking that is a few px off.
    centre = corners.mean(axis=0)
    inner = centre + 0.5 * (corners - centre)
    h, w = linear.shape[:2]
    hull = cv2.convexHull(np.round(inner * 16).astype(np.int32))
    mask = np.zeros((h, w), dtype=np.uint8)
    cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=4)
    pix = linear[mask.astype(bool)].astype(np.float64)
    if len(pix) < 25:
        notes.append("grey card too small or outside the frame: not used")
        return None
    ok = np.all((pix > 1e-4) & (pix < 0.98), axis=1)
    if ok.mean() < 0.9:
        notes.append(f"grey card {100 * (1 - ok.mean()):.0f} % clipped or crushed: not used")
        return None
    card = np.median(pix[ok], axis=0)
    # Diagonal scaling in Bradford cone space (von Kries), to a neutral of the card's reflectance.
    to_lms = _BRADFORD @ XYZ_FROM_LINEAR
    gains = (to_lms @ np.full(3, reflectance)) / (to_lms @ card)
    matrix = np.linalg.inv(to_lms) @ np.diag(gains) @ to_lms
    out = (linear.reshape(-1, 3) @ matrix.T.astype(np.float32)).reshape(linear.shape)
    notes.append("grey card: light colour and exposure corrected, colour rendering not checked (no chart)")
    return Calibration(
        method="grey_card",
        calibrated=True,
        linear=np.maximum(out, 0.0).astype(np.float32),
        chart_delta_e_mean=None,
        chart_delta_e_max=None,
        mm_per_px=None,
        chart_mask=None,
        chart_corners=None,
        notes=tuple(notes),
        exposure_gain=float(np.dot(_LUMA, matrix @ np.ones(3))),
        light_cct_k=_apparent_cct(card[None]),
    )


# ----------------------------------------------------------------------------- no reference


def _uncalibrated(linear: np.ndarray, skin_mask: np.ndarray | None, notes: list[str]) -> Calibration:
    h, w = linear.shape[:2]
    scale = min(1.0, _FIELD_LONG_SIDE / max(h, w))
    size = (max(int(round(w * scale)), 2), max(int(round(h * scale)), 2))
    small = cv2.resize(linear, size, interpolation=cv2.INTER_AREA)
    luma = small.astype(np.float64) @ _LUMA
    valid = np.all((small > 1e-3) & (small < 0.98), axis=2)
    region = valid
    where = "the whole frame"
    if skin_mask is not None:
        not_skin = cv2.resize((~skin_mask).astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.99
        if (valid & not_skin).mean() >= 0.05:
            region = valid & not_skin
            where = "the background (skin excluded)"
        else:
            notes.append("too little background beside the skin: light estimated over the whole frame")
    a = b = 0.0
    u_small, v_small = normalised_coordinates(small.shape[:2])
    if region.sum() >= 50:
        uu, vv = np.meshgrid(u_small, v_small)
        design = np.c_[np.ones(int(region.sum())), uu[region], vv[region]]
        logy = np.log(luma[region])
        keep = np.ones(len(logy), dtype=bool)
        for _ in range(3):  # trimmed: bright lamps and dark hair are not the light field
            coef, *_ = np.linalg.lstsq(design[keep], logy[keep], rcond=None)
            resid = logy - design @ coef
            keep = np.abs(resid) <= 2.5 * 1.4826 * np.median(np.abs(resid[keep])) + 1e-6
        a, b = (float(np.clip(coef[1], -np.log(2), np.log(2))), float(np.clip(coef[2], -np.log(2), np.log(2))))
    u_full, v_full = normalised_coordinates((h, w))
    # exp(a u + b v) as the outer product exp(b v) exp(a u): two vectors of exponentials instead of
    # a whole frame of them (60 -> 12 ms at 3 MP; the same float32 values on 9 M pixels checked).
    field = np.multiply.outer(np.exp(b * v_full), np.exp(a * u_full)).astype(np.float32)
    flat_small = luma / np.exp(a * u_small[None, :] + b * v_small[:, None])
    level = float(np.median(flat_small[region])) if region.any() else float(np.median(flat_small))
    gain = float(np.clip(UNCALIBRATED_TARGET_LUMINANCE / max(level, 1e-6), 1 / _MAX_UNCALIBRATED_GAIN,
                         _MAX_UNCALIBRATED_GAIN))
    scale = gain / field
    if linear.dtype == np.float32 and scale.dtype == np.float32:
        # The same products as numpy's broadcast over the 3 channels, at a third of its time.
        out = cv2.multiply(linear, cv2.merge([scale, scale, scale]))
    else:
        out = linear * scale[:, :, None]
    notes.append(
        "no colour reference in frame: uncalibrated (exposure and an achromatic light gradient"
        f" corrected from {where}; light colour not corrected)"
    )
    return Calibration(
        method="none",
        calibrated=False,
        linear=out.astype(np.float32, copy=False),
        chart_delta_e_mean=None,
        chart_delta_e_max=None,
        mm_per_px=None,
        chart_mask=None,
        chart_corners=None,
        notes=tuple(notes),
        exposure_gain=gain,
        illumination=(a, b),
    )


def _check_srgb(srgb: np.ndarray) -> np.ndarray:
    if not isinstance(srgb, np.ndarray):
        raise TypeError(f"srgb: expected a numpy array, got {type(srgb).__name__}")
    if srgb.ndim != 3 or srgb.shape[2] != 3:
        raise ValueError(f"srgb: expected shape (H, W, 3), got {srgb.shape}")
    if not np.issubdtype(srgb.dtype, np.floating):
        raise TypeError(f"srgb: expected float RGB in [0, 1], got dtype {srgb.dtype}")
    return srgb.astype(np.float32, copy=False)
