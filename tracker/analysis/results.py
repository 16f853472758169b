"""Result types of :func:`tracker.analysis.analyze_photo` and their JSON form.

Every figure a clinic sees comes from one of these frozen dataclasses. Field
names carry units; ``to_dict`` gives the stable JSON documented in the README
(keys may be added, never renamed) and ``from_dict`` reads it back, so stored
results are used as these types, never as nested dicts. Which measures exist,
and where in the JSON each is stored, comes from :mod:`tracker.analysis.measures`.

>>> r = AnalysisResult.from_dict({"measured_in": "photo", "redness": {"erythema_index_mean": 21.5}})
>>> r.measures.erythema_index_mean, r.measures.spot_count, r.comparison
(21.5, 0, None)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from tracker.analysis.measures import MEASURES, Direction, Verdict

__all__ = [
    "AlignmentSummary",
    "AnalysisResult",
    "CalibrationSummary",
    "Comparison",
    "Direction",
    "FaceSummary",
    "MeasureChange",
    "Measures",
    "QualitySummary",
    "RegionComparison",
    "RegionResult",
    "Verdict",
]


def _clean(value: Any) -> Any:
    """JSON-safe scalars: NaN and inf become None, numpy scalars become Python."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) or hasattr(value, "item"):
        v = float(value)
        # Six significant digits: small measures (line density ~0.01) keep their precision.
        return None if not math.isfinite(v) else float(f"{v:.6g}")
    return value


