"""Sentences a patient reads about the areas of the face where a change was detected."""

from __future__ import annotations

from .timeline import Pair
from .verdicts import Change, RegionChanges, one_per_topic, region_changes

#: Where each region is, in a patient's words.
WHERE = {
    "forehead": "on the forehead",
    "cheek_left": "on the left cheek",
    "cheek_right": "on the right cheek",
    "nose": "on the nose",
    "chin": "on the chin",
    "perioral": "around the mouth",
    "periorbital_left": "around the left eye",
    "periorbital_right": "around the right eye",
}
#: Left and right read as one area when both changed the same way.
SIDES = {("cheek_left", "cheek_right"): "on the cheeks",
         ("periorbital_left", "periorbital_right"): "around the eyes"}
#: A side's name inside a grouped sentence's figures.
SIDE_WORD = {"cheek_left": "left cheek", "cheek_right": "right cheek",
             "periorbital_left": "left eye", "periorbital_right": "right eye"}
DETECTED = ("improved", "worse")


def _figures(c: Change) -> str:
    """The region's two figures as every page prints them, the unit once."""
    unit = f" {c.measure.unit}" if c.measure.unit else ""
    return f"{c.shown('baseline')}{unit} at the start, {c.shown('photo')} now"


def _detected(regions: list[RegionChanges]) -> dict[str, dict[str, Change]]:
    """Per patient wording ("redness"), the regions whose change was detected, with that change.

    Within a region each topic speaks through its first measured measure
    (:func:`one_per_topic`), as the whole face's sentences do.
    """
    out: dict[str, dict[str, Change]] = {}
    for r in regions:
        if not r.area_px:
            continue
        measured = (c for c in r.changes if c.baseline is not None and c.photo is not None)
        for c in one_per_topic(measured):
            if c.verdict in DETECTED:
                out.setdefault(c.measure.patient_label, {})[r.key] = c
    return out


def area_summary(pair: Pair, *, details: bool = False) -> list[str]:
    """For a face pair, one sentence per area where a change was detected (improved or worse).

    Left and right join ("on the cheeks") when both changed the same way. With ``details``
    each sentence adds the area's own figures, formatted as the photo page's table shows them.
    A close-up or a pair not compared has no areas: no sentences.
    """
    lines = []
    for by_region in _detected(region_changes(pair.later)).values():
        done: set[str] = set()
        for key, c in by_region.items():  # anatomical order
            if key in done:
                continue
            both = next(((a, b) for a, b in SIDES if key in (a, b) and a in by_region and b in by_region
                         and by_region[a].verdict == by_region[b].verdict), None)
            if both is None:
                sentence = c.measure.patient_sentence(c.verdict, where=WHERE[key])
                figures = _figures(c)
            else:
                sentence = c.measure.patient_sentence(c.verdict, where=SIDES[both])
                figures = "; ".join(f"{SIDE_WORD[k]} {_figures(by_region[k])}" for k in both)
            done.update(both or (key,))
            lines.append(sentence.rstrip(".") + f" ({figures})." if details else sentence)
    return lines
