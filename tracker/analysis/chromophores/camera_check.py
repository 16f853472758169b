"""Whether a photo's camera x light response can carry skin colour to the baseline's.

The inversion fits one skin model. Real skin differs from it (epidermis thickness,
dermal scattering, oxygen saturation, the diffusion approximation itself), and a
camera response reads that difference as melanin and blood. Two responses that
weigh the spectrum alike (a camera close to colorimetric, under smooth lights) read
it alike, and the difference cancels in a pair; a camera with broad, overlapping
sensitivities behind a large colour matrix weighs it differently under each light,
and light alone then moves the figures. In the spectral harness this happens even
with the *true* response (no chart, no noise, no 8 bits): it is not a fitting error
that the chart fit's residual could show.

So each photo renders a fixed panel of plausible skins (:data:`PANEL_OPTICS`: the
inversion's model with other optics, at two skin levels) through its own fitted
response and reads them back with its own inversion table. The readings need only
the photo's chart; nothing about the camera is known.

- **Pair check.** The same panel read through the photo's and the baseline's
  responses should give the same figures. Where they differ by more than the
  measures' precision (:data:`MAX_PANEL_BLOOD_SHIFT_PCT`,
  :data:`MAX_PANEL_MELANIN_SHIFT_PCT`), a light-only change would be reported as a
  change of skin: "light: ..." and a retake under the baseline's light.
- **Photo check.** A 40 % blood reduction of the panel should not move its melanin
  reading: where it does by more than :data:`MAX_PANEL_CROSSTALK_PCT` (typically),
  this camera's response cannot separate blood from melanin: "camera: ...".

Spectral harness (NPL's Nikon D5100 and Sigma SD Merrill, 8 smooth lights, locked or
auto white balance): the Nikon-like camera's pairs stay at panel shifts <= 0.18 % blood
and <= 0.53 % melanin and panel crosstalk <= 0.16 %; the Sigma-like camera's LED and
incandescent pairs reach >= 0.35 % blood and >= 0.79 % melanin, its D65 photos a
crosstalk of 0.33 % (the rates: README, cross-light table).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache

import numpy as np

from tracker.analysis.chromophores import skin_model
from tracker.analysis.chromophores.inversion import InverseTable, solve_pixels
from tracker.analysis.chromophores.response import CameraResponse

#: Plausible other skins: every combination of epidermis thickness (40 and 90 um),
#: dermal reduced scattering at 500 nm (30 and 60 /cm) and its power-law slope (0.9 and
#: 1.8), within the values collected by Jacques (2013, "Optical properties of biological
#: tissues"), the diffusion constant A (4 and 9, tissue index about 1.33-1.5) and blood
#: oxygen saturation (0.65 and 0.85), with a surface reflection of 3 % (the model: 2 %).
PANEL_OPTICS: tuple[tuple[skin_model.SkinOptics, float], ...] = tuple(
    (
        skin_model.SkinOptics(
            epidermis_um=ep, scatter_500_per_cm=sc, scatter_slope=sl, diffusion_a=a, surface_reflectance=0.03
        ),
        sat,
    )
    for ep, sc, sl, a, sat in itertools.product((40.0, 90.0), (30.0, 60.0), (0.9, 1.8), (4.0, 9.0), (0.65, 0.85))
)
#: Skin levels of the panel (melanin %, blood %): fair-to-medium skin.
PANEL_LEVELS: tuple[tuple[float, float], ...] = ((4.0, 1.5), (8.0, 2.5))
#: The blood reduction of the photo check (the issue's 40 %).
CROSSTALK_BLOOD_FACTOR = 0.6
#: Pair check: the 90th percentile over the panel of |photo - baseline| reading, percent.
#: Harness (vs D65): Nikon-like <= 0.18 % blood and <= 0.53 % melanin under every smooth
#: light; Sigma-like under LEDs and A >= 0.35 % and >= 0.79 %. Thresholds near the
#: geometric means.
MAX_PANEL_BLOOD_SHIFT_PCT = 0.25
MAX_PANEL_MELANIN_SHIFT_PCT = 0.65
#: Photo check: the median over the panel of the melanin moved by the blood reduction,
#: percent. Harness: Nikon-like <= 0.16 %; Sigma-like under D65 >= 0.33 %.
MAX_PANEL_CROSSTALK_PCT = 0.23


@dataclass(frozen=True)
class PanelReading:
    """One photo's reading of the panel of plausible skins through its own response.

    Attributes
    ----------
    blood_pct, melanin_pct : numpy.ndarray
        Shape (n_panel,), the panel's blood and melanin as this photo's inversion reads
        them, percent.
    crosstalk_pct : float
        Median over the panel of the melanin change read for a 40 % blood reduction, percent.
    """

    blood_pct: np.ndarray
    melanin_pct: np.ndarray
    crosstalk_pct: float


@cache
def _panel(blood_factor: float) -> np.ndarray:
    out = np.array([
        skin_model.skin_reflectance(m, b * blood_factor, saturation=sat, optics=optics)
        for optics, sat in PANEL_OPTICS
        for m, b in PANEL_LEVELS
    ])
    out.setflags(write=False)
    return out


def read_panel(response: CameraResponse, table: InverseTable) -> PanelReading:
    """Render the panel through a photo's response and read it with the photo's inversion table.

    Parameters
    ----------
    response : CameraResponse
        The photo's camera x light response.
    table : InverseTable
        The photo's inversion table (built from ``response``).

    Returns
    -------
    PanelReading

    Examples
    --------
    >>> from tracker.analysis.chromophores import inversion, response
    >>> srgb = response.default_response()
    >>> panel = read_panel(srgb, inversion.build_inverse_table(srgb, saturation=0.75))
    >>> panel.blood_pct.shape == (len(PANEL_OPTICS) * len(PANEL_LEVELS),)
    True
    """
    n = len(PANEL_OPTICS) * len(PANEL_LEVELS)
    rgb = response.render(np.vstack([_panel(1.0), _panel(CROSSTALK_BLOOD_FACTOR)]))
    solved = solve_pixels(np.maximum(rgb, 1e-9).astype(np.float32)[None], table)
    blood, melanin = solved.blood_pct[0].astype(np.float64), solved.melanin_pct[0].astype(np.float64)
    crosstalk = float(np.median(np.abs(melanin[n:] - melanin[:n])))
    return PanelReading(blood[:n], melanin[:n], crosstalk)


def camera_problem(panel: PanelReading | None) -> str | None:
    """Why this photo's camera cannot separate blood from melanin ("camera: ..."), or None."""
    if panel is None or panel.crosstalk_pct <= MAX_PANEL_CROSSTALK_PCT:
        return None
    return (
        "camera: this camera's colours do not separate blood from melanin reliably (a blood change would read"
        f" as up to {panel.crosstalk_pct:.2f} % melanin): ask the clinic to take the series with another camera"
    )