def _float(value: Any, default: float | None = float("nan")) -> float | None:
    """A stored number back as a float (None, a missing value or junk: ``default``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value)


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Measures:
    """The skin measures over one region, in one frame."""

    erythema_index_mean: float
    red_area_pct: float
    a_star_mean: float
    melanin_index_mean: float
    background_melanin_index_mean: float
    spot_count: int
    spot_area_pct: float
    spot_area_mm2: float | None
    pigment_load: float
    roughness: float
    line_density: float
    pore_count: int | None
    pore_reason: str | None
    ita_deg: float
    tone_class: str
    # Chromophore figures (spectral inversion); None in results stored before them.
    haemoglobin_index: float | None = None
    melanin_density: float | None = None
    background_melanin_density: float | None = None
    tone_note: str | None = None  # "camera colours, uncalibrated" when no chart corrected the tone

    @classmethod
    def unmeasured(cls, reason: str) -> Measures:
        """A region too small to measure: every figure missing (NaN / None), no spots."""
        optional = {f.name for f in fields(cls) if "None" in str(f.type)}
        values: dict[str, Any] = {
            spec.key: None if spec.key in optional else 0 if spec.integer else float("nan") for spec in MEASURES}
        return cls(**values, pore_reason=reason, tone_class="unknown")

    def value(self, key: str) -> float | None:
        """The stored value of a registry measure (None when not measured)."""
        v = getattr(self, key, None)
        return None if v is None or not math.isfinite(float(v)) else float(v)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, dict[str, Any]] = {}
        for spec in MEASURES:
            v = getattr(self, spec.key)
            out.setdefault(spec.section, {})[spec.key] = (
                None if v is None else int(v) if spec.integer else _clean(v))
        out["texture"]["pore_reason"] = self.pore_reason
        out["skin_tone"]["class"] = self.tone_class
        out["skin_tone"]["note"] = self.tone_note
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measures:
        """Read the sections written by :meth:`to_dict` (a missing figure reads as NaN, or None where optional)."""
        optional = {f.name for f in fields(cls) if "None" in str(f.type)}
        values: dict[str, Any] = {}
        for spec in MEASURES:
            raw = _section(data, spec.section).get(spec.key)
            if spec.key in optional:
                number = _float(raw, None)
                values[spec.key] = int(number) if spec.integer and number is not None else number
            elif spec.integer:
                values[spec.key] = int(_float(raw, 0.0) or 0)
            else:
                values[spec.key] = _float(raw)
        reason = _section(data, "texture").get("pore_reason")
        tone = _section(data, "skin_tone").get("class")
        note = _section(data, "skin_tone").get("note")
        return cls(**values, pore_reason=reason if isinstance(reason, str) else None,
                   tone_class=tone if isinstance(tone, str) else "unknown",
                   tone_note=note if isinstance(note, str) else None)


@dataclass(frozen=True)
class QualitySummary:
    ok: bool
    reasons: tuple[str, ...]
    sharpness: float
    overexposed_pct: float
    underexposed_pct: float
    jpeg_quality: int | None
    chroma_subsampling: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reasons": list(self.reasons),
            "sharpness": _clean(self.sharpness),
            "overexposed_pct": _clean(self.overexposed_pct),
            "underexposed_pct": _clean(self.underexposed_pct),
            "jpeg_quality": self.jpeg_quality,
            "chroma_subsampling": self.chroma_subsampling,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QualitySummary:
        jpeg = data.get("jpeg_quality")
        return cls(
            ok=data.get("ok") is not False,
            reasons=tuple(str(r) for r in data.get("reasons") or ()),
            sharpness=_float(data.get("sharpness")) or 0.0,
            overexposed_pct=_float(data.get("overexposed_pct")) or 0.0,
            underexposed_pct=_float(data.get("underexposed_pct")) or 0.0,
            jpeg_quality=int(jpeg) if isinstance(jpeg, (int, float)) else None,
            chroma_subsampling=data.get("chroma_subsampling"),
        )


@dataclass(frozen=True)
class CalibrationSummary:
    method: str
    calibrated: bool
    chart_delta_e_mean: float | None
    chart_delta_e_max: float | None
    mm_per_px: float | None  # of the full-resolution image
    chart_corners: tuple[tuple[float, float], ...] | None  # full-resolution px, TL TR BR BL
    notes: tuple[str, ...]
    light_cct_k: float | None = None  # colour temperature of the light, from the chart's greys

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "calibrated": self.calibrated,
            "chart_delta_e_mean": _clean(self.chart_delta_e_mean),
            "chart_delta_e_max": _clean(self.chart_delta_e_max),
            "mm_per_px": _clean(self.mm_per_px),
            "chart_corners": [list(map(_clean, c)) for c in self.chart_corners] if self.chart_corners else None,
            "light_cct_k": _clean(self.light_cct_k),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CalibrationSummary:
        corners = data.get("chart_corners")
        return cls(
            method=str(data.get("method") or "none"),
            calibrated=bool(data.get("calibrated")),
            chart_delta_e_mean=_float(data.get("chart_delta_e_mean"), None),
            chart_delta_e_max=_float(data.get("chart_delta_e_max"), None),
            mm_per_px=_float(data.get("mm_per_px"), None),
            chart_corners=tuple((float(c[0]), float(c[1])) for c in corners) if corners else None,
            notes=tuple(str(n) for n in data.get("notes") or ()),
            light_cct_k=_float(data.get("light_cct_k"), None),
        )


@dataclass(frozen=True)
class AlignmentSummary:
    ok: bool
    reason: str | None
    matrix: tuple[tuple[float, float, float], tuple[float, float, float]] | None  # photo px -> baseline px, full resolution
    residual_px: float | None  # full-resolution baseline px
    similarity: float | None
    inliers: int
    method: str | None = None  # "features" (close-ups) or "face landmarks + dense refinement"
    # 3x3 photo px -> baseline px, full resolution, when the camera turned between the photos
    # (the warp used; ``matrix`` is then the affine that agrees with it at the photo's centre).
    homography: tuple[tuple[float, ...], ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reason": self.reason,
            "matrix": [[float(v) for v in row] for row in self.matrix] if self.matrix is not None else None,
            "residual_px": _clean(self.residual_px),
            "similarity": _clean(self.similarity),
            "inliers": int(self.inliers),
            "method": self.method,
            # Only when there is one: results from before it read as they did.
            **({"homography": [[float(v) for v in row] for row in self.homography]} if self.homography is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlignmentSummary:
        m = data.get("matrix")
        matrix = (tuple(float(v) for v in m[0]), tuple(float(v) for v in m[1])) if m else None
        h = data.get("homography")
        homography = tuple(tuple(float(v) for v in row) for row in h) if h else None
        return cls(ok=bool(data.get("ok")), reason=data.get("reason"), matrix=matrix,  # type: ignore[arg-type]
                   residual_px=_float(data.get("residual_px"), None), similarity=_float(data.get("similarity"), None),
                   inliers=int(data.get("inliers") or 0),
                   method=data.get("method") if isinstance(data.get("method"), str) else None,
                   homography=homography)


@dataclass(frozen=True)
class MeasureChange:
    """One measure's change against the baseline, judged against its MDC."""

    measure: str
    photo: float | None
    baseline: float | None
    delta: float | None
    mdc: float
    direction: Direction
    verdict: Verdict
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "photo": _clean(self.photo),
            "baseline": _clean(self.baseline),
            "value": _clean(self.delta),
            "mdc": _clean(self.mdc),
            "direction": self.direction,
            "verdict": self.verdict,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, measure: str, data: dict[str, Any]) -> MeasureChange:
        return cls(measure=measure, photo=_float(data.get("photo"), None), baseline=_float(data.get("baseline"), None),
                   delta=_float(data.get("value"), None), mdc=_float(data.get("mdc")) or 0.0,
                   direction=data.get("direction") or "lower_is_better", verdict=data.get("verdict") or "not comparable",
                   note=data.get("note"))


