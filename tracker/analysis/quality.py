"""Quality gate: is this photo good enough to measure, or should the technician retake it?

Four checks, each a plain reason a technician can act on: sharpness (focus or
motion blur), exposure (clipped highlights, crushed shadows), JPEG compression
(colour measures need the chroma that heavy compression throws away), and the
size of the skin region left to measure.

Sharpness is a *ratio* of band-pass energies of the luma, so it is judged
against the photo's own contrast: smooth skin photographed sharply has little
mid-frequency structure but just as little in proportion at the finest scale,
while a blurred photo loses the finest band first.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tracker.analysis.decode import DecodedImage
from tracker.analysis.holes import fill_holes
from tracker.analysis.roi import channel_max_min

__all__ = ["QualityReport", "assess_quality", "sharpness_ratio", "MIN_SHARPNESS", "MAX_CLIPPED_PCT"]

#: Below this ratio the photo is called blurred (in-focus photos measured 0.45-2.0,
#: the same photos under a Gaussian blur of sigma 0.25 % of their size 0.10-0.19).
MIN_SHARPNESS = 0.30
#: Largest share of the skin region (%) allowed to be clipped, and separately crushed.
MAX_CLIPPED_PCT = 5.0
#: Sharpness is judged at no more than this many pixels on the long side, so a
#: 12 MP photo whose pixels are soft at full size is judged at a consistent scale.
SHARPNESS_MAX_SIDE = 1600
_HIGH = 0.98
_LOW = 0.02
# A clipped pixel whose other two channels stay below this has one channel clipped alone; when that
# is so for this share of the clipped skin, the refusal names the channel.
_LONE_CHANNEL_BELOW = 0.9
_LONE_CHANNEL_SHARE = 0.6
_MIN_REGION_PX = 10_000
_MIN_REGION_FRACTION = 0.03
# Heavier compression than these (libjpeg quality) loses chroma the colour measures need.
_MIN_JPEG_QUALITY_SUBSAMPLED = 80
_MIN_JPEG_QUALITY_444 = 70


@dataclass(frozen=True)
class QualityReport:
    """Outcome of the quality gate for one photo.

    Attributes
    ----------
    ok : bool
        True when the photo can be measured; False means ask for a retake.
    reasons : tuple of str
        Human-readable reasons the photo failed, empty when ``ok``.
    sharpness : float
        RMS of the finest luma band (grey - Gaussian(sigma 1 px)) divided by
        the RMS of a middle band (Gaussian(2 px) - Gaussian(4 px)), over the
        region, on the image downscaled to at most 1600 px on its long side.
        Dimensionless; in-focus photos ~0.45-2, blurred < 0.3 (MIN_SHARPNESS).
        NaN when the region has no structure at all (nothing to judge).
    overexposed_pct : float
        % of the skin region (with its clipped holes and rim) where any channel >= 0.98.
    underexposed_pct : float
        % of that area where any channel <= 0.02.
    jpeg_quality : int or None
        Estimated libjpeg quality (1-100), None if not JPEG.
    chroma_subsampling : str or None
        "4:4:4", "4:2:2" or "4:2:0" for JPEG.
    region_px : int
        Pixels in the region at the working scale.
    """

    ok: bool
    reasons: tuple[str, ...]
    sharpness: float
    overexposed_pct: float
    underexposed_pct: float
    jpeg_quality: int | None
    chroma_subsampling: str | None
    region_px: int


def assess_quality(image: DecodedImage, *, region: np.ndarray | None = None, face: bool = False) -> QualityReport:
    """Judge whether a decoded photo is sharp, well exposed and uncompressed enough to measure.

    Parameters
    ----------
    image : DecodedImage
        The decoded photo (any working scale).
    region : np.ndarray of bool, shape (h, w), optional, keyword-only
        The skin region to judge (e.g. :func:`tracker.analysis.roi.skin_region`);
        the whole frame when omitted. Clipped pixels that the region left out
        as holes or along its rim are counted back in for the exposure check.
    face : bool, keyword-only
        The region is a face's anatomical regions: a head-and-shoulders photo's face
        may be a small share of the frame, so only its pixel count is checked.

    Returns
    -------
    QualityReport

    Examples
    --------
    >>> from tracker.analysis.decode import DecodedImage
    >>> rng = np.random.default_rng(0)
    >>> img = np.clip(0.5 + 0.1 * rng.standard_normal((200, 200, 3)), 0, 1).astype(np.float32)
    >>> d = DecodedImage(img, 200, 200, 1.0, "PNG", 8, False, None, None, None)
    >>> r = assess_quality(d)
    >>> r.ok, r.reasons
    (True, ())
    """
    if not isinstance(image, DecodedImage):
        raise TypeError(f"image must be a DecodedImage; got {type(image).__name__}")
    srgb = image.srgb
    h, w = srgb.shape[:2]
    if region is None:
        mask = np.ones((h, w), dtype=bool)
    else:
        mask = np.asarray(region)
        if mask.shape != (h, w):
            raise ValueError(f"region must have shape {(h, w)} like the image; got {mask.shape}")
        if mask.dtype != bool:
            raise TypeError(f"region must be a bool array; got dtype {mask.dtype}")

    reasons: list[str] = []
    region_px = np.count_nonzero(mask)
    if region_px < (_MIN_REGION_PX if face else max(_MIN_REGION_PX, _MIN_REGION_FRACTION * h * w)):
        reasons.append(
            f"skin region too small ({region_px:,} px, {100.0 * region_px / (h * w):.1f} % of the photo): "
            "move closer or frame the treated area"
        )

    over_pct, under_pct, lone_channel = _exposure(srgb, mask, region is not None)
    if over_pct > MAX_CLIPPED_PCT:
        # Say why a face that looks well exposed is refused: its colour, not its brightness, clipped.
        which = (f" (its {lone_channel} channel is saturated, though the skin may look well exposed: its colour "
                 "cannot be measured there)") if lone_channel else ""
        reasons.append(f"overexposed: {over_pct:.0f} % of the skin is clipped{which}: reduce the light or exposure and retake")
    if under_pct > MAX_CLIPPED_PCT:
        reasons.append(f"underexposed: {under_pct:.0f} % of the skin is crushed to black: add light and retake")

    sharp = sharpness_ratio(srgb, region=mask if region_px else None)
    if np.isfinite(sharp) and sharp < MIN_SHARPNESS:
        reasons.append(f"too blurred (sharpness {sharp:.2f}, needs {MIN_SHARPNESS:.2f}): hold still, focus on the skin and retake")

    q, sub = image.jpeg_quality, image.chroma_subsampling
    if q is not None:
        limit = _MIN_JPEG_QUALITY_444 if sub in (None, "4:4:4") else _MIN_JPEG_QUALITY_SUBSAMPLED
        if q < limit:
            reasons.append(
                f"heavy JPEG compression (quality ~{q}, {sub or 'greyscale'}): colour measures unreliable, "
                "retake or upload the original"
            )

    return QualityReport(
        ok=not reasons,
        reasons=tuple(reasons),
        sharpness=float(sharp),
        overexposed_pct=over_pct,
        underexposed_pct=under_pct,
        jpeg_quality=q,
        chroma_subsampling=sub,
        region_px=int(region_px),
    )


def sharpness_ratio(srgb: np.ndarray, *, region: np.ndarray | None = None) -> float:
    """Finest-band over middle-band RMS luma energy (see :class:`QualityReport`).

    Parameters
    ----------
    srgb : np.ndarray
        (h, w, 3) float32 sRGB in [0, 1].
    region : np.ndarray of bool, optional, keyword-only
        Pixels to judge; the whole frame when omitted.

    Returns
    -------
    float
        Dimensionless ratio, NaN when the region has no measurable structure.
    """
    if not isinstance(srgb, np.ndarray) or srgb.ndim != 3 or srgb.shape[2] != 3:
        raise ValueError(f"srgb must be an (h, w, 3) array; got {getattr(srgb, 'shape', type(srgb))}")
    grey = cv2.cvtColor(np.ascontiguousarray(srgb, dtype=np.float32), cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    factor = min(1.0, SHARPNESS_MAX_SIDE / max(h, w))
    mask: np.ndarray | None = None if region is None else region.view(np.uint8)
    if factor < 1.0:
        size = (max(1, round(w * factor)), max(1, round(h * factor)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        if mask is not None:
            mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
    # In place, in three buffers: fresh whole-image temporaries cost as much as the blurs.
    fine = cv2.GaussianBlur(grey, (0, 0), 1.0)
    np.square(np.subtract(grey, fine, out=fine), out=fine)
    mid = cv2.GaussianBlur(grey, (0, 0), 2.0)
    np.subtract(mid, cv2.GaussianBlur(grey, (0, 0), 4.0, dst=grey), out=mid)
    np.square(mid, out=mid)
    # Ignore a frame-border margin where the filters see the replicated edge.
    valid = np.zeros(grey.shape, dtype=bool)
    valid[8:-8, 8:-8] = True
    if mask is not None:
        valid &= mask.view(bool)
    if np.count_nonzero(valid) < 64:
        return float("nan")
    mid_energy = float(mid[valid].mean())
    if mid_energy < 1e-9:
        return float("nan")
    return float(np.sqrt(fine[valid].mean() / mid_energy))


def _exposure(srgb: np.ndarray, mask: np.ndarray, is_region: bool) -> tuple[float, float, str | None]:
    """% of the judged area with a clipped (>= 0.98) or crushed (<= 0.02) channel, and the channel
    clipped alone in most of the clipped pixels, if any.

    Counted on a copy at most 800 px on its long side (nearest-neighbour, so each
    pixel keeps its own verdict): percentages, not pixels, are what is reported.
    """
    h, w = mask.shape
    factor = min(1.0, 800 / max(h, w))
    if factor < 1.0:
        # Nearest-neighbour picks whole pixels, so shrinking the image before the
        # verdicts gives the same verdicts as shrinking them: 1/6 of the work at 3 MP.
        size = (max(1, round(w * factor)), max(1, round(h * factor)))
        srgb = cv2.resize(np.ascontiguousarray(srgb, dtype=np.float32), size, interpolation=cv2.INTER_NEAREST)
        mask = cv2.resize(mask.view(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
        h, w = mask.shape
    mx, mn = channel_max_min(srgb)
    high = mx >= _HIGH
    low = mn <= _LOW
    high_area = low_area = mask
    if is_region and mask.any():
        # A skin mask usually leaves clipped pixels out; count back the ones it
        # encloses and, for highlights, those along its rim, or overexposure would be
        # invisible. Crushed pixels along the rim are not counted: next to a face they
        # are dark hair, eyebrows or clothing, not skin.
        filled = fill_holes(mask)
        r = max(2, round(0.01 * np.hypot(h, w)))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        near = cv2.dilate(filled.astype(np.uint8), kernel).astype(bool)
        high_area = filled | (high & near)
        low_area = filled
    n_high, n_low = np.count_nonzero(high_area), np.count_nonzero(low_area)
    clipped = high & high_area
    over = 100.0 * np.count_nonzero(clipped) / n_high if n_high else 0.0
    under = 100.0 * np.count_nonzero(low & low_area) / n_low if n_low else 0.0
    return over, under, _lone_clipped_channel(srgb[clipped])


def _lone_clipped_channel(pixels: np.ndarray) -> str | None:
    """The one channel clipped in most clipped pixels, while the other two are well below it
    (warm skin under a strong light: the face looks well exposed, its red channel is not)."""
    if len(pixels) == 0:
        return None
    alone = (pixels >= _HIGH) & (np.sort(pixels, axis=1)[:, 1:2] < _LONE_CHANNEL_BELOW)
    shares = alone.mean(axis=0)
    best = int(np.argmax(shares))
    return ("red", "green", "blue")[best] if shares[best] >= _LONE_CHANNEL_SHARE else None
