"""Measuring a region, and comparing a photo with its baseline in the baseline's frame: the verdict of
each measure against its MDC, the light rule, and the summaries stored with a result.
"""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import cv2
import numpy as np

from tracker.analysis import alignment as _alignment
from tracker.analysis.boxes import region_box
from tracker.analysis import calibration as _calibration
from tracker.analysis import face_analysis as _faces
from tracker.analysis.chromophores import ChromophoreMaps, measure_chromophores
from tracker.analysis.chromophores import camera_check as _camera_check
from tracker.analysis.chromophores import frame as _chromo_frame
from tracker.analysis import pigment as _pigment
from tracker.analysis import quality as _quality
from tracker.analysis import redness as _redness
from tracker.analysis import texture as _texture
from tracker.analysis import tone as _tone
from tracker.analysis.colour import linear_to_srgb
from tracker.analysis.face import align as _face_align
from tracker.analysis.frames import Analysis, Artifacts, Frame, PreparedBaseline
from tracker.analysis.mdc import (
    DIRECTIONS,
    EXPOSURE_DEPENDENT,
    is_small_photo,
    mdc_table,
    region_mdc_table,
)
from tracker.analysis.measures import COLOUR_KEYS, COMPARED, Verdict
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

#: Below this many working pixels a region cannot give stable figures.
MIN_REGION_PX = 2000
#: A comparison whose common region keeps less than this share of the baseline's
#: region is reported, since it may not represent the treated area.
MIN_COMMON_SHARE = 0.5
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
#: The spectral-inversion measures: across lights when both photos were inverted spectrally.
CHROMOPHORE_MEASURES = frozenset({"haemoglobin_index", "melanin_density", "background_melanin_density"})
# --- measuring ----------------------------------------------------------------


def measure_region(
    linear: np.ndarray, region: np.ndarray, px_per_mm: float | None, chromo: ChromophoreMaps
) -> tuple[Measures, dict[str, np.ndarray]]:
    ei_map = _redness.erythema_index(linear)
    chromo_maps = {"haemoglobin_map": chromo.blood_pct, "melanin_map": chromo.melanin_pct}
    if int(np.count_nonzero(region)) < MIN_REGION_PX:
        empty = np.zeros(region.shape, dtype=bool)
        measures = Measures.unmeasured("region too small")
        maps = {"erythema_map": ei_map, "spot_mask": empty, "line_map": np.zeros(region.shape, np.float32)}
        return measures, {**maps, **chromo_maps}
    red = _redness.measure_redness(linear, region, ei_map=ei_map)
    pig = _pigment.measure_pigment(linear, region, px_per_mm=px_per_mm)
    tex = _texture.measure_texture(linear, region, px_per_mm=px_per_mm)
    tone = _tone.skin_tone(linear, region)
    chromo_m = measure_chromophores(chromo, region, spot_mask=pig.spot_mask)
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
        haemoglobin_index=chromo_m.haemoglobin_index,
        melanin_density=chromo_m.melanin_density,
        background_melanin_density=chromo_m.background_melanin_density,
    )
    maps = {"erythema_map": ei_map, "spot_mask": pig.spot_mask, "line_map": tex.line_map}
    if tex.hair_mask is not None:
        maps["hair_mask"] = tex.hair_mask
    return measures, {**maps, **chromo_maps}


#: Hair over more than this share of the measured skin (percent) is named in the comparison's notes.
HAIR_NOTE_PCT = 1.0


def hair_pct(maps: dict[str, np.ndarray], region: np.ndarray) -> float | None:
    """Share of ``region`` where hair was filled in before texture was measured, percent (None: not sought)."""
    hair = maps.get("hair_mask")
    n = int(np.count_nonzero(region))
    if hair is None or hair.shape != region.shape or n == 0:
        return None
    return round(100.0 * int(np.count_nonzero(hair & region)) / n, 2)


