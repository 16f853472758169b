"""Whether a photo could hold a colour chart at all: a cheap look before ``cv2.mcc`` searches.

The detector's search (four working scales) costs about 0.3 s of CPU on a 12 MP photo, and on
most photos it finds nothing: a close-up of skin fills the frame. A chart's 24 patches span
every hue and the greys; skin, under any light, spans a narrow band of hues. In log
chromaticity of linear light, (ln R/G, ln B/G), a change of illuminant moves every pixel by
the same vector (von Kries), so how far pixels lie from the photo's median colour, and in which
direction, does not depend on the light. A chart puts pixels far from that median in many
directions; a frame of skin puts them in one or two (highlights, a vein, a red lesion).

The gate errs towards searching: anything colourful (clothing, a background, pen marks) lets
the search run as before, and a photo it turns away gets exactly the result the search would
have given (no chart). Checked on every chart in the real photos (as taken, turned and
re-encoded as a phone JPEG), on the simulator's charts under lights from 2000 to 10000 K, and on
a real chart pasted into a 12 MP close-up at 2.5x below the smallest size the search finds
(``tests/analysis/test_chart_presence.py``).
"""

from __future__ import annotations

import cv2
import numpy as np

from tracker.analysis.colour import srgb_to_linear

#: The look is taken on a copy of this long side, px (a third of the search's finest scale,
#: 1600 px: the smallest chart the search finds in a 12 MP photo has patches of ~9 px here).
GATE_LONG_SIDE = 512

#: Distance from the median colour in log chromaticity beyond which a pixel counts as "another
#: colour" (0.5 ~ a 65 % change of one channel ratio; skin's own spread stays inside it).
FAR_FROM_MEDIAN = 0.5

#: Hue directions around the median, and how many of them must hold far pixels.
N_SECTORS = 8
MIN_SECTORS = 3

#: Far pixels a direction needs at the gate's size (the smallest chart the search finds in a
#: 12 MP close-up, a Classic Mini 400 px high, puts >= 30 in each of seven directions; one half
#: that size, which the search does not find, still >= 12 in five).
MIN_PIXELS_PER_SECTOR = 12

#: Pixels darker than this share of the photo's bright level (the 99th percentile of each
#: pixel's darkest channel, in linear light) carry too little signal for a chromaticity.
_DARK_SHARE = 0.02

_LINEAR_OF_CODE = srgb_to_linear(np.arange(256, dtype=np.uint8))  # the project's 8-bit decoding table
# ln of each code's linear value (code 0 held at code 1's: it is never used, being dark).
_LOG_OF_CODE = np.log(np.maximum(_LINEAR_OF_CODE, _LINEAR_OF_CODE[1])).astype(np.float32)


def colour_directions(codes: np.ndarray) -> np.ndarray:
    """Far-from-median pixel counts per hue direction (:data:`N_SECTORS`) of an 8-bit RGB image.

    The copy is sampled, not averaged: counting pixels needs no smoothing, and an area
    average of a 12 MP photo would cost as much as the rest of the look.
    """
    h, w = codes.shape[:2]
    scale = GATE_LONG_SIDE / max(h, w)
    small = codes
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = cv2.resize(codes, size, interpolation=cv2.INTER_NEAREST)
    darkest = np.minimum(np.minimum(small[..., 0], small[..., 1]), small[..., 2])
    bright_code = int(np.searchsorted(np.cumsum(np.bincount(darkest.ravel(), minlength=256)), 0.99 * darkest.size))
    floor = _DARK_SHARE * _LINEAR_OF_CODE[bright_code]
    lit = darkest > np.searchsorted(_LINEAR_OF_CODE, floor)  # codes above the floor
    if not lit.any():
        return np.zeros(N_SECTORS, dtype=np.int64)
    log = cv2.LUT(small, _LOG_OF_CODE)[lit]  # (n, 3) ln R, ln G, ln B
    u = log[:, 0] - log[:, 1]
    v = log[:, 2] - log[:, 1]
    u -= np.median(u)
    v -= np.median(v)
    far = u * u + v * v > FAR_FROM_MEDIAN**2
    u, v = u[far], v[far]
    # The direction's octant from three signs, without an arctangent: the half-plane of v,
    # the side of u, and which of |u|, |v| is larger (sectors run anticlockwise from -pi).
    upper = v >= 0
    right = u >= 0
    steep = np.abs(v) > np.abs(u)
    quadrant = np.where(upper, np.where(right, 2, 3), np.where(right, 1, 0))
    # Going anticlockwise, the octant nearer the u axis comes first in quadrants 0 and 2,
    # second in 1 and 3.
    second = np.where((quadrant % 2) == 0, steep, ~steep)
    sector = 2 * quadrant + second
    return np.bincount(sector.astype(np.int64), minlength=N_SECTORS)


def might_hold_chart(codes: np.ndarray) -> bool:
    """False only when no colour chart can be in the photo (8-bit RGB codes, H x W x 3).

    A chart puts pixels far from the photo's median colour in at least :data:`MIN_SECTORS` hue
    directions; a photo with fewer cannot hold one, and the chart search is skipped.
    """
    counts = colour_directions(codes)
    return int(np.count_nonzero(counts >= MIN_PIXELS_PER_SECTOR)) >= MIN_SECTORS
