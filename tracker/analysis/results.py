"""Result types of :func:`tracker.analysis.analyze_photo` and their JSON form.

Every figure a clinic sees comes from one of these frozen dataclasses. Field
names carry units; ``to_dict`` gives the stable JSON documented in the README
(keys may be added, never renamed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["improved", "no measurable change", "worse", "not comparable"]
Direction = Literal["lower_is_better", "higher_is_better", "either_is_a_flag"]


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "redness": {
                "erythema_index_mean": _clean(self.erythema_index_mean),
                "red_area_pct": _clean(self.red_area_pct),
                "a_star_mean": _clean(self.a_star_mean),
            },
            "pigment": {
                "melanin_index_mean": _clean(self.melanin_index_mean),
                "background_melanin_index_mean": _clean(self.background_melanin_index_mean),
                "spot_count": int(self.spot_count),
                "spot_area_pct": _clean(self.spot_area_pct),
                "spot_area_mm2": _clean(self.spot_area_mm2),
                "pigment_load": _clean(self.pigment_load),
            },
            "texture": {
                "roughness": _clean(self.roughness),
                "line_density": _clean(self.line_density),
                "pore_count": self.pore_count,
                "pore_reason": self.pore_reason,
            },
            "skin_tone": {"ita_deg": _clean(self.ita_deg), "class": self.tone_class},
        }


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


@dataclass(frozen=True)
class AlignmentSummary:
    ok: bool
    reason: str | None
    matrix: tuple[tuple[float, float, float], tuple[float, float, float]] | None  # photo px -> baseline px, full resolution
    residual_px: float | None  # full-resolution baseline px
    similarity: float | None
    inliers: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reason": self.reason,
            "matrix": [[float(v) for v in row] for row in self.matrix] if self.matrix is not None else None,
            "residual_px": _clean(self.residual_px),
            "similarity": _clean(self.similarity),
            "inliers": int(self.inliers),
        }


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


@dataclass(frozen=True)
class Comparison:
    common_area_px: int  # full-resolution baseline px
    calibrated: bool
    baseline: Measures
    changes: tuple[MeasureChange, ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "common_area_px": int(self.common_area_px),
            "calibrated": self.calibrated,
            "baseline": self.baseline.to_dict(),
            "delta": {c.measure: c.to_dict() for c in self.changes},
            "notes": list(self.notes),
        }


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
        out["comparison"] = self.comparison.to_dict() if self.comparison else None
        out["timings_s"] = {k: round(v, 4) for k, v in self.timings_s.items()}
        return out
