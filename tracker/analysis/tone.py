"""Skin tone as the individual typology angle (ITA) and its class.

ITA = atan((L* - 50) / b*) in degrees (Chardon 1991), from CIELAB (D65) of
colour-corrected skin. Only meaningful after colour correction: a warm light
raises b* and reads as a darker class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.analysis.boxes import region_box
from tracker.analysis.checks import check_linear_rgb, check_region
from tracker.analysis.colour import linear_to_lab

#: Lower ITA bound of each class, degrees, darkest last (Chardon et al. 1991): > 55 very
#: light, 41-55 light, 28-41 intermediate, 10-28 tan, -30-10 brown, < -30 dark.
ITA_CLASSES: tuple[tuple[str, float], ...] = (
    ("very light", 55.0),
    ("light", 41.0),
    ("intermediate", 28.0),
    ("tan", 10.0),
    ("brown", -30.0),
    ("dark", -np.inf),
)

#: Region pixels sampled for the Lab conversion (deterministic stride).
_SAMPLE_PIXELS = 50_000


@dataclass(frozen=True)
class SkinTone:
    """Skin tone of a region.

    Attributes
    ----------
    ita_deg : float
        Individual typology angle of the region's median L* and b*, degrees in
        (-90, 90] for skin-like colours (b* > 0).
    tone_class : str
        One of "very light", "light", "intermediate", "tan", "brown", "dark".
    lightness_l : float
        Median CIELAB L* of the region, 0-100.
    yellowness_b : float
        Median CIELAB b* of the region.
    """

    ita_deg: float
    tone_class: str
    lightness_l: float = float("nan")
    yellowness_b: float = float("nan")


def ita_class(ita_deg: float) -> str:
    """Class name of an ITA angle in degrees; a value on a boundary belongs to the darker class.

    >>> ita_class(60.0), ita_class(30.0), ita_class(-45.0)
    ('very light', 'intermediate', 'dark')
    """
    for name, lower in ITA_CLASSES:
        if ita_deg > lower:
            return name
    return ITA_CLASSES[-1][0]


def skin_tone(linear: np.ndarray, region: np.ndarray) -> SkinTone:
    """ITA and tone class of the skin in ``region``.

    Parameters
    ----------
    linear : ndarray, shape (H, W, 3), float
        Colour-corrected linear-light RGB in [0, 1].
    region : ndarray, shape (H, W), bool
        Skin pixels; must not be empty. Medians make spots and hairs inside it
        count little.

    Returns
    -------
    SkinTone

    Examples
    --------
    >>> from tracker.analysis.colour import srgb_to_linear
    >>> patch = np.broadcast_to(srgb_to_linear(np.array([0.85, 0.68, 0.58])), (8, 8, 3)).copy()
    >>> skin_tone(patch, np.ones((8, 8), bool)).tone_class
    'light'
    """
    linear = check_linear_rgb(linear)
    region = check_region(region, linear.shape[:2])
    # A regular grid of region pixels: medians need no more than ~50 000 of them.
    step = max(1, int(np.sqrt(np.count_nonzero(region) / _SAMPLE_PIXELS)))
    # Only the region's box is read (a face region is a small part of the frame), starting on
    # the frame's sampling grid: the same pixels, in the same order, as the whole frame's.
    rows, cols = region_box(region)
    r0, c0 = rows.start - rows.start % step, cols.start - cols.start % step
    pixels = linear[r0 : rows.stop : step, c0 : cols.stop : step][region[r0 : rows.stop : step, c0 : cols.stop : step]]
    if len(pixels) == 0:
        pixels = linear[region]
    lab = linear_to_lab(pixels[:, None, :].astype(np.float32))[:, 0, :]
    lightness = float(np.median(lab[:, 0]))
    yellowness = float(np.median(lab[:, 2]))
    # atan2 equals atan((L-50)/b) for b > 0 and stays defined at b = 0.
    ita = float(np.degrees(np.arctan2(lightness - 50.0, yellowness)))
    return SkinTone(ita_deg=ita, tone_class=ita_class(ita), lightness_l=lightness, yellowness_b=yellowness)