def chromophore_parameters(chromo: ChromophoreMaps, region: np.ndarray) -> dict[str, Any]:
    """How the chromophore figures were made: mode, chart fit, light and camera checks, pixels left out."""
    n = max(int(np.count_nonzero(region)), 1)
    residual = chromo.chart_residual
    return {
        "calibrated": chromo.calibrated,
        "mode": chromo.mode,
        "chart_residual": None if residual is None or not np.isfinite(residual) else round(residual, 4),
        "blood_saturation": chromo.saturation,
        "light_ok": chromo.light.ok,
        "light_line_gain": chromo.light.line_gain if np.isfinite(chromo.light.line_gain) else None,
        "measured_pct": round(100.0 * int(np.count_nonzero(region & chromo.valid)) / n, 2),
        "specular_excluded_pct": round(100.0 * int(np.count_nonzero(region & chromo.specular)) / n, 2),
        # The camera check's photo figure (None unless inverted spectrally): melanin read for a
        # 40 % blood reduction of the panel of plausible skins, percent.
        "panel_crosstalk_pct": None if chromo.panel is None else round(float(chromo.panel.crosstalk_pct), 3),
    }


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
    verdict: Verdict
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


def quality_summary(q: _quality.QualityReport) -> QualitySummary:
    return QualitySummary(q.ok, tuple(q.reasons), q.sharpness, q.overexposed_pct, q.underexposed_pct, q.jpeg_quality, q.chroma_subsampling)


def calibration_summary(frame: Frame) -> CalibrationSummary:
    c = frame.calibration
    s = frame.scale
    corners = None
    if c.chart_corners is not None:
        corners = tuple((float(x) / s, float(y) / s) for x, y in np.asarray(c.chart_corners).reshape(4, 2))
    mm_full = c.mm_per_px * s if c.mm_per_px is not None else None
    return CalibrationSummary(
        c.method, c.calibrated, c.chart_delta_e_mean, c.chart_delta_e_max, mm_full, corners, tuple(c.notes), c.light_cct_k
    )


def full_res_matrix(matrix: np.ndarray, *, photo_scale: float, baseline_scale: float) -> np.ndarray:
    """Working-scale photo->baseline affine to full-resolution photo->baseline."""
    full = np.array(matrix, dtype=np.float64).copy()
    full[:, :2] *= photo_scale / baseline_scale
    full[:, 2] /= baseline_scale
    return full


def full_res_homography(h: np.ndarray, *, photo_scale: float, baseline_scale: float) -> np.ndarray:
    """Working-scale photo->baseline homography to full-resolution photo->baseline (normalised)."""
    full = np.diag([1.0 / baseline_scale, 1.0 / baseline_scale, 1.0]) @ h @ np.diag([photo_scale, photo_scale, 1.0])
    return full / full[2, 2]


def _matrix_scale(matrix: np.ndarray) -> float:
    return float(np.sqrt(abs(np.linalg.det(np.asarray(matrix)[:, :2]))))


def camera_linear(frame: Frame) -> np.ndarray:
    """The frame's colours for skin tone: corrected with a chart, else the photo's own (no exposure scaling)."""
    # The decoder's integer codes, when it kept them, go through the exact lookup table (a sixth
    # of the float power's time on a working image; the same table the calibration reads).
    return frame.linear if frame.calibration.calibrated else frame.decoded.linear()


def faces_decide(photo: Frame, base: Frame) -> bool:
    """True when faces decide the alignment: either photo has a face with reliable landmarks."""
    return any(f.face is not None and f.face.has_regions for f in (photo, base))


FACE_METHOD = "face landmarks + dense refinement"


