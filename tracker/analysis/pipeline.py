"""analyze_photo: decode, quality, calibration, alignment to the baseline, measures.

One rule for frames: a comparison lives in the baseline's frame. With a baseline
the photo is warped into it and both are measured over the common region
(region of interest ∩ the warped photo's valid area ∩ unclipped pixels in both),
so the two sets of figures are directly comparable. When alignment is refused the
photo is measured alone in its own frame and there is no comparison.

Working scale: images are decoded at 1/2, 1/4 ... of full size when that still
leaves at least ``MIN_WORKING_LONG_SIDE_PX`` pixels on the long side and (when the
scale is known) ``MIN_WORKING_PX_PER_MM`` pixels per millimetre: 15 px/mm resolves
1 mm spots and fine lines, and working at full 12 MP resolution costs several
times more for no measurable gain. Every coordinate that leaves this module
(matrix, chart corners, masks, areas) refers to the full-resolution,
EXIF-oriented image.
"""

from __future__ import annotations

import io
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pillow_heif
from PIL import Image, UnidentifiedImageError

from tracker.analysis import alignment as _alignment
from tracker.analysis import calibration as _calibration
from tracker.analysis import decode as _decode
from tracker.analysis import pigment as _pigment
from tracker.analysis import quality as _quality
from tracker.analysis import redness as _redness
from tracker.analysis import roi as _roi
from tracker.analysis import texture as _texture
from tracker.analysis import tone as _tone
from tracker.analysis.chart_reference import DEFAULT_CHART
from tracker.analysis.colour import linear_to_srgb
from tracker.analysis.mdc import (
    DIRECTIONS,
    EXPOSURE_DEPENDENT,
    mdc_provenance,
    mdc_table,
)
from tracker.analysis.measures import COLOUR_KEYS, COMPARED
from tracker.analysis.results import (
    AlignmentSummary,
    AnalysisResult,
    CalibrationSummary,
    Comparison,
    MeasureChange,
    Measures,
    QualitySummary,
)
from tracker.analysis.version import ANALYSIS_VERSION

MIN_WORKING_LONG_SIDE_PX = 1600
MIN_WORKING_PX_PER_MM = 15.0
#: Below this many working pixels a region cannot give stable figures.
MIN_REGION_PX = 2000
#: A comparison whose common region keeps less than this share of the baseline's
#: region is reported, since it may not represent the treated area.
MIN_COMMON_SHARE = 0.5

pillow_heif.register_heif_opener()

#: Colour measures compared across lights further apart than this (in mireds, 1e6/K)
#: are not comparable: skin and chart differ spectrally (haemoglobin's 540-580 nm
#: bands), so no chart correction carries skin colour exactly from one light to
#: another. Measured on the simulator against a 6500 K baseline: photos at 6000-7500 K
#: recover 95-99 % of a true redness change, but at 5500 K (28 mired away) with a 20 %
#: gradient only 88 %, and a light-only change there reads +0.7 EI.
LIGHT_MISMATCH_MIRED = 20.0
#: Below this colour temperature even a same-light pair misreads redness changes
#: (a chart-corrected 2700 K pair reports about 118 % of the true change).
MIN_COLOUR_CCT_K = 3500.0
#: The measures that depend on the colour of the skin (not on its geometry): the registry's.
COLOUR_MEASURES = COLOUR_KEYS

ImageSource = str | os.PathLike[str] | bytes
MaskSource = str | os.PathLike[str] | np.ndarray


class AnalysisInputError(ValueError):
    """A caller-supplied input (mask, corners, scale) does not fit the image."""


@dataclass(frozen=True)
class _Frame:
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

    frame: _Frame
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


@dataclass(frozen=True)
class Analysis:
    """What :func:`analyze_photo` returns: the result and the arrays behind it."""

    result: AnalysisResult
    artifacts: Artifacts = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return self.result.to_dict()


# --- inputs -----------------------------------------------------------------


def _probe_long_side(source: ImageSource) -> int:
    """The long side of the image from its header alone (no pixel decode)."""
    try:
        with warnings.catch_warnings():
            # A huge header is the decoder's to refuse, with its own clear reason.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(source) if isinstance(source, bytes) else os.fspath(source)) as im:
                return max(im.size)
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as e:
        # Let the decoder give its own, precise refusal.
        _decode.decode_image(source)
        raise _decode.ImageDecodeError(f"cannot read image header: {e}") from e


