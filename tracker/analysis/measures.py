"""The one registry of skin measures: what each figure is, and how it reads.

Every page, chart, CSV, PDF, bundle and patient sentence takes a measure's
label, unit, precision, direction and wording from :data:`MEASURES`; nothing
else lists the measures. The stored JSON (``results.Measures.to_dict``) is
written and read through this table too, so its keys stay the same.

A measure is stored in its analysis unit (``Measures`` field, e.g.
``line_density`` in ln units, about 0.001) and shown in its display unit
(``scale`` times the stored value, with ``decimals`` decimals), chosen so that
no value or minimal detectable change needs an exponent.

Adding a measure
----------------
1. Add a field with the measure's key to :class:`tracker.analysis.results.Measures`,
   with a default of ``None`` so that results stored before it still load, and
   compute it in the pipeline (``pipeline._measure``).
2. Add one :class:`MeasureSpec` to :data:`MEASURES` below, in the order it should
   be listed. A measure with ``compared=True`` is judged against the baseline once
   ``data/mdc.json`` holds its MDC (``tracker mdc-estimate``); until then it is
   measured and shown, without a verdict.

That is all: the JSON section, the verdict, the light rule (``colour``), the
exposure rule (``exposure``), the tables, charts, CSV columns, PDF lines and
patient sentences follow from the entry.

>>> spec = MEASURE_BY_KEY["line_density"]
>>> spec.format(0.001234), spec.format_delta(-0.0000372), spec.unit
('1.23', '-0.04', '‰ contrast')
>>> MEASURE_BY_KEY["spot_count"].plausible(-1)
False
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Group = Literal["redness", "pigment", "texture", "tone"]
Verdict = Literal["improved", "no measurable change", "worse", "not comparable"]
Direction = Literal["lower_is_better", "higher_is_better", "either_is_a_flag"]

#: Order in which groups are listed, and their headings.
GROUPS: dict[Group, str] = {"redness": "Redness", "pigment": "Pigment", "texture": "Texture", "tone": "Skin tone"}

#: The JSON section (``result["redness"]``...) each group is stored under.
SECTIONS: dict[Group, str] = {"redness": "redness", "pigment": "pigment", "texture": "texture", "tone": "skin_tone"}


@dataclass(frozen=True)
class MeasureSpec:
    """One measure: what it is, how it is shown, and how a patient reads it.

    Attributes
    ----------
    key : str
        Field of ``Measures`` and key in the stored JSON (never renamed).
    group : {"redness", "pigment", "texture", "tone"}
        Family, and the JSON section it is stored in (``SECTIONS``).
    label : str
        Name for staff ("Erythema index").
    unit : str
        Display unit, after ``scale`` ("EI", "% of the treated skin", "‰ contrast").
    decimals : int
        Decimals shown in the display unit; also for the change and the MDC.
    direction : str or None
        Which way is better when treatment works; None for measures never compared.
    colour : bool
        Depends on the colour of the skin: refused when the light differs (light rule).
    exposure : bool
        Moves with exposure and white balance: no verdict without a colour reference.
    patient_label : str
        The measure in a patient's words ("redness", "dark spots").
    scale : float
        Display value = stored value x scale (e.g. 1000 for ln units shown in per mille).
    minimum, maximum : float or None
        Bounds a real value stays within (counts and areas >= 0, percentages <= 100).
    compared : bool
        Judged against the baseline with a verdict (has an MDC).
    charted : bool
        Plotted on the progress charts and shown to patients.
    integer : bool
        A count: stored and shown as a whole number.
    """

    key: str
    group: Group
    label: str
    unit: str
    decimals: int
    direction: Direction | None
    colour: bool
    exposure: bool
    patient_label: str
    scale: float = 1.0
    minimum: float | None = None
    maximum: float | None = None
    compared: bool = True
    charted: bool = True
    integer: bool = False

    @property
    def section(self) -> str:
        return SECTIONS[self.group]

    @property
    def label_with_unit(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label

    def display(self, value: float | None) -> float | None:
        """The stored value in the display unit, rounded to the precision shown (None stays None)."""
        if value is None or not math.isfinite(float(value)):
            return None
        shown = round(float(value) * self.scale, self.decimals)
        return 0.0 if shown == 0 else shown  # no "-0.0"

    def format(self, value: float | None, *, unit: bool = False) -> str:
        """The value as shown everywhere: fixed decimals, never an exponent; "–" when missing."""
        shown = self.display(value)
        if shown is None:
            return "–"
        text = f"{shown:.{self.decimals}f}"
        return f"{text} {self.unit}" if unit and self.unit else text

    def format_delta(self, value: float | None) -> str:
        """A change, signed ("+1.2", "-0.4", "0.0")."""
        shown = self.display(value)
        if shown is None:
            return "–"
        return f"{shown:+.{self.decimals}f}" if shown else f"{0:.{self.decimals}f}"

    def plausible(self, value: float | None) -> bool:
        """False for a value no skin can have (a negative count, a share above 100 %)."""
        if value is None:
            return True
        v = float(value)
        if not math.isfinite(v):
            return False
        if self.minimum is not None and v < self.minimum:
            return False
        return not (self.maximum is not None and v > self.maximum)

    def patient_sentence(self, verdict: Verdict | str, *, where: str = "") -> str:
        """How a patient reads this measure's verdict, in plain words; ``where`` names an area
        of the face ("on the cheeks")."""
        noun = f"{self.patient_label} {where}" if where else self.patient_label
        cap = noun[:1].upper() + noun[1:]
        if verdict == "no measurable change":
            return f"{cap}: no change that the photos can measure yet."
        if verdict == "not comparable":
            return f"{cap}: could not be compared this time; your clinic will take new photos."
        if self.direction == "either_is_a_flag":
            return f"{cap}: changed; your clinic will look at this with you."
        if verdict == "improved":
            return f"{cap}: {'less' if self.direction == 'lower_is_better' else 'more'} than at the start."
        return f"{cap}: {'more' if self.direction == 'lower_is_better' else 'less'} than at the start; your clinic will look at this with you."


_PCT = "% of the treated skin"

#: Every measure, in the order it is listed.
MEASURES: tuple[MeasureSpec, ...] = (
    # Dermal blood volume fraction from the spectral inversion (tracker.analysis.chromophores):
    # proportional to blood volume and carried across daylight, LED and incandescent light.
    MeasureSpec("haemoglobin_index", "redness", "Haemoglobin index", "% blood", 2, "lower_is_better", colour=True,
                exposure=False, patient_label="redness", minimum=0.0),
    MeasureSpec("red_area_pct", "redness", "Red area", _PCT, 1, "lower_is_better", colour=True, exposure=False,
                patient_label="red area", minimum=0.0, maximum=100.0),
    # Legacy: what Mexameter-style tools report, kept for clinics that compare with them.
    MeasureSpec("erythema_index_mean", "redness", "Erythema index (legacy)", "EI", 1, "lower_is_better", colour=True,
                exposure=False, patient_label="redness"),
    MeasureSpec("a_star_mean", "redness", "Redness a*", "CIELAB a*", 1, None, colour=True, exposure=True,
                patient_label="redness (a*)", compared=False, charted=False),
    MeasureSpec("spot_area_pct", "pigment", "Pigment-spot area", _PCT, 2, "lower_is_better", colour=True,
                exposure=False, patient_label="area of dark spots", minimum=0.0, maximum=100.0),
    MeasureSpec("spot_count", "pigment", "Pigment spots", "spots", 0, "lower_is_better", colour=True,
                exposure=False, patient_label="number of dark spots", minimum=0.0, integer=True),
    MeasureSpec("spot_area_mm2", "pigment", "Pigment-spot area", "mm²", 1, None, colour=True, exposure=False,
                patient_label="area of dark spots", minimum=0.0, compared=False, charted=False),
    # Epidermal melanin fraction from the spectral inversion.
    # Reads slightly below zero on skin bluer than the model's melanin-free skin.
    MeasureSpec("melanin_density", "pigment", "Melanin density", "% melanin", 2, "lower_is_better", colour=True,
                exposure=False, patient_label="overall pigment", charted=False),
    # Outside spots, pigment should stay put: darker is post-inflammatory
    # hyperpigmentation, lighter is hypopigmentation. Both are flags.
    MeasureSpec("background_melanin_density", "pigment", "Melanin density outside spots", "% melanin", 2,
                "either_is_a_flag", colour=True, exposure=False, patient_label="skin tone around the spots",
                charted=False),
    # Legacy melanin index (MI = 100 log10(1/R)), kept for comparison with other tools.
    MeasureSpec("melanin_index_mean", "pigment", "Melanin index (legacy)", "MI", 1, "lower_is_better", colour=True,
                exposure=True, patient_label="overall pigment", charted=False),
    MeasureSpec("background_melanin_index_mean", "pigment", "Melanin index outside spots (legacy)", "MI", 1,
                "either_is_a_flag", colour=True, exposure=True, patient_label="skin tone around the spots", charted=False),
    MeasureSpec("pigment_load", "pigment", "Pigment load", "MI", 2, "lower_is_better", colour=True, exposure=False,
                patient_label="pigment in spots", minimum=0.0, charted=False),
    # ln units x 100 ~ % of local luminance contrast.
    MeasureSpec("roughness", "texture", "Texture roughness", "% contrast", 2, "lower_is_better", colour=False,
                exposure=False, patient_label="skin roughness", scale=100.0, minimum=0.0),
    # ln units x 1000: about 0.5-3 on close-ups, MDC about 0.04.
    MeasureSpec("line_density", "texture", "Line density", "‰ contrast", 2, "lower_is_better", colour=False,
                exposure=False, patient_label="fine lines", scale=1000.0, minimum=0.0),
    MeasureSpec("pore_count", "texture", "Pores", "pores", 0, None, colour=False, exposure=False,
                patient_label="pores", minimum=0.0, compared=False, charted=False, integer=True),
    MeasureSpec("ita_deg", "tone", "Skin tone (ITA)", "°", 0, None, colour=True, exposure=True,
                patient_label="skin tone", compared=False, charted=False),
)

MEASURE_BY_KEY: dict[str, MeasureSpec] = {m.key: m for m in MEASURES}
#: Measures judged against the baseline, in listing order.
COMPARED: tuple[MeasureSpec, ...] = tuple(m for m in MEASURES if m.compared)
#: Measures on the progress charts and patient pages.
CHARTED: tuple[MeasureSpec, ...] = tuple(m for m in MEASURES if m.charted)
#: Keys of the compared measures that depend on the colour of the skin (light rule).
COLOUR_KEYS: frozenset[str] = frozenset(m.key for m in COMPARED if m.colour)
#: Keys of the compared measures that move with exposure and white balance.
EXPOSURE_KEYS: frozenset[str] = frozenset(m.key for m in COMPARED if m.exposure)


def spec(key: str) -> MeasureSpec:
    """The registry entry of ``key``; a KeyError names the unknown measure."""
    try:
        return MEASURE_BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown measure {key!r}; known: {', '.join(MEASURE_BY_KEY)}") from None


def directions() -> dict[str, Direction]:
    """Direction of every compared measure (the ``direction`` block of the stored JSON)."""
    return {m.key: m.direction for m in COMPARED if m.direction is not None}
