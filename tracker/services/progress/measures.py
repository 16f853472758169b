"""The measures a progress page reports, with their labels, units and families."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Measure:
    key: str
    section: str
    label: str
    unit: str
    family: str  # redness | pigment | texture
    charted: bool = True


MEASURES = (
    Measure("red_area_pct", "redness", "Red area", "% of the treated skin", "redness"),
    Measure("erythema_index_mean", "redness", "Erythema index", "EI", "redness"),
    Measure("spot_area_pct", "pigment", "Pigment-spot area", "% of the treated skin", "pigment"),
    Measure("spot_count", "pigment", "Pigment spots", "spots", "pigment"),
    Measure("melanin_index_mean", "pigment", "Melanin index", "MI", "pigment", charted=False),
    Measure("background_melanin_index_mean", "pigment", "Melanin outside spots", "MI", "pigment", charted=False),
    Measure("pigment_load", "pigment", "Pigment load", "", "pigment", charted=False),
    Measure("roughness", "texture", "Texture roughness", "", "texture"),
    Measure("line_density", "texture", "Line density", "", "texture"),
)
MEASURE_BY_KEY = {m.key: m for m in MEASURES}
CHARTED = tuple(m for m in MEASURES if m.charted)
