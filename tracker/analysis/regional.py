"""Figures per anatomical region of a face, and the face's figures over their union.

Each region is measured on a crop around it (the filters see only its
neighbourhood, so eight regions cost about what the whole face costs). Pigment
spots are found once over the union of the regions, and a spot belongs to the
region that holds its centroid, so no spot is split or counted twice.

The face's own figures are the union's, built from the regions: means and
percentages weighted by area, counts and mm² summed. Texture roughness, a
standard deviation per region, is averaged the same way. Skin tone is the
cheeks' (``cheek_left`` ∪ ``cheek_right``), where a face's tone is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from tracker.analysis.boxes import region_box
from tracker.analysis import pigment as _pigment
from tracker.analysis import redness as _redness
from tracker.analysis import texture as _texture
from tracker.analysis import tone as _tone
from tracker.analysis.measures import MEASURES
from tracker.analysis.results import Measures
from tracker.analysis.spots import detect_spots_props

__all__ = ["MIN_REGION_AREA_MM2", "RegionFigures", "face_figures", "measure_regions", "unmeasured_regions"]

#: A region smaller than this (1 cm²) is not measured: too little skin for stable figures.
MIN_REGION_AREA_MM2 = 100.0
#: Nor one with fewer working pixels than this, whatever the scale.
MIN_REGION_WORKING_PX = 400
#: Pixels kept around a region's box so that filters see its neighbourhood.
_CROP_MARGIN_PX = 24
#: Regions whose union gives the face's skin tone.
TONE_REGIONS = ("cheek_left", "cheek_right")

Source = Literal["landmarks", "drawn"]


@dataclass(frozen=True)
class RegionFigures:
    """One anatomical region's figures.

    Attributes
    ----------
    area_px : int
        Full-resolution pixels of the frame measured in (0 when hidden, covered or too small).
    source : {"landmarks", "drawn"}
    reason : str or None
        Why the region has no figures.
    measures : Measures
    mask : np.ndarray
        The region measured, working scale (empty when not measured).
    """

    area_px: int
    source: Source
    reason: str | None
    measures: Measures
    mask: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {"area_px": int(self.area_px), "source": self.source, "reason": self.reason, **self.measures.to_dict()}


def unmeasured_regions(keys: tuple[str, ...], shape: tuple[int, int], *, source: Source, reason: str) -> dict[str, RegionFigures]:
    """Every region empty, with one reason (a close-up, or landmarks that failed)."""
    empty = np.zeros(shape, bool)
    return {k: RegionFigures(0, source, reason, Measures.unmeasured(reason), empty) for k in keys}


@dataclass(frozen=True)
class _Spots:
    owner: dict[int, str]  # spot label -> region holding its centroid
    in_spots: np.ndarray  # the frame's grid: True in a spot
    contrast: np.ndarray  # the frame's grid: the spots' contrast, 0 outside the union's box
    area_px: np.ndarray  # pixels of each spot label (index = label)


def _find_spots(mi: np.ndarray, masks: dict[str, np.ndarray], union: np.ndarray, px_per_mm: float | None) -> _Spots:
    box = region_box(union, margin_px=_CROP_MARGIN_PX)
    labels, props, contrast = detect_spots_props(mi[box], union[box], px_per_mm=px_per_mm)
    owner = {}
    for p in props:
        r = min(round(p.centroid_rc[0]) + box[0].start, union.shape[0] - 1)
        c = min(round(p.centroid_rc[1]) + box[1].start, union.shape[1] - 1)
        for key, mask in masks.items():
            if mask[r, c]:
                owner[p.label] = key
                break
    in_spots = np.zeros(union.shape, bool)
    in_spots[box] = labels > 0
    contrast_full = np.zeros(union.shape, np.float32)
    contrast_full[box] = contrast
    return _Spots(owner, in_spots, contrast_full, np.bincount(labels.ravel()))


def _region_measures(
    key: str, linear: np.ndarray, mask: np.ndarray, mi: np.ndarray, spots: _Spots, px_per_mm: float | None,
    line_map: np.ndarray,
) -> Measures:
    box = region_box(mask, margin_px=_CROP_MARGIN_PX)
    crop, region = linear[box], mask[box]
    red = _redness.measure_redness(crop, region)
    # A face's regions leave hair alone: they already keep out brows, lips and covered chins, and
    # filling the hair at a hairline or a beard's edge, found in one repeat photo and not the next,
    # widened the forehead's line-density band 4x (tracker mdc-estimate-faces).
    tex = _texture.measure_texture(crop, region, px_per_mm=px_per_mm, fill_hair=False)
    tone = _tone.skin_tone(crop, region)
    line_map[box] = np.where(region, tex.line_map, line_map[box])
    # Pigment: the union's spots whose centroid is in this region (their whole area counts here).
    mine = [label for label, owner in spots.owner.items() if owner == key]
    spot_px = int(spots.area_px[mine].sum()) if mine else 0
    n = int(np.count_nonzero(region))
    # All within the region's box, which holds every pixel of the region (same values, same order).
    mi_box = mi[box]
    values = mi_box[region]
    finite = np.isfinite(values)
    outside = region & ~spots.in_spots[box] & np.isfinite(mi_box)
    contrast = spots.contrast[box]
    return Measures(
        erythema_index_mean=red.erythema_index_mean,
        red_area_pct=red.red_area_pct,
        a_star_mean=red.a_star_mean,
        melanin_index_mean=float(values[finite].astype(np.float64).mean()) if finite.any() else float("nan"),
        background_melanin_index_mean=float(mi_box[outside].astype(np.float64).mean()) if outside.any() else float("nan"),
        spot_count=len(mine),
        spot_area_pct=100.0 * spot_px / n,
        spot_area_mm2=None if px_per_mm is None else spot_px / float(px_per_mm) ** 2,
        pigment_load=float(np.maximum(contrast[region], 0.0).astype(np.float64).sum() / n),
        roughness=tex.roughness,
        line_density=tex.line_density,
        pore_count=tex.pore_count,
        pore_reason=tex.pore_reason,
        ita_deg=tone.ita_deg,
        tone_class=tone.tone_class,
    )


def measure_regions(
    linear: np.ndarray,
    masks: dict[str, np.ndarray],
    reasons: dict[str, str | None],
    *,
    px_per_mm: float | None,
    area_px_per_mm: float | None,
    scale: float,
    source: Source = "landmarks",
) -> tuple[dict[str, RegionFigures], np.ndarray, np.ndarray]:
    """Figures for every region, the pigment spots found and the line map (working scale).

    Parameters
    ----------
    linear : np.ndarray
        (h, w, 3) corrected linear RGB at the working scale.
    masks : dict of str to np.ndarray
        Bool region masks on that grid (not overlapping).
    reasons : dict of str to str or None
        Why a region is empty already (hidden, covered).
    px_per_mm : float or None
        Working pixels per mm for the measures (chart or known scale).
    area_px_per_mm : float or None
        The best scale available for the 1 cm² rule (``px_per_mm``, else the face's estimate).
    scale : float
        Working pixels per full-resolution pixel (areas are reported at full resolution).
    """
    union = np.zeros(linear.shape[:2], bool)
    usable: dict[str, np.ndarray] = {}
    out: dict[str, RegionFigures] = {}
    for key, mask in masks.items():
        n = int(np.count_nonzero(mask))
        reason = reasons.get(key)
        if reason is None and n < MIN_REGION_WORKING_PX:
            reason = "too small to measure"
        if reason is None and area_px_per_mm is not None and n / area_px_per_mm**2 < MIN_REGION_AREA_MM2:
            reason = f"smaller than 1 cm² ({n / area_px_per_mm**2:.0f} mm²)"
        if reason is not None:
            out[key] = RegionFigures(0, source, reason, Measures.unmeasured(reason), np.zeros_like(mask))
            continue
        usable[key] = mask
        union |= mask
    line_map = np.zeros(union.shape, np.float32)
    if not usable:
        return out, np.zeros(union.shape, bool), line_map
    mi = _pigment.melanin_index(linear)
    spots = _find_spots(mi, usable, union, px_per_mm)
    for key, mask in usable.items():
        measures = _region_measures(key, linear, mask, mi, spots, px_per_mm, line_map)
        out[key] = RegionFigures(round(int(np.count_nonzero(mask)) / scale**2), source, None, measures, mask)
    return {k: out[k] for k in masks}, spots.in_spots & union, line_map


def face_figures(regions: dict[str, RegionFigures], linear: np.ndarray) -> Measures:
    """The face's figures over the union of its measured regions (see the module notes)."""
    measured = {k: r for k, r in regions.items() if r.reason is None and r.mask.any()}
    if not measured:
        return Measures.unmeasured("no region of the face could be measured")
    weights = {k: float(int(np.count_nonzero(r.mask))) for k, r in measured.items()}
    values: dict[str, Any] = {}
    for spec in MEASURES:
        if spec.key in ("spot_area_mm2", "pore_count", "ita_deg"):
            continue
        per = [(getattr(r.measures, spec.key), weights[k]) for k, r in measured.items()]
        if spec.key == "spot_count":
            values[spec.key] = int(sum(v for v, _ in per))
            continue
        finite = [(float(v), w) for v, w in per if v is not None and np.isfinite(float(v))]
        values[spec.key] = sum(v * w for v, w in finite) / sum(w for _, w in finite) if finite else float("nan")
    mm2 = [r.measures.spot_area_mm2 for r in measured.values()]
    values["spot_area_mm2"] = None if any(v is None for v in mm2) else float(sum(v for v in mm2 if v is not None))
    pores = [r.measures.pore_count for r in measured.values()]
    values["pore_count"] = None if any(p is None for p in pores) else int(sum(p for p in pores if p is not None))
    reasons = {r.measures.pore_reason for r in measured.values() if r.measures.pore_reason}
    cheeks = np.zeros(linear.shape[:2], bool)
    for key in TONE_REGIONS:
        if key in measured:
            cheeks |= measured[key].mask
    if not cheeks.any():  # both cheeks hidden: the whole face
        for r in measured.values():
            cheeks |= r.mask
    tone = _tone.skin_tone(linear, cheeks)
    return Measures(
        **values,
        pore_reason=next(iter(reasons)) if values["pore_count"] is None and reasons else None,
        ita_deg=tone.ita_deg,
        tone_class=tone.tone_class,
    )
