"""The cross-light study: chromophore figures of one skin under many lights and two cameras.

Renders the spectral harness (:mod:`tracker.simulate.spectral_harness`): the same
skin, its blood reduced by 40 %, and its melanin raised by 30 %, under each light,
through each camera, with locked and automatic white balance; measures each capture
with the chromophore inversion calibrated from its own chart; and compares each
light with D65 for the same camera and white balance. The README's cross-light
table and the light tests come from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tracker.analysis.chromophores import camera_check, chromophore_maps, measure_chromophores
from tracker.analysis.colour import srgb_to_linear
from tracker.simulate import spectral_harness as harness

#: The skin of the study: fair-to-medium, ordinary blood volume (harness model units, percent).
MELANIN_PCT = 6.0
BLOOD_PCT = 2.0
#: The true changes: blood down 40 %, melanin up 30 %.
BLOOD_FACTOR = 0.6
MELANIN_FACTOR = 1.3
SHAPE = (40, 40)


@dataclass(frozen=True)
class Reading:
    """One capture's figures, or why its light was refused, and its reading of the skin panel."""

    haemoglobin_index: float
    melanin_density: float
    light_ok: bool
    light_reason: str | None
    panel: camera_check.PanelReading | None = None


def read_capture(capture: harness.Capture) -> Reading:
    """Measure a harness capture as the pipeline would: chart patches -> response -> maps -> means."""
    patches = srgb_to_linear(capture.chart.astype(np.float32) / 255.0).mean(axis=1)
    skin = srgb_to_linear(capture.skin.astype(np.float32) / 255.0)
    maps = chromophore_maps(skin, patch_linear=patches)
    m = measure_chromophores(maps, np.ones(skin.shape[:2], bool))
    return Reading(m.haemoglobin_index, m.melanin_density, maps.light.ok, maps.light.reason, maps.panel)


@dataclass(frozen=True)
class CrossLightRow:
    """One camera x white balance x light, compared with D65 for the same camera and balance.

    Attributes
    ----------
    light_ok : bool
        The light check passed (else every colour figure is refused).
    camera_reason : str or None
        Why the camera check (:mod:`tracker.analysis.chromophores.camera_check`) refuses
        this light's pair with D65 ("light: ..." or "camera: ..."), or None.
    haemoglobin_shift, melanin_shift : float
        Light-only change: this light's figure minus D65's, same skin (percent units).
    blood_change_pct : float
        Recovered change of the haemoglobin index for the 40 % blood reduction, percent.
    change_vs_d65_pct : float
        That change relative to D65's recovered change, percent (0 = same as D65).
    melanin_crosstalk : float
        Melanin change read when only blood changed (percent units).
    haemoglobin_crosstalk : float
        Haemoglobin change read when only melanin changed (percent units).
    """

    camera: str
    white_balance: str
    light: str
    light_ok: bool
    light_reason: str | None
    camera_reason: str | None
    haemoglobin_shift: float
    melanin_shift: float
    blood_change_pct: float
    change_vs_d65_pct: float
    melanin_crosstalk: float
    haemoglobin_crosstalk: float

    @property
    def comparable(self) -> bool:
        """The pipeline would compare this light's photos with D65's (neither check refuses)."""
        return self.light_ok and self.camera_reason is None


def _readings(
    camera: str, light: str, white_balance: str, seed: int, chart: str, saturation: float
) -> tuple[Reading, Reading, Reading]:
    melanin, blood = harness.skin_maps(SHAPE, melanin_pct=MELANIN_PCT, blood_pct=BLOOD_PCT, seed=seed)
    out = []
    for k, (m, b) in enumerate(((melanin, blood), (melanin, blood * BLOOD_FACTOR), (melanin * MELANIN_FACTOR, blood))):
        capture = harness.capture(
            camera, light, white_balance=white_balance, melanin_pct=m, blood_pct=b, seed=seed + 17 * k,
            chart_spectra=chart, saturation=saturation,
        )
        out.append(read_capture(capture))
    return out[0], out[1], out[2]


@lru_cache(maxsize=4)
def cross_light_rows(
    cameras: Sequence[str] = harness.CAMERAS,
    lights: Sequence[str] = harness.LIGHTS,
    seed: int = 11,
    chart: str = harness.CHART_SPECTRA,
    saturation: float = harness.SATURATION,
) -> tuple[CrossLightRow, ...]:
    """The study's table (cached per arguments): every camera x white balance x light.

    ``chart`` names the chart spectra in the scene (the inversion always assumes the
    published "BabelColor Average"); ``saturation`` is the harness skin's blood oxygen
    saturation (the inversion always assumes
    :data:`tracker.analysis.chromophores.BLOOD_SATURATION`).
    """
    rows = []
    for camera in cameras:
        for wb in harness.WHITE_BALANCE_MODES:
            base, base_less_blood, _ = _readings(camera, "D65", wb, seed, chart, saturation)
            d65_change = base_less_blood.haemoglobin_index / base.haemoglobin_index - 1.0
            for light in lights:
                same, less_blood, more_melanin = _readings(camera, light, wb, seed, chart, saturation)
                change = less_blood.haemoglobin_index / same.haemoglobin_index - 1.0
                rows.append(
                    CrossLightRow(
                        camera=camera,
                        white_balance=wb,
                        light=light,
                        light_ok=same.light_ok,
                        light_reason=same.light_reason,
                        camera_reason=camera_check.pair_problem(same.panel, base.panel),
                        haemoglobin_shift=same.haemoglobin_index - base.haemoglobin_index,
                        melanin_shift=same.melanin_density - base.melanin_density,
                        blood_change_pct=100.0 * change,
                        change_vs_d65_pct=100.0 * (change / d65_change - 1.0),
                        melanin_crosstalk=less_blood.melanin_density - same.melanin_density,
                        haemoglobin_crosstalk=more_melanin.haemoglobin_index - same.haemoglobin_index,
                    )
                )
    return tuple(rows)


def cross_light_markdown(rows: Sequence[CrossLightRow]) -> str:
    """The README's cross-light table: per light, per camera x white balance, the light-only
    shifts of the haemoglobin index and melanin density (vs D65) and the recovered 40 % blood
    reduction, or "refused" when the light check or the camera check stops the pair."""
    columns = [(c, wb) for c in dict.fromkeys(r.camera for r in rows) for wb in harness.WHITE_BALANCE_MODES]
    head = "| light | " + " | ".join(f"{c.split(' ')[0]} {wb}" for c, wb in columns) + " |"
    lines = [head, "|---|" + "---|" * len(columns)]
    for light in dict.fromkeys(r.light for r in rows):
        cells = []
        for camera, wb in columns:
            r = next(x for x in rows if x.camera == camera and x.white_balance == wb and x.light == light)
            figures = f"{r.haemoglobin_shift:+.2f} / {r.melanin_shift:+.2f} / {r.blood_change_pct:+.0f} %"
            if not r.light_ok:
                figures = "refused (light)"
            elif r.camera_reason is not None:
                figures = f"refused ({r.camera_reason.split(':')[0]}; {figures})"
            cells.append(figures)
        lines.append(f"| {light} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
