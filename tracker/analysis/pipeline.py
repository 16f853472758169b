"""analyze_photo: decode, quality, calibration, alignment to the baseline, measures.

One rule for frames: a comparison lives in the baseline's frame. With a baseline
the photo is warped into it and both are measured over the common region
(region of interest ∩ the warped photo's valid area ∩ unclipped pixels in both),
so the two sets of figures are directly comparable. When alignment is refused the
photo is measured alone in its own frame and there is no comparison.

Working scale: images are decoded at 1/2, 1/3 ... of full size when that still
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
import threading
import time
from functools import partial
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from tracker.analysis import alignment as _alignment
from tracker.analysis import calibration as _calibration
from tracker.analysis import decode as _decode
from tracker.analysis import face_analysis as _faces
from tracker.analysis import quality as _quality
from tracker.analysis import redness as _redness
from tracker.analysis import roi as _roi
from tracker.analysis.chart_reference import DEFAULT_CHART
from tracker.analysis.chromophores import frame as _chromo_frame
from tracker.analysis.colour import linear_to_srgb
from tracker.analysis.comparison import (
    COLOUR_MEASURES,
    LIGHT_MISMATCH_MIRED,
    MIN_COLOUR_CCT_K,
    MIN_REGION_PX,
    calibration_summary,
    camera_linear,
    chromophore_parameters,
    compare_with_baseline,
    face_alignment,
    faces_decide,
    full_res_homography,
    full_res_matrix,
    hair_pct,
    measure_region,
    quality_summary,
    with_chromophores,
)
from tracker.analysis.keypoints import DetectedFeatures
from tracker.analysis.frames import (
    Analysis,
    AnalysisInputError,
    Artifacts,
    Frame,
    ImageSource,
    MaskSource,
    PreparedBaseline,
)
from tracker.analysis.mdc import DIRECTIONS, mdc_provenance, mdc_table
from tracker.analysis.results import AlignmentSummary, AnalysisResult
from tracker.analysis.version import ANALYSIS_VERSION

__all__ = [
    "COLOUR_MEASURES",
    "LIGHT_MISMATCH_MIRED",
    "MIN_COLOUR_CCT_K",
    "MIN_REGION_PX",
    "Analysis",
    "AnalysisInputError",
    "Artifacts",
    "ImageSource",
    "MaskSource",
    "PreparedBaseline",
    "analyze_photo",
    "prepare_baseline",
]

MIN_WORKING_LONG_SIDE_PX = 1600
MIN_WORKING_PX_PER_MM = 15.0
#: Which alignment features a frame's preparation computes: a baseline's always (any photo
#: may be aligned to it), a photo's unless its face is aligned by landmarks, or none.
Features = Literal["always", "unless face", "no"]
#: Analyses (and baseline preparations) run one at a time in a process. Each keeps
#: two cores busy with its own two threads, so a second at the same moment gains
#: little and doubles the memory: two 12 MP analyses at once took a worker to
#: 1.55 GB. A job waiting here has its lease kept by the worker's heartbeat.
ANALYSES_AT_ONCE = 1
_ANALYSIS_SLOTS = threading.BoundedSemaphore(ANALYSES_AT_ONCE)
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
    """Pick the decode reduction from the header alone (no pixel decode).

    The largest whole factor that keeps the minimum long side and scale: a 12 MP
    photo is halved (about 3 MP, as before), a 24 MP one divided by 3 and a 100 MP
    one by 7, so every photo is analysed at 2-3.5 MP, whatever its size.
    """
    long_side = _probe_long_side(source)
    reduce = 1
    for candidate in range(2, _decode.MAX_REDUCE + 1):
        if long_side / candidate < MIN_WORKING_LONG_SIDE_PX:
            break
        if mm_per_px is not None and (1.0 / mm_per_px) / candidate < MIN_WORKING_PX_PER_MM:
            break
        reduce = candidate
    return reduce


def _load_mask(mask: MaskSource, *, full_size: tuple[int, int], shape: tuple[int, int], what: str) -> np.ndarray:
    """A caller's mask on the full-resolution grid, resampled to the working grid."""
    arr: np.ndarray | None
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
    view: str | None = None,
    features: Features = "no",
) -> tuple[Frame, _alignment.PreparedReference | None]:
    """The frame of one photo and, when ``features`` asks for them, its alignment features."""
    reduce = _full_size_and_reduce(source, mm_per_px)
    decoded = _decode.decode_image(source, reduce=reduce)
    srgb = decoded.srgb
    corners = _parse_corners(chart_corners, scale=decoded.scale, what=f"{what} chart corners")
    with ThreadPoolExecutor(max_workers=2) as pool:
        # Clipping is judged on the raw image, on the second core while this one calibrates.
        clipped_job = pool.submit(_roi.clipped_mask, srgb)
        calib = _calibration.calibrate(
            srgb, chart_corners=corners, chart_model=chart_model or DEFAULT_CHART, codes=decoded.codes
        )
        # Skin is found, and photos are aligned, on the corrected image: under a 2700 K
        # cast raw skin chromaticity leaves any skin model.
        corrected_srgb = linear_to_srgb(calib.linear)
        # Alignment features need no skin yet (the mask only drops keypoints): a close-up's, or
        # a baseline's, are sought on the second core while this thread finds the skin.
        early = features == "always" or (features == "unless face" and view == _faces.CLOSE_UP_VIEW)
        detect_job = pool.submit(_alignment.detect_features, corrected_srgb) if early else None
        auto = _roi.skin_region(corrected_srgb, exclude=calib.chart_mask, close_up=view == _faces.CLOSE_UP_VIEW)
        drawn = None
        if roi is not None:
            drawn = _load_mask(roi, full_size=(decoded.full_width, decoded.full_height), shape=auto.shape, what=what)
            auto = auto & drawn
        # A face's skin is its anatomical regions (colour alone takes in hair and background).
        unusable = calib.chart_mask if calib.chart_mask is not None else np.zeros(auto.shape, bool)
        t_face = time.perf_counter()
        face = _faces.locate(corrected_srgb, view=view, drawn=drawn, unusable=unusable)
        faces_s = time.perf_counter() - t_face
        if face.has_regions:
            auto = face.union
        if calib.mm_per_px is not None:  # the chart knows best
            px_per_mm = 1.0 / calib.mm_per_px
        elif mm_per_px is not None:
            px_per_mm = decoded.scale / mm_per_px
        else:
            px_per_mm = None
        # With the skin known, three independent steps: the chromophore maps and the alignment
        # features on a second thread while this one judges quality (with a cached baseline, the
        # photo's preparation would otherwise leave one of the two cores idle).
        want_features = features == "always" or (features == "unless face" and not face.has_regions)
        chromo_job = pool.submit(_timed, partial(_chromo_frame.frame_maps, codes=decoded.codes), srgb, calib, auto)
        features_job = pool.submit(_reference, corrected_srgb, _alignment_mask(auto, calib.chart_mask),
                                   detect_job) if want_features else None
        region = auto & ~clipped_job.result()
        skin_px = np.count_nonzero(auto)
        lost = 100.0 * (skin_px - np.count_nonzero(region)) / skin_px if skin_px else 0.0
        quality = _quality.assess_quality(decoded, region=auto, face=face.has_regions)
        chromo, chromo_s, chromo_cpu_s = chromo_job.result()
        reference = features_job.result() if features_job is not None else None
    frame = Frame(decoded, corrected_srgb, calib.linear, calib, auto, region, lost, quality, px_per_mm, chromo,
                  face=face, chromophores_s=chromo_s, chromophores_cpu_s=chromo_cpu_s, faces_s=faces_s)
    return frame, reference