def pair_problem(photo: PanelReading | None, baseline: PanelReading | None) -> str | None:
    """Why the two photos' responses would read the same skin differently ("light: ..."), or None.

    Parameters
    ----------
    photo, baseline : PanelReading or None
        The photos' panel readings (None when a photo was not inverted spectrally:
        nothing to judge by).

    Returns
    -------
    str or None
        A note for the technician starting "camera: " (either photo's camera mixes blood
        and melanin) or "light: " (the two lights read the same skin differently), else None.

    Examples
    --------
    >>> same = PanelReading(np.ones(4), np.full(4, 5.0), 0.1)
    >>> pair_problem(same, same) is None
    True
    >>> pair_problem(same, PanelReading(np.ones(4), np.full(4, 6.0), 0.1)).startswith("light: ")
    True
    """
    for panel in (photo, baseline):
        problem = camera_problem(panel)
        if problem is not None:
            return problem
    if photo is None or baseline is None:
        return None
    blood = float(np.percentile(np.abs(photo.blood_pct - baseline.blood_pct), 90))
    melanin = float(np.percentile(np.abs(photo.melanin_pct - baseline.melanin_pct), 90))
    if blood <= MAX_PANEL_BLOOD_SHIFT_PCT and melanin <= MAX_PANEL_MELANIN_SHIFT_PCT:
        return None
    return (
        "light: with this camera, this light and the baseline's would read the same skin differently (by up to"
        f" {blood:.2f} % blood and {melanin:.2f} % melanin): retake under the same light as the baseline"
    )
