"""Reference colours of the 24-patch ColorChecker Classic.

Shared by the chart fit (``tracker.analysis``) and the simulator, so that a
simulated chart and the reference it is corrected against are one table.

Values are the published sRGB (D65, 8-bit) renditions of the post-2009
ColorChecker Classic patches, row by row from the top-left "dark skin" patch
with the chart upright (brown patches at the top, greys at the bottom).
"""

from __future__ import annotations

import numpy as np

CHART_ROWS = 4
CHART_COLS = 6

PATCH_NAMES: tuple[str, ...] = (
    "dark skin", "light skin", "blue sky", "foliage", "blue flower", "bluish green",
    "orange", "purplish blue", "moderate red", "purple", "yellow green", "orange yellow",
    "blue", "green", "red", "yellow", "magenta", "cyan",
    "white 9.5", "neutral 8", "neutral 6.5", "neutral 5", "neutral 3.5", "black 2",
)

_SRGB_8BIT = np.array(
    [
        [115, 82, 68], [194, 150, 130], [98, 122, 157], [87, 108, 67], [133, 128, 177], [103, 189, 170],
        [214, 126, 44], [80, 91, 166], [193, 90, 99], [94, 60, 108], [157, 188, 64], [224, 163, 46],
        [56, 61, 150], [70, 148, 73], [175, 54, 60], [231, 199, 31], [187, 86, 149], [8, 133, 161],
        [243, 243, 242], [200, 200, 200], [160, 160, 160], [122, 122, 121], [85, 85, 85], [52, 52, 52],
    ],
    dtype=np.float64,
)

#: Reference patch colours, sRGB-encoded, float in [0, 1], shape (24, 3).
REFERENCE_SRGB: np.ndarray = _SRGB_8BIT / 255.0
REFERENCE_SRGB.setflags(write=False)

#: Indices of the six neutral patches (white to black).
NEUTRAL_PATCHES: tuple[int, ...] = (18, 19, 20, 21, 22, 23)

#: Physical size (width, height) in millimetres of the patch grid's outer edge for each
#: chart model, landscape: a detected chart's size in pixels gives mm per pixel.
CHART_SIZES_MM: dict[str, tuple[float, float]] = {
    "classic": (279.4, 215.9),
    "mini": (82.55, 57.15),
    # Close-up work (about 0.05 mm per pixel) needs a card that fits beside the
    # treated area: a "nano"-size 24-patch card of about 40 x 26 mm.
    "nano": (40.0, 26.0),
}
#: The chart the clinic's close-up kit uses unless configured otherwise.
DEFAULT_CHART = "nano"