def face_alignment(photo: Frame, base: Frame) -> AlignmentSummary | tuple[AlignmentSummary, _face_align.FaceAlignment]:
    """Align two face photos by their landmarks, or the refusal that names why not."""
    pf, bf = photo.face, base.face
    if pf is None or bf is None or not pf.has_regions or not bf.has_regions:
        missing, other = ("this photo", "the baseline") if pf is None or not pf.has_regions else ("the baseline", "this photo")
        why = next((f.summary.reason for f in (pf, bf) if f is not None and f.summary is not None and f.summary.reason),
                   None)
        reason = f"different view or area: {other} shows a face with landmarks, {missing} does not"
        return AlignmentSummary(False, f"{reason} ({why})" if why else reason, None, None, None, 0, FACE_METHOD)
    assert pf.face is not None and bf.face is not None
    found = _face_align.align_faces(photo.srgb, pf.face, base.srgb, bf.face)
    if not found.ok or found.homography is None:
        return AlignmentSummary(False, found.reason, None, None, found.identity_ncc, 0, FACE_METHOD)
    # Working photo px -> working baseline px, to full resolution on both sides.
    full = np.diag([1 / base.scale, 1 / base.scale, 1.0]) @ found.homography @ np.diag([photo.scale, photo.scale, 1.0])
    affine = (full / full[2, 2])[:2]
    residual = found.landmark_residual_px / base.scale if found.landmark_residual_px is not None else None
    rows = ((affine[0, 0], affine[0, 1], affine[0, 2]), (affine[1, 0], affine[1, 1], affine[1, 2]))
    summary = AlignmentSummary(True, None, rows, residual, found.identity_ncc, pf.face.landmark_count, FACE_METHOD)
    return summary, found


def with_chromophores(measured: _faces.Measured, chromo: ChromophoreMaps) -> _faces.Measured:
    """The measured figures with the chromophore ones over the pixels they cover.

    The top-level figures cover ``measured.region``; a face's regions are measured
    without the maps, so each region gets its own from the maps here too.
    """
    spot_mask = measured.maps.get("spot_mask")

    def filled(m: Measures, region: np.ndarray) -> Measures:
        known = m.haemoglobin_index is not None and np.isfinite(m.haemoglobin_index)
        if known or not region.any():
            return m
        # Within the region's bounding box: the same pixels in the same order, a fraction of the frame.
        box = region_box(region)
        maps = replace(chromo, melanin_pct=chromo.melanin_pct[box], blood_pct=chromo.blood_pct[box],
                       valid=chromo.valid[box], specular=chromo.specular[box])
        c = measure_chromophores(maps, region[box], spot_mask=None if spot_mask is None else spot_mask[box])
        return replace(m, haemoglobin_index=c.haemoglobin_index, melanin_density=c.melanin_density,
                       background_melanin_density=c.background_melanin_density)

    figures = {k: f if f.reason is not None else replace(f, measures=filled(f.measures, f.mask))
               for k, f in measured.figures.items()}
    return replace(measured, measures=filled(measured.measures, measured.region), figures=figures)


def _remap_chromophores(maps: ChromophoreMaps, map_xy: np.ndarray) -> ChromophoreMaps:
    """The maps resampled along a dense map into the baseline's frame (faces)."""
    return _chromo_frame.resample_maps(maps, lambda image: _remap_any(image, map_xy))


def _remap_any(image: np.ndarray, map_xy: np.ndarray) -> np.ndarray:
    """Bilinear for values, nearest (and bool again) for a bool mask."""
    if image.dtype == bool:
        return _remap(np.ascontiguousarray(image).view(np.uint8), map_xy, nearest=True) > 0
    return _remap(image, map_xy)