def _reference(
    corrected_srgb: np.ndarray, mask: np.ndarray, detected: Future[DetectedFeatures] | None
) -> _alignment.PreparedReference:
    """The alignment features inside ``mask``, from the early detection when there is one."""
    return _alignment.prepare_reference(corrected_srgb, mask=mask,
                                        detected=detected.result() if detected is not None else None)


_T = TypeVar("_T")


def _timed(fn: Callable[..., _T], *args: Any) -> tuple[_T, float, float]:
    """``fn(*args)``, the seconds it took, and the CPU seconds of this thread in it (while other
    threads share the cores, the wall time of one step is longer than its own work)."""
    t0, c0 = time.perf_counter(), time.thread_time()
    out = fn(*args)
    return out, time.perf_counter() - t0, time.thread_time() - c0


def prepare_baseline(
    baseline: ImageSource,
    *,
    roi: MaskSource | None = None,
    chart_corners: Any = None,
    mm_per_px: float | None = None,
    chart_model: str | None = None,
    view: str | None = None,
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
    view : str, optional
        The declared view (``models.vocabulary.VIEWS``); ``closeup`` skips face landmarks.
    """
    with _ANALYSIS_SLOTS:
        return _prepare_baseline(
            baseline, roi=roi, chart_corners=chart_corners, mm_per_px=mm_per_px, chart_model=chart_model, view=view
        )


def _prepare_baseline(
    baseline: ImageSource, *, roi: MaskSource | None, chart_corners: Any, mm_per_px: float | None,
    chart_model: str | None, view: str | None = None,
) -> PreparedBaseline:
    frame, reference = _prepare_frame(
        baseline, roi=roi, chart_corners=chart_corners, mm_per_px=mm_per_px, what="baseline", chart_model=chart_model,
        view=view, features="always",
    )
    assert reference is not None
    return PreparedBaseline(frame=frame, reference=reference, roi_supplied=roi is not None)


def _prepare_photo(
    source: ImageSource, *, with_features: bool, **options: Any
) -> tuple[Frame, _alignment.PreparedReference | None]:
    """The photo's frame and, when it is to be aligned, its alignment features.

    Found on the photo's own thread, while the other thread prepares the baseline.
    """
    return _prepare_frame(source, what="photo", features="unless face" if with_features else "no", **options)


#: The alignment mask reaches this far (share of the long side) beyond the skin, so
#: that a face's hairline, ears and outline help the fit while the room does not.
ALIGNMENT_MARGIN = 0.06


def _matrix_rows(matrix: np.ndarray) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    (a, b, c), (d, e, f) = np.asarray(matrix, dtype=np.float64)[:2].tolist()
    return (a, b, c), (d, e, f)


def _alignment_mask(skin: np.ndarray, chart_mask: np.ndarray | None) -> np.ndarray:
    """Skin and its surroundings without the chart (the chart biases a warp)."""
    # A wide dilation at working scale costs seconds; on a 1/8 copy it is milliseconds,
    # and the margin need not be exact.
    h, w = skin.shape
    small_size = (max(1, w // 8), max(1, h // 8))
    small = cv2.resize(skin.astype(np.uint8), small_size, interpolation=cv2.INTER_AREA)
    radius = max(1, int(ALIGNMENT_MARGIN * max(small_size)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    grown = cv2.dilate(small, kernel)
    near_skin = cv2.resize(grown, (w, h), interpolation=cv2.INTER_NEAREST) > 0
    near_skin |= skin
    if chart_mask is not None:
        near_skin &= ~chart_mask
    return near_skin


def _scale_source(frame: Frame, mm_per_px: float | None) -> str | None:
    """Where the millimetres come from: the chart or the caller (a face's eye distance only
    sizes its regions against the 1 cm² floor: at portrait resolution 0.1 mm filters would
    read pixel noise)."""
    if frame.calibration.mm_per_px is not None:
        return "chart"
    if mm_per_px is not None:
        return "given"
    return None


# --- the entry point --------------------------------------------------------------


def warm_up() -> float:
    """Load now what a process's first analysis would otherwise load while a person waits: the
    colour-science spectra and the chromophore inversion table of the chart-less response (about
    2 s when two of the first photo's threads built it at once). Returns the seconds it took.
    """
    from tracker.analysis.chromophores.maps import default_table

    t0 = time.perf_counter()
    default_table()
    return time.perf_counter() - t0


def analyze_photo(
    photo: ImageSource,
    *,
    baseline: ImageSource | PreparedBaseline | None = None,
    roi: MaskSource | None = None,
    chart_corners: Any = None,
    baseline_chart_corners: Any = None,
    mm_per_px: float | None = None,
    chart_model: str | None = None,
    view: str | None = None,
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
    view : str, optional
        The declared view of the photo (and its baseline): ``front``, ``left_oblique``,
        ``right_oblique``, ``left_profile``, ``right_profile`` or ``closeup``. Every photo but a
        declared close-up is searched for a face; a face with reliable landmarks is measured
        per anatomical region and aligned by its landmarks.

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
    with _ANALYSIS_SLOTS:
        return _analyze(photo, baseline, roi=roi, chart_corners=chart_corners,
                        baseline_chart_corners=baseline_chart_corners, mm_per_px=mm_per_px, chart_model=chart_model,
                        view=view)


def _analyze(
    photo: ImageSource,
    baseline: ImageSource | PreparedBaseline | None,
    *,
    roi: MaskSource | None,
    chart_corners: Any,
    baseline_chart_corners: Any,
    mm_per_px: float | None,
    chart_model: str | None,
    view: str | None = None,
) -> Analysis:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        base_future = None
        if baseline is not None and not isinstance(baseline, PreparedBaseline):
            base_future = pool.submit(
                _prepare_baseline,
                baseline,
                roi=roi,
                chart_corners=baseline_chart_corners,
                mm_per_px=mm_per_px,
                chart_model=chart_model,
                view=view,
            )
        photo_roi = roi if baseline is None else None
        frame_future = pool.submit(
            _prepare_photo,
            photo,
            roi=photo_roi,
            chart_corners=chart_corners,
            mm_per_px=mm_per_px,
            chart_model=chart_model,
            with_features=baseline is not None,
            view=view,
        )
        frame, moving = frame_future.result()
        prepared = base_future.result() if base_future is not None else baseline
    timings["prepare_s"] = time.perf_counter() - t0
    assert prepared is None or isinstance(prepared, PreparedBaseline)
    # Part of prepare_s: the chromophore maps of the photo (and of a baseline prepared here).
    here = prepared.frame if base_future is not None and prepared is not None else None
    timings["chromophores_s"] = frame.chromophores_s + (here.chromophores_s if here is not None else 0.0)
    timings["chromophores_cpu_s"] = frame.chromophores_cpu_s + (here.chromophores_cpu_s if here is not None else 0.0)
    # Part of prepare_s too: face detection, landmarks and regions (nil for a close-up).
    timings["faces_s"] = frame.faces_s + (here.faces_s if here is not None else 0.0)

    parameters = {
        "min_working_long_side_px": MIN_WORKING_LONG_SIDE_PX,
        "min_working_px_per_mm": MIN_WORKING_PX_PER_MM,
        "red_area_ei_threshold": float(_redness.RED_AREA_EI_THRESHOLD),
        "light_mismatch_mired": LIGHT_MISMATCH_MIRED,
        "min_colour_cct_k": MIN_COLOUR_CCT_K,
        "mdc": mdc_provenance(),
        "roi_supplied": roi is not None or bool(prepared and prepared.roi_supplied),
        "scale_source": _scale_source(prepared.frame if prepared is not None else frame, mm_per_px),
    }
    alignment_summary: AlignmentSummary | None = None

    if prepared is not None and faces_decide(frame, prepared.frame):
        t1 = time.perf_counter()
        outcome = face_alignment(frame, prepared.frame)
        timings["align_s"] = time.perf_counter() - t1
        if isinstance(outcome, AlignmentSummary):
            alignment_summary = outcome
        else:
            face_summary, found = outcome
            return compare_with_baseline(frame, prepared, None, face_summary, parameters, timings, t0,
                                         face_alignment=found)
    elif prepared is not None:
        t1 = time.perf_counter()
        assert moving is not None
        aligned = _alignment.align(moving, prepared.reference)
        timings["align_s"] = time.perf_counter() - t1
        base = prepared.frame
        if aligned.ok and aligned.matrix is not None:
            full_matrix = full_res_matrix(aligned.matrix, photo_scale=frame.scale, baseline_scale=base.scale)
            residual = aligned.residual_px / base.scale if aligned.residual_px is not None else None
            full_h = None
            if aligned.homography is not None:
                h = full_res_homography(aligned.homography, photo_scale=frame.scale, baseline_scale=base.scale)
                full_h = tuple(tuple(float(v) for v in row) for row in h)
            alignment_summary = AlignmentSummary(
                True, None, _matrix_rows(full_matrix), residual, aligned.similarity, aligned.inliers, "features",
                homography=full_h,
            )
            return compare_with_baseline(frame, prepared, aligned, alignment_summary, parameters, timings, t0)
        alignment_summary = AlignmentSummary(
            False, aligned.reason, None, None, aligned.similarity, aligned.inliers, "features"
        )

    t2 = time.perf_counter()
    measured = _faces.measure_frame(
        frame.linear, frame.region, frame.face, px_per_mm=frame.px_per_mm, scale=frame.scale,
        tone_linear=camera_linear(frame), calibrated=frame.calibration.calibrated,
        measure_region=partial(measure_region, chromo=frame.chromophores),
    )
    measured = with_chromophores(measured, frame.chromophores)
    measures, maps = measured.measures, measured.maps
    parameters["chromophores"] = chromophore_parameters(frame.chromophores, measured.region)
    if (hair := hair_pct(maps, measured.region)) is not None:
        parameters["hair_pct"] = {"photo": hair}
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
        quality=quality_summary(frame.quality),
        calibration=calibration_summary(frame),
        baseline_calibration=calibration_summary(prepared.frame) if prepared is not None else None,
        alignment=alignment_summary,
        roi_area_px=measured.area_px,
        roi_lost_to_clipping_pct=frame.lost_to_clipping_pct,
        measures=measures,
        mdc=mdc_table(calibrated=calibrated, long_side_px=max(frame.decoded.full_width, frame.decoded.full_height)),
        directions=dict(DIRECTIONS),
        comparison=None,
        timings_s={**timings, "total_s": time.perf_counter() - t0},
        face=frame.face.summary if frame.face is not None else None,
        regions=_faces.region_results(measured.figures),
    )
    artifacts = Artifacts(
        srgb=frame.srgb,
        region=measured.region,
        aligned=False,
        full_size=(frame.decoded.full_width, frame.decoded.full_height),
        region_masks={k: f.mask for k, f in measured.figures.items()},
        **maps,
    )
    return Analysis(result, artifacts)