@dataclass(frozen=True)
class FaceSummary:
    """What was found about the face (``face`` in the JSON; None for a declared close-up)."""

    found: bool
    landmark_count: int
    view: str | None  # front, left_oblique, right_oblique, left_profile, right_profile
    pose_deg: tuple[float, float, float] | None  # yaw, pitch, roll
    landmarks_reliable: bool = False
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        pose = None
        if self.pose_deg is not None:
            pose = {k: round(float(v), 1) for k, v in zip(("yaw", "pitch", "roll"), self.pose_deg, strict=True)}
        return {"found": self.found, "landmark_count": int(self.landmark_count), "view": self.view, "pose_deg": pose,
                "landmarks_reliable": self.landmarks_reliable, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaceSummary:
        pose = data.get("pose_deg")
        angles = None
        if isinstance(pose, dict):
            angles = (_float(pose.get("yaw")) or 0.0, _float(pose.get("pitch")) or 0.0, _float(pose.get("roll")) or 0.0)
        view = data.get("view")
        reason = data.get("reason")
        return cls(found=bool(data.get("found")), landmark_count=int(data.get("landmark_count") or 0),
                   view=view if isinstance(view, str) else None, pose_deg=angles,
                   landmarks_reliable=bool(data.get("landmarks_reliable")),
                   reason=reason if isinstance(reason, str) else None)


@dataclass(frozen=True)
class RegionResult:
    """One anatomical region's figures (``regions.<key>`` in the JSON)."""

    area_px: int  # full-resolution px of the frame measured in; 0 when not measured
    source: Literal["landmarks", "drawn"]
    reason: str | None
    measures: Measures

    def to_dict(self) -> dict[str, Any]:
        return {"area_px": int(self.area_px), "source": self.source, "reason": self.reason, **self.measures.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegionResult:
        reason = data.get("reason")
        return cls(area_px=int(data.get("area_px") or 0),
                   source="drawn" if data.get("source") == "drawn" else "landmarks",
                   reason=reason if isinstance(reason, str) else None, measures=Measures.from_dict(data))


@dataclass(frozen=True)
class RegionComparison:
    """One region compared with the baseline (``comparison.regions.<key>``), against that region's own MDC."""

    common_area_px: int  # full-resolution baseline px
    baseline: Measures
    changes: tuple[MeasureChange, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"common_area_px": int(self.common_area_px), "baseline": self.baseline.to_dict(),
                "delta": {c.measure: c.to_dict() for c in self.changes}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegionComparison:
        return cls(common_area_px=int(data.get("common_area_px") or 0),
                   baseline=Measures.from_dict(_section(data, "baseline")),
                   changes=tuple(MeasureChange.from_dict(k, v) for k, v in _section(data, "delta").items()
                                 if isinstance(v, dict)))

    def change(self, key: str) -> MeasureChange | None:
        return next((c for c in self.changes if c.measure == key), None)


@dataclass(frozen=True)
class Comparison:
    common_area_px: int  # full-resolution baseline px
    calibrated: bool
    baseline: Measures
    changes: tuple[MeasureChange, ...]
    notes: tuple[str, ...]
    regions: dict[str, RegionComparison] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "common_area_px": int(self.common_area_px),
            "calibrated": self.calibrated,
            "baseline": self.baseline.to_dict(),
            "delta": {c.measure: c.to_dict() for c in self.changes},
            "notes": list(self.notes),
            "regions": {k: r.to_dict() for k, r in self.regions.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        return cls(
            common_area_px=int(data.get("common_area_px") or 0),
            calibrated=bool(data.get("calibrated")),
            baseline=Measures.from_dict(_section(data, "baseline")),
            changes=tuple(MeasureChange.from_dict(k, v) for k, v in _section(data, "delta").items()
                          if isinstance(v, dict)),
            notes=tuple(str(n) for n in data.get("notes") or ()),
            regions={k: RegionComparison.from_dict(v) for k, v in _section(data, "regions").items()
                     if isinstance(v, dict)},
        )

    def change(self, key: str) -> MeasureChange | None:
        """The change of one measure, or None when it was not compared."""
        return next((c for c in self.changes if c.measure == key), None)


@dataclass(frozen=True)
class AnalysisResult:
    """Everything measured for one photo, optionally against its baseline."""

    analysis_version: str
    parameters: dict[str, Any]
    measured_in: Literal["baseline", "photo"]
    width: int
    height: int
    working_scale: float
    px_per_mm: float | None  # working-scale pixels per millimetre, None when unknown
    quality: QualitySummary
    calibration: CalibrationSummary
    baseline_calibration: CalibrationSummary | None
    alignment: AlignmentSummary | None
    roi_area_px: int  # full-resolution px of the frame measured in
    roi_lost_to_clipping_pct: float
    measures: Measures
    mdc: dict[str, float]
    directions: dict[str, Direction]
    comparison: Comparison | None
    timings_s: dict[str, float] = field(default_factory=dict)
    face: FaceSummary | None = None  # None only for a declared close-up
    regions: dict[str, RegionResult] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "analysis_version": self.analysis_version,
            "parameters": self.parameters,
            "measured_in": self.measured_in,
            "image": {"width": self.width, "height": self.height},
            "working_scale": _clean(self.working_scale),
            "px_per_mm": _clean(self.px_per_mm),
            "quality": self.quality.to_dict(),
            "calibration": self.calibration.to_dict(),
            "baseline_calibration": self.baseline_calibration.to_dict() if self.baseline_calibration else None,
            "alignment": self.alignment.to_dict() if self.alignment else None,
            "roi": {"area_px": int(self.roi_area_px), "lost_to_clipping_pct": _clean(self.roi_lost_to_clipping_pct)},
        }
        out.update(self.measures.to_dict())
        out["mdc"] = {k: _clean(v) for k, v in self.mdc.items()}
        out["direction"] = dict(self.directions)
        out["face"] = self.face.to_dict() if self.face is not None else None
        out["regions"] = {k: r.to_dict() for k, r in self.regions.items()}
        out["comparison"] = self.comparison.to_dict() if self.comparison else None
        out["timings_s"] = {k: round(v, 4) for k, v in self.timings_s.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalysisResult:
        """The stored JSON (``to_dict``) back as typed results; older results lacking newer keys still load."""
        image = _section(data, "image")
        roi = _section(data, "roi")
        baseline_cal = data.get("baseline_calibration")
        alignment = data.get("alignment")
        comparison = data.get("comparison")
        face = data.get("face")
        return cls(
            analysis_version=str(data.get("analysis_version") or ""),
            parameters=_section(data, "parameters"),
            measured_in="baseline" if data.get("measured_in") == "baseline" else "photo",
            width=int(image.get("width") or 0),
            height=int(image.get("height") or 0),
            working_scale=_float(data.get("working_scale")) or 1.0,
            px_per_mm=_float(data.get("px_per_mm"), None),
            quality=QualitySummary.from_dict(_section(data, "quality")),
            calibration=CalibrationSummary.from_dict(_section(data, "calibration")),
            baseline_calibration=CalibrationSummary.from_dict(baseline_cal) if isinstance(baseline_cal, dict) else None,
            alignment=AlignmentSummary.from_dict(alignment) if isinstance(alignment, dict) else None,
            roi_area_px=int(roi.get("area_px") or 0),
            roi_lost_to_clipping_pct=_float(roi.get("lost_to_clipping_pct")) or 0.0,
            measures=Measures.from_dict(data),
            mdc={k: float(v) for k, v in _section(data, "mdc").items() if isinstance(v, (int, float))},
            directions=dict(_section(data, "direction")),
            comparison=Comparison.from_dict(comparison) if isinstance(comparison, dict) else None,
            timings_s={k: float(v) for k, v in _section(data, "timings_s").items() if isinstance(v, (int, float))},
            face=FaceSummary.from_dict(face) if isinstance(face, dict) else None,
            regions={k: RegionResult.from_dict(v) for k, v in _section(data, "regions").items() if isinstance(v, dict)},
        )

    @property
    def aligned(self) -> bool:
        """Compared with its baseline after an alignment that held."""
        return self.alignment is not None and self.alignment.ok and self.comparison is not None