def _remap(image: np.ndarray, map_xy: np.ndarray, *, nearest: bool = False) -> np.ndarray:
    flag = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    out = cv2.remap(image, map_xy, None, flag, borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # type: ignore[call-overload]
    return np.asarray(out)


def _remap_region_tone_maps(
    frame: Frame, photo_linear: np.ndarray, chromo: ChromophoreMaps, map_xy: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray, ChromophoreMaps]:
    """A face photo's region, tone image (None when it is ``photo_linear``) and maps along ``map_xy``."""
    # The baseline's regions decide where a face is measured; the photo only takes out its
    # own clipped pixels (its hair and skin tests, rerun under another light, would move
    # the outline and with it the figures).
    photo_ok = ~(frame.skin & ~frame.region)
    region = _remap(photo_ok.astype(np.uint8), map_xy, nearest=True) > 0
    # With a chart the tone is read from the corrected colours: the same image, warped once.
    photo_tone = camera_linear(frame)
    tone = None if photo_tone is photo_linear else _remap(photo_tone, map_xy)
    return tone, region, _remap_chromophores(chromo, map_xy)


def _warp_tone_and_region(
    frame: Frame, photo_linear: np.ndarray, matrix: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray | None, np.ndarray]:
    """The photo's tone image (None when it is ``photo_linear``, warped already) and its region, warped
    (``matrix``: the 2x3 affine or 3x3 homography of the alignment)."""
    photo_tone = camera_linear(frame)
    tone = None if photo_tone is photo_linear else _alignment.warp_image(photo_tone, matrix, shape)
    return tone, _alignment.warp_image(frame.region, matrix, shape)


def _measure_side(
    linear: np.ndarray, tone: np.ndarray | None, base: Frame, *, common: np.ndarray, px_per_mm: float | None,
    calibrated: bool, chromo: ChromophoreMaps, masks: dict[str, np.ndarray] | None,
) -> _faces.Measured:
    """One photo's figures over the common region (``tone`` None: the baseline's own, made on this thread)."""
    return _faces.measure_frame(
        linear, common, base.face, px_per_mm=px_per_mm, scale=base.scale,
        tone_linear=camera_linear(base) if tone is None else tone, calibrated=calibrated,
        measure_region=partial(measure_region, chromo=chromo), masks=masks,
    )


def _small_photo_note(photo: Frame, base: Frame) -> str | None:
    """Which photo of the pair is small, what that costs (a wider band) and what to do; None when neither is."""
    small = [(label, f.decoded) for label, f in (("this photo", photo), ("the baseline", base))
             if is_small_photo(f.decoded.full_width, f.decoded.full_height)]
    if not small:
        return None
    which = " and ".join(f"{label} ({d.full_width:,} x {d.full_height:,} px)" for label, d in small)
    return (f"small photo: {which}. Spots and texture vary more between repeat photos this small, so the"
            " detectable change is wider; upload the camera's original photo for finer verdicts")


def compare_with_baseline(
    frame: Frame,
    prepared: PreparedBaseline,
    aligned: _alignment.Alignment | None,
    alignment_summary: AlignmentSummary,
    parameters: dict[str, Any],
    timings: dict[str, float],
    t0: float,
    *,
    face_alignment: _face_align.FaceAlignment | None = None,
) -> Analysis:
    base = prepared.frame
    t1 = time.perf_counter()
    photo_linear, base_linear = frame.linear, base.linear
    photo_chromo, base_chromo = frame.chromophores, base.chromophores
    mixed = frame.calibration.calibrated != base.calibration.calibrated
    if mixed:
        # One photo has a chart, the other none: measure both without it, so that both
        # figures come from the same processing (camera colours differ from corrected ones).
        if frame.calibration.calibrated:
            uncal = _calibration.uncalibrated(frame.decoded.srgb, skin_mask=frame.skin)
            photo_linear = uncal.linear
            photo_chromo = _chromo_frame.frame_maps(frame.decoded.srgb, uncal, frame.skin)
        else:
            uncal = _calibration.uncalibrated(base.decoded.srgb, skin_mask=base.skin)
            base_linear = uncal.linear
            base_chromo = _chromo_frame.frame_maps(base.decoded.srgb, uncal, base.skin)
    elif {photo_chromo.mode, base_chromo.mode} == {"spectral", "corrected"}:
        # Both photos measured the same way: the one whose chart allowed the spectral
        # inversion is read like the other, from its chart-corrected colours.
        if photo_chromo.mode == "spectral":
            photo_chromo = _chromo_frame.frame_maps(frame.decoded.srgb, frame.calibration, frame.skin, force_corrected=True)
        else:
            base_chromo = _chromo_frame.frame_maps(base.decoded.srgb, base.calibration, base.skin, force_corrected=True)
    if face_alignment is not None and face_alignment.map_xy is not None:
        # Faces: the landmark warp refined densely inside the regions (a map, not a matrix). The
        # region, tone and maps are remapped on a second thread while the colours are.
        map_xy = face_alignment.map_xy
        with ThreadPoolExecutor(max_workers=1) as pool:
            face_job = pool.submit(_remap_region_tone_maps, frame, photo_linear, photo_chromo, map_xy)
            warped = _remap(photo_linear, map_xy)
            valid = _remap(np.ones(frame.shape, np.float32), map_xy) > 0.999
            face_tone, warped_region, warped_chromo = face_job.result()
        warped_tone = warped if face_tone is None else face_tone
        matrix = face_alignment.affine()
    else:
        assert aligned is not None and aligned.matrix is not None and aligned.warp is not None
        matrix = aligned.matrix
        warp = aligned.warp  # the homography when the camera turned between the photos
        # Four warps under one matrix: the tone image and the region on a second thread.
        with ThreadPoolExecutor(max_workers=1) as pool:
            others = pool.submit(_warp_tone_and_region, frame, photo_linear, warp, base.shape)
            warped, valid = _alignment.warp_to_reference(photo_linear, warp, base.shape)
            # The maps are on the photo's grid too: the same warp stays inside the same pixels.
            assert photo_chromo.valid.shape == photo_linear.shape[:2]
            warped_chromo = _chromo_frame.warp_maps(photo_chromo, warp, base.shape, inside=valid)
            tone_or_none, warped_region = others.result()
        warped_tone = warped if tone_or_none is None else tone_or_none
    assert matrix is not None
    common = base.region & valid & warped_region
    timings["warp_s"] = time.perf_counter() - t1

    # The scale lives in the baseline's frame; a chart only in the photo still tells it.
    px_per_mm = base.px_per_mm
    if px_per_mm is None and frame.px_per_mm is not None:
        px_per_mm = frame.px_per_mm / _matrix_scale(matrix)

    calibrated = frame.calibration.calibrated and base.calibration.calibrated
    faces = face_alignment is not None and base.face is not None and base.face.has_regions
    masks = {k: m & common for k, m in base.face.masks.items()} if faces and base.face is not None else None
    t2 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [
            pool.submit(_measure_side, linear, tone, base, common=common, px_per_mm=px_per_mm, calibrated=calibrated,
                        chromo=chromo, masks=masks)
            for linear, tone, chromo in ((warped, warped_tone, warped_chromo), (base_linear, None, base_chromo))
        ]
        # The overlays' photo, made by whichever thread finishes its side first.
        srgb_job = pool.submit(linear_to_srgb, warped)
        photo_side, base_side = jobs[0].result(), jobs[1].result()
    photo_side, base_side = with_chromophores(photo_side, warped_chromo), with_chromophores(base_side, base_chromo)
    photo_m, base_m = photo_side.measures, base_side.measures
    maps = photo_side.maps
    timings["measure_s"] = time.perf_counter() - t2

    # A pair is as noisy as its smaller photo.
    long_side = min(max(f.decoded.full_width, f.decoded.full_height) for f in (frame, base))
    mdc = (region_mdc_table("face", calibrated=calibrated, long_side_px=long_side) if faces
           else mdc_table(calibrated=calibrated, long_side_px=long_side))
    pv, bv = _measure_values(photo_m), _measure_values(base_m)
    # The light rule. A spiky light (from either chart's residuals) stops every colour
    # measure. The colour-temperature rule stops the legacy chart-corrected measures, and
    # the chromophore measures too unless both photos were inverted spectrally (a chart
    # that matches its published spectra), which carries daylight, LED and incandescent pairs
    # unless the camera check finds that the two responses would read skin unlike the
    # model differently, or that a camera mixes blood and melanin.
    spiky = _chromo_frame.light_reason(photo_chromo, base_chromo)
    legacy_problem = spiky or _light_problem(frame.calibration.light_cct_k, base.calibration.light_cct_k)
    chromo_problem = (
        spiky or _camera_check.pair_problem(photo_chromo.panel, base_chromo.panel)
        if _chromo_frame.spectral_pair(photo_chromo, base_chromo)
        else legacy_problem
    )

    def light_problem(key: str) -> str | None:
        return chromo_problem if key in CHROMOPHORE_MEASURES else legacy_problem

    keys = tuple(k for k in DIRECTIONS if k in mdc)  # a new measure is judged once its MDC is estimated
    changes = tuple(
        _judge(k, pv[k], bv[k], mdc=mdc[k], calibrated=calibrated, light_problem=light_problem(k)) for k in keys
    )
    parameters["chromophores"] = chromophore_parameters(warped_chromo, photo_side.region)
    hair = {"photo": hair_pct(photo_side.maps, photo_side.region), "baseline": hair_pct(base_side.maps, base_side.region)}
    if any(v is not None for v in hair.values()):
        parameters["hair_pct"] = hair
    region_changes = {}
    if faces and face_alignment is not None:
        region_changes = _faces.compare_regions(
            photo_side.figures, base_side.figures, calibrated=calibrated, long_side_px=long_side, measures=keys,
            not_comparable=face_alignment.not_comparable or {},
            judge=lambda k, p, b, m: _judge(k, p, b, mdc=m, calibrated=calibrated, light_problem=light_problem(k)),
        )

    notes: list[str] = []
    if mixed:
        notes.append("only one of the two photos has a colour chart: both were measured without it")
    if chromo_problem is not None:
        notes.append("colour measures not compared: " + chromo_problem)
    elif legacy_problem is not None:
        notes.append("legacy colour measures (EI, MI, spots, red area) not compared: " + legacy_problem)
    if not calibrated:
        notes.append("uncalibrated: at least one photo has no colour reference, so the detectable change is wider")
    if (small_note := _small_photo_note(frame, base)) is not None:
        notes.append(small_note)
    for key, why in sorted((face_alignment.not_comparable or {}).items() if face_alignment is not None else []):
        notes.append(f"{key.replace('_', ' ')} texture {why}")
    hairy = [f"{label} {pct:.0f} %" for label, pct in (("this photo", hair["photo"]), ("the baseline", hair["baseline"]))
             if pct is not None and pct > HAIR_NOTE_PCT]
    if hairy:
        notes.append(f"hair covers part of the skin ({', '.join(hairy)}): it was filled in before roughness and lines"
                     " were measured, so that hair, or a shave, does not read as lines")
    base_region_px = int(np.count_nonzero(base.region))
    common_px = int(np.count_nonzero(photo_side.region))
    if base_region_px and common_px < MIN_COMMON_SHARE * base_region_px:
        notes.append(f"the photos overlap on only {100 * common_px / base_region_px:.0f} % of the baseline's region")
    if not frame.quality.ok:
        notes.append("this photo failed the quality check: " + "; ".join(frame.quality.reasons))

    comparison = Comparison(
        common_area_px=base_side.area_px,
        calibrated=calibrated,
        baseline=base_m,
        changes=changes,
        notes=tuple(notes),
        regions=region_changes,
    )
    result = AnalysisResult(
        analysis_version=ANALYSIS_VERSION,
        parameters=parameters,
        measured_in="baseline",
        width=frame.decoded.full_width,
        height=frame.decoded.full_height,
        working_scale=base.scale,
        px_per_mm=px_per_mm,
        quality=quality_summary(frame.quality),
        calibration=calibration_summary(frame),
        baseline_calibration=calibration_summary(base),
        alignment=alignment_summary,
        roi_area_px=photo_side.area_px,
        roi_lost_to_clipping_pct=frame.lost_to_clipping_pct,
        measures=photo_m,
        mdc=mdc,
        directions=dict(DIRECTIONS),
        comparison=comparison,
        timings_s={**timings, "total_s": time.perf_counter() - t0},
        face=frame.face.summary if frame.face is not None else None,
        regions=_faces.region_results(photo_side.figures),
    )
    artifacts = Artifacts(
        srgb=srgb_job.result(),
        region=photo_side.region,
        aligned=True,
        full_size=(base.decoded.full_width, base.decoded.full_height),
        region_masks={k: f.mask for k, f in photo_side.figures.items()},
        **maps,
    )
    return Analysis(result, artifacts)