def _full_size_and_reduce(source: ImageSource, mm_per_px: float | None) -> int:
    """Pick the decode reduction from the header alone (no pixel decode)."""
    long_side = _probe_long_side(source)
    reduce = 1
    for candidate in (2, 4, 8):
        if long_side / candidate < MIN_WORKING_LONG_SIDE_PX:
            break
        if mm_per_px is not None and (1.0 / mm_per_px) / candidate < MIN_WORKING_PX_PER_MM:
            break
        reduce = candidate
    return reduce


def _load_mask(mask: MaskSource, *, full_size: tuple[int, int], shape: tuple[int, int], what: str) -> np.ndarray:
    """A caller's mask on the full-resolution grid, resampled to the working grid."""
    if isinstance(mask, np.ndarray):
        arr = mask
    else:
        arr = cv2.imread(os.fspath(mask), cv2.IMREAD_GRAYSCALE | cv2.IMREAD_IGNORE_ORIENTATION)
        if arr is None:
            raise AnalysisInputError(f"roi: cannot read mask image {os.fspath(mask)!r}")
    if arr.ndim == 3:
        arr = arr[..., 0]
    if arr.ndim != 2:
        raise AnalysisInputError(f"roi: mask must be 2-D, got shape {arr.shape}")
    width, height = full_size
    if arr.shape != (height, width):
        raise AnalysisInputError(
            f"roi: mask is {arr.shape[1]}x{arr.shape[0]} px but the {what} is {width}x{height} px"
        )
    on = (arr > 127) if arr.dtype != bool else arr
    small = cv2.resize(on.astype(np.uint8) * 255, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    return small >= 128


def _parse_corners(corners: Any, *, scale: float, what: str) -> np.ndarray | None:
    if corners is None:
        return None
    arr = np.asarray(corners, dtype=np.float64)
    if arr.size != 8:
        raise AnalysisInputError(f"{what}: expected 4 corners (8 numbers), got {arr.size}")
    return arr.reshape(4, 2) * scale


def _prepare_frame(
    source: ImageSource,
    *,
    roi: MaskSource | None,
    chart_corners: Any,
    mm_per_px: float | None,
    what: str,
    chart_model: str | None = None,
) -> _Frame:
    reduce = _full_size_and_reduce(source, mm_per_px)
    decoded = _decode.decode_image(source, reduce=reduce)
    srgb = decoded.srgb
    corners = _parse_corners(chart_corners, scale=decoded.scale, what=f"{what} chart corners")
    calib = _calibration.calibrate(srgb, chart_corners=corners, chart_model=chart_model or DEFAULT_CHART)
    # Skin is found, and photos are aligned, on the corrected image: under a 2700 K
    # cast raw skin chromaticity leaves any skin model. Clipping is judged on the raw one.
    corrected_srgb = linear_to_srgb(calib.linear)
    auto = _roi.skin_region(corrected_srgb, exclude=calib.chart_mask)
    if roi is not None:
        auto = auto & _load_mask(roi, full_size=(decoded.full_width, decoded.full_height), shape=auto.shape, what=what)
    clipped = _roi.clipped_mask(srgb)
    region = auto & ~clipped
    skin_px = int(auto.sum())
    lost = 100.0 * (skin_px - int(region.sum())) / skin_px if skin_px else 0.0
    quality = _quality.assess_quality(decoded, region=auto)
    if calib.mm_per_px is not None:  # the chart knows best
        px_per_mm = 1.0 / calib.mm_per_px
    elif mm_per_px is not None:
        px_per_mm = decoded.scale / mm_per_px
    else:
        px_per_mm = None
    return _Frame(decoded, corrected_srgb, calib.linear, calib, auto, region, lost, quality, px_per_mm)


def prepare_baseline(
    baseline: ImageSource,
    *,
    roi: MaskSource | None = None,
    chart_corners: Any = None,
    mm_per_px: float | None = None,
    chart_model: str | None = None,
) -> PreparedBaseline:
    """Decode, calibrate and index a baseline photo for repeated comparisons.

    Parameters
    ----------
    baseline : path or bytes
        The series baseline of one view (JPEG, PNG, HEIC).
    roi : path or array, optional
        Measurement region drawn on the baseline's full-resolution grid (white = in).
    chart_corners : sequence of 8 numbers, optional
        The chart's corners (TL, TR, BR, BL; full-resolution px) when detection fails.
    mm_per_px : float, optional
        Known scale of the full-resolution baseline, used when no chart gives one.
    chart_model : str, optional
        Which chart the clinic uses (``chart_reference.CHART_SIZES_MM``): gives the scale.
    """
    frame = _prepare_frame(
        baseline, roi=roi, chart_corners=chart_corners, mm_per_px=mm_per_px, what="baseline", chart_model=chart_model
    )
    reference = _alignment.prepare_reference(frame.srgb, mask=_alignment_mask(frame))
    return PreparedBaseline(frame=frame, reference=reference, roi_supplied=roi is not None)


#: The alignment mask reaches this far (share of the long side) beyond the skin, so
#: that a face's hairline, ears and outline help the fit while the room does not.
ALIGNMENT_MARGIN = 0.06


def _alignment_mask(frame: _Frame) -> np.ndarray:
    """Skin and its surroundings without the chart (the chart biases a warp)."""
    # A wide dilation at working scale costs seconds; on a 1/8 copy it is milliseconds,
    # and the margin need not be exact.
    h, w = frame.shape
    small_size = (max(1, w // 8), max(1, h // 8))
    small = cv2.resize(frame.skin.astype(np.uint8), small_size, interpolation=cv2.INTER_AREA)
    radius = max(1, int(ALIGNMENT_MARGIN * max(small_size)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    grown = cv2.dilate(small, kernel)
    near_skin = cv2.resize(grown, (w, h), interpolation=cv2.INTER_NEAREST) > 0
    near_skin |= frame.skin
    if frame.calibration.chart_mask is not None:
        near_skin &= ~frame.calibration.chart_mask
    return near_skin


# --- measuring ----------------------------------------------------------------


def _measure(linear: np.ndarray, region: np.ndarray, px_per_mm: float | None) -> tuple[Measures, dict[str, np.ndarray]]:
    ei_map = _redness.erythema_index(linear)
    if int(region.sum()) < MIN_REGION_PX:
        empty = np.zeros(region.shape, dtype=bool)
        measures = Measures.unmeasured("region too small")
        return measures, {"erythema_map": ei_map, "spot_mask": empty, "line_map": np.zeros(region.shape, np.float32)}
    red = _redness.measure_redness(linear, region)
    pig = _pigment.measure_pigment(linear, region, px_per_mm=px_per_mm)
    tex = _texture.measure_texture(linear, region, px_per_mm=px_per_mm)
    tone = _tone.skin_tone(linear, region)
    measures = Measures(
        erythema_index_mean=red.erythema_index_mean,
        red_area_pct=red.red_area_pct,
        a_star_mean=red.a_star_mean,
        melanin_index_mean=pig.melanin_index_mean,
        background_melanin_index_mean=pig.background_melanin_index_mean,
        spot_count=pig.spot_count,
        spot_area_pct=pig.spot_area_pct,
        spot_area_mm2=pig.spot_area_mm2,
        pigment_load=pig.pigment_load,
        roughness=tex.roughness,
        line_density=tex.line_density,
        pore_count=tex.pore_count,
        pore_reason=tex.pore_reason,
        ita_deg=tone.ita_deg,
        tone_class=tone.tone_class,
    )
    return measures, {"erythema_map": ei_map, "spot_mask": pig.spot_mask, "line_map": tex.line_map}


def _light_problem(photo_cct: float | None, baseline_cct: float | None) -> str | None:
    """Why the two photos' light makes colour measures incomparable, or None."""
    for label, cct in (("this photo", photo_cct), ("the baseline", baseline_cct)):
        if cct is not None and cct < MIN_COLOUR_CCT_K:
            return f"{label} was taken under warm light (about {cct:,.0f} K): retake under the clinic's daylight lamp"
    if photo_cct is None or baseline_cct is None:
        return None
    mired = abs(1e6 / photo_cct - 1e6 / baseline_cct)
    if mired > LIGHT_MISMATCH_MIRED:
        return (
            f"the light differs from the baseline's (about {photo_cct:,.0f} K vs {baseline_cct:,.0f} K):"
            " retake under the same light as the baseline"
        )
    return None


def _judge(
    measure: str, photo: float, baseline: float, *, mdc: float, calibrated: bool, light_problem: str | None = None
) -> MeasureChange:
    direction = DIRECTIONS[measure]
    if not (np.isfinite(photo) and np.isfinite(baseline)):
        return MeasureChange(measure, photo, baseline, None, mdc, direction, "not comparable", "not measurable in one of the photos")
    delta = float(photo) - float(baseline)
    if light_problem is not None and measure in COLOUR_MEASURES:
        return MeasureChange(measure, photo, baseline, delta, mdc, direction, "not comparable", light_problem)
    if not calibrated and measure in EXPOSURE_DEPENDENT:
        note = "depends on exposure and light, and neither photo has a colour reference: no verdict"
        return MeasureChange(measure, photo, baseline, delta, mdc, direction, "not comparable", note)
    if abs(delta) <= mdc:
        return MeasureChange(measure, photo, baseline, delta, mdc, direction, "no measurable change")
    if direction == "lower_is_better":
        verdict = "improved" if delta < 0 else "worse"
        return MeasureChange(measure, photo, baseline, delta, mdc, direction, verdict)
    if direction == "higher_is_better":
        verdict = "improved" if delta > 0 else "worse"
        return MeasureChange(measure, photo, baseline, delta, mdc, direction, verdict)
    note = (
        "darker outside spots: possible hyperpigmentation"
        if delta > 0
        else "lighter outside spots: possible hypopigmentation"
    )
    return MeasureChange(measure, photo, baseline, delta, mdc, direction, "worse", note)


def _measure_values(m: Measures) -> dict[str, float]:
    """The compared measures (registry order), NaN where not measured."""
    return {spec.key: float("nan") if (v := m.value(spec.key)) is None else v for spec in COMPARED}


# --- summaries ------------------------------------------------------------------


def _quality_summary(q: _quality.QualityReport) -> QualitySummary:
    return QualitySummary(q.ok, tuple(q.reasons), q.sharpness, q.overexposed_pct, q.underexposed_pct, q.jpeg_quality, q.chroma_subsampling)


def _calibration_summary(frame: _Frame) -> CalibrationSummary:
    c = frame.calibration
    s = frame.scale
    corners = None
    if c.chart_corners is not None:
        corners = tuple((float(x) / s, float(y) / s) for x, y in np.asarray(c.chart_corners).reshape(4, 2))
    mm_full = c.mm_per_px * s if c.mm_per_px is not None else None
    return CalibrationSummary(
        c.method, c.calibrated, c.chart_delta_e_mean, c.chart_delta_e_max, mm_full, corners, tuple(c.notes), c.light_cct_k
    )


def _full_res_matrix(matrix: np.ndarray, *, photo_scale: float, baseline_scale: float) -> np.ndarray:
    """Working-scale photo->baseline affine to full-resolution photo->baseline."""
    full = np.array(matrix, dtype=np.float64).copy()
    full[:, :2] *= photo_scale / baseline_scale
    full[:, 2] /= baseline_scale
    return full


def _matrix_scale(matrix: np.ndarray) -> float:
    return float(np.sqrt(abs(np.linalg.det(np.asarray(matrix)[:, :2]))))


# --- the entry point --------------------------------------------------------------


def analyze_photo(
    photo: ImageSource,
    *,
    baseline: ImageSource | PreparedBaseline | None = None,
    roi: MaskSource | None = None,
    chart_corners: Any = None,
    baseline_chart_corners: Any = None,
    mm_per_px: float | None = None,
    chart_model: str | None = None,
) -> Analysis:
    """Measure redness, pigment and texture of a photo, against its baseline when given.

    Parameters
    ----------
    photo : path or bytes
        JPEG, PNG or HEIC; EXIF orientation and ICC profiles are honoured.
    baseline : path, bytes or PreparedBaseline, optional
        The series baseline of the same view. The photo is aligned to it and both are
        measured over their common region in the baseline's frame.
    roi : path or array, optional
        Measurement region, white = in: on the baseline's full-resolution grid when a
        baseline is given, else on the photo's. (With a PreparedBaseline, its own roi is used.)
    chart_corners, baseline_chart_corners : 8 numbers, optional
        ColorChecker corners TL, TR, BR, BL in full-resolution px, for photos where
        automatic detection fails.
    mm_per_px : float, optional
        Scale of the full-resolution photo (and of a baseline given as a path) when no
        chart gives one.
    chart_model : str, optional
        The clinic's chart model (default ``chart_reference.DEFAULT_CHART``), for the scale.

    Returns
    -------
    Analysis
        ``.result`` (frozen, ``to_dict()`` gives the JSON) and ``.artifacts`` (arrays for overlays).

    Raises
    ------
    tracker.analysis.decode.ImageDecodeError
        The photo or the baseline cannot be read (not an image, truncated, too large).
    AnalysisInputError
        A mask or corners that do not fit their image.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        base_future = None
        if baseline is not None and not isinstance(baseline, PreparedBaseline):
            base_future = pool.submit(
                prepare_baseline,
                baseline,
                roi=roi,
                chart_corners=baseline_chart_corners,
                mm_per_px=mm_per_px,
                chart_model=chart_model,
            )
        photo_roi = roi if baseline is None else None
        frame_future = pool.submit(
            _prepare_frame,
            photo,
            roi=photo_roi,
            chart_corners=chart_corners,
            mm_per_px=mm_per_px,
            what="photo",
            chart_model=chart_model,
        )
        frame = frame_future.result()
        prepared = base_future.result() if base_future is not None else baseline
    timings["prepare_s"] = time.perf_counter() - t0
    assert prepared is None or isinstance(prepared, PreparedBaseline)

    parameters = {
        "min_working_long_side_px": MIN_WORKING_LONG_SIDE_PX,
        "min_working_px_per_mm": MIN_WORKING_PX_PER_MM,
        "red_area_ei_threshold": float(_redness.RED_AREA_EI_THRESHOLD),
        "light_mismatch_mired": LIGHT_MISMATCH_MIRED,
        "min_colour_cct_k": MIN_COLOUR_CCT_K,
        "mdc": mdc_provenance(),
        "roi_supplied": roi is not None or bool(prepared and prepared.roi_supplied),
    }
    alignment_summary: AlignmentSummary | None = None
    comparison: Comparison | None = None

    if prepared is not None:
        t1 = time.perf_counter()
        aligned = _alignment.align(frame.srgb, prepared.reference, moving_mask=_alignment_mask(frame))
        timings["align_s"] = time.perf_counter() - t1
        base = prepared.frame
        if aligned.ok and aligned.matrix is not None:
            full_matrix = _full_res_matrix(aligned.matrix, photo_scale=frame.scale, baseline_scale=base.scale)
            residual = aligned.residual_px / base.scale if aligned.residual_px is not None else None
            alignment_summary = AlignmentSummary(
                True, None, tuple(map(tuple, full_matrix.tolist())), residual, aligned.similarity, aligned.inliers
            )
            return _compare(frame, prepared, aligned, alignment_summary, parameters, timings, t0)
        alignment_summary = AlignmentSummary(False, aligned.reason, None, None, aligned.similarity, aligned.inliers)

    t2 = time.perf_counter()
    measures, maps = _measure(frame.linear, frame.region, frame.px_per_mm)
    timings["measure_s"] = time.perf_counter() - t2
    calibrated = frame.calibration.calibrated
    result = AnalysisResult(
        analysis_version=ANALYSIS_VERSION,
        parameters=parameters,
        measured_in="photo",
        width=frame.decoded.full_width,
        height=frame.decoded.full_height,
        working_scale=frame.scale,
        px_per_mm=frame.px_per_mm,
        quality=_quality_summary(frame.quality),
        calibration=_calibration_summary(frame),
        baseline_calibration=_calibration_summary(prepared.frame) if prepared is not None else None,
        alignment=alignment_summary,
        roi_area_px=int(round(int(frame.region.sum()) / frame.scale**2)),
        roi_lost_to_clipping_pct=frame.lost_to_clipping_pct,
        measures=measures,
        mdc=mdc_table(calibrated=calibrated),
        directions=dict(DIRECTIONS),
        comparison=None,
        timings_s={**timings, "total_s": time.perf_counter() - t0},
    )
    artifacts = Artifacts(
        srgb=frame.srgb,
        region=frame.region,
        aligned=False,
        full_size=(frame.decoded.full_width, frame.decoded.full_height),
        **maps,
    )
    return Analysis(result, artifacts)


def _compare(
    frame: _Frame,
    prepared: PreparedBaseline,
    aligned: _alignment.Alignment,
    alignment_summary: AlignmentSummary,
    parameters: dict[str, Any],
    timings: dict[str, float],
    t0: float,
) -> Analysis:
    base = prepared.frame
    t1 = time.perf_counter()
    photo_linear, base_linear = frame.linear, base.linear
    mixed = frame.calibration.calibrated != base.calibration.calibrated
    if mixed:
        # One photo has a chart, the other none: measure both without it, so that both
        # figures come from the same processing (camera colours differ from corrected ones).
        if frame.calibration.calibrated:
            photo_linear = _calibration.uncalibrated(frame.decoded.srgb, skin_mask=frame.skin).linear
        else:
            base_linear = _calibration.uncalibrated(base.decoded.srgb, skin_mask=base.skin).linear
    warped, valid = _alignment.warp_to_reference(photo_linear, aligned.matrix, base.shape)
    warped_region = cv2.warpAffine(
        frame.region.astype(np.uint8), np.asarray(aligned.matrix, dtype=np.float64), (base.shape[1], base.shape[0]),
        flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0,
    )
    common = base.region & valid & (warped_region > 0)
    timings["warp_s"] = time.perf_counter() - t1

    # The scale lives in the baseline's frame; a chart only in the photo still tells it.
    px_per_mm = base.px_per_mm
    if px_per_mm is None and frame.px_per_mm is not None:
        px_per_mm = frame.px_per_mm / _matrix_scale(aligned.matrix)

    t2 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        photo_job = pool.submit(_measure, warped, common, px_per_mm)
        base_job = pool.submit(_measure, base_linear, common, px_per_mm)
        (photo_m, maps), (base_m, _) = photo_job.result(), base_job.result()
    timings["measure_s"] = time.perf_counter() - t2

    calibrated = frame.calibration.calibrated and base.calibration.calibrated
    mdc = mdc_table(calibrated=calibrated)
    pv, bv = _measure_values(photo_m), _measure_values(base_m)
    light_problem = _light_problem(frame.calibration.light_cct_k, base.calibration.light_cct_k)
    changes = tuple(
        _judge(k, pv[k], bv[k], mdc=mdc[k], calibrated=calibrated, light_problem=light_problem)
        for k in DIRECTIONS if k in mdc  # a new measure is judged once its MDC is estimated
    )

    notes: list[str] = []
    if mixed:
        notes.append("only one of the two photos has a colour chart: both were measured without it")
    if light_problem is not None:
        notes.append("colour measures not compared: " + light_problem)
    if not calibrated:
        notes.append("uncalibrated: at least one photo has no colour reference, so the detectable change is wider")
    base_region_px = int(base.region.sum())
    common_px = int(common.sum())
    if base_region_px and common_px < MIN_COMMON_SHARE * base_region_px:
        notes.append(f"the photos overlap on only {100 * common_px / base_region_px:.0f} % of the baseline's region")
    if not frame.quality.ok:
        notes.append("this photo failed the quality check: " + "; ".join(frame.quality.reasons))

    comparison = Comparison(
        common_area_px=int(round(common_px / base.scale**2)),
        calibrated=calibrated,
        baseline=base_m,
        changes=changes,
        notes=tuple(notes),
    )
    result = AnalysisResult(
        analysis_version=ANALYSIS_VERSION,
        parameters=parameters,
        measured_in="baseline",
        width=frame.decoded.full_width,
        height=frame.decoded.full_height,
        working_scale=base.scale,
        px_per_mm=px_per_mm,
        quality=_quality_summary(frame.quality),
        calibration=_calibration_summary(frame),
        baseline_calibration=_calibration_summary(base),
        alignment=alignment_summary,
        roi_area_px=int(round(common_px / base.scale**2)),
        roi_lost_to_clipping_pct=frame.lost_to_clipping_pct,
        measures=photo_m,
        mdc=mdc,
        directions=dict(DIRECTIONS),
        comparison=comparison,
        timings_s={**timings, "total_s": time.perf_counter() - t0},
    )
    artifacts = Artifacts(
        srgb=linear_to_srgb(warped),
        region=common,
        aligned=True,
        full_size=(base.decoded.full_width, base.decoded.full_height),
        **maps,
    )
    return Analysis(result, artifacts)


def read_source(source: ImageSource) -> bytes:
    """Bytes of a path or bytes source (helper for callers that hash inputs)."""
    return source if isinstance(source, bytes) else Path(source).read_bytes()
