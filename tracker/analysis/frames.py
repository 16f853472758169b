"""An image prepared for measurement at its working scale, a prepared baseline, and what an analysis returns."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tracker.analysis import alignment as _alignment
from tracker.analysis import calibration as _calibration
from tracker.analysis import decode as _decode
from tracker.analysis import quality as _quality
from tracker.analysis.face_analysis import FaceFrame
from tracker.analysis.chromophores import ChromophoreMaps
from tracker.analysis.results import AnalysisResult

ImageSource = str | os.PathLike[str] | bytes
MaskSource = str | os.PathLike[str] | np.ndarray


class AnalysisInputError(ValueError):
    """A caller-supplied input (mask, corners, scale) does not fit the image."""


@dataclass(frozen=True)
class Frame:
    """One image prepared for measurement at its working scale."""

    decoded: _decode.DecodedImage
    srgb: np.ndarray  # calibrated, display-encoded, working scale
    linear: np.ndarray  # calibrated linear RGB, working scale
    calibration: _calibration.Calibration
    skin: np.ndarray  # automatic region ∩ user mask, clipped pixels still in
    region: np.ndarray  # skin minus clipped pixels: what is measured
    lost_to_clipping_pct: float
    quality: _quality.QualityReport
    px_per_mm: float | None  # working pixels per mm
    chromophores: ChromophoreMaps  # melanin and blood maps, same frame
    face: FaceFrame | None = None  # the face and its regions; None for a declared close-up
    chromophores_s: float = 0.0  # time spent on the chromophore maps
    chromophores_cpu_s: float = 0.0  # CPU time of their thread in them (OpenCV's own threads not counted)
    faces_s: float = 0.0  # time spent finding the face, its landmarks and regions

    @property
    def shape(self) -> tuple[int, int]:
        return self.linear.shape[:2]

    @property
    def scale(self) -> float:
        return float(self.decoded.scale)


@dataclass(frozen=True)
class PreparedBaseline:
    """A baseline photo decoded, calibrated and ready to align against.

    Build it once per (series, view) with :func:`prepare_baseline` and pass it as
    ``baseline=`` for every later photo of that view: decoding, calibration and
    the alignment features are not recomputed.
    """

    frame: Frame
    reference: _alignment.PreparedReference
    roi_supplied: bool


@dataclass(frozen=True)
class Artifacts:
    """Arrays behind a result, in the frame measured in, at working scale (for overlays)."""

    srgb: np.ndarray
    region: np.ndarray
    erythema_map: np.ndarray
    spot_mask: np.ndarray
    line_map: np.ndarray
    aligned: bool
    full_size: tuple[int, int]  # (width, height) of the frame at full resolution
    region_masks: dict[str, np.ndarray] = field(default_factory=dict)  # anatomical regions measured, working scale
    haemoglobin_map: np.ndarray | None = None  # blood volume fraction, %, NaN where not measured
    melanin_map: np.ndarray | None = None  # epidermal melanin fraction, %, NaN where not measured
    hair_mask: np.ndarray | None = None  # hair filled in before texture (close-ups; None for faces)


@dataclass(frozen=True)
class Analysis:
    """What :func:`analyze_photo` returns: the result and the arrays behind it."""

    result: AnalysisResult
    artifacts: Artifacts = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return self.result.to_dict()
