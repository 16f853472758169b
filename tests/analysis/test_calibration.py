"""Calibration: the lighting trap (a true change must survive a change of light), fallbacks, scale."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from tracker.analysis.calibration import Calibration, calibrate
from tracker.analysis.chart import REFERENCE_LINEAR, ChartDetection, detect_chart, fit_colour_correction
from tracker.analysis.chart_reference import CHART_SIZES_MM, NEUTRAL_PATCHES
from tracker.analysis.colour import linear_to_lab, srgb_to_linear
from tracker.simulate import camera, capture, make_skin_scene, reference_render, spectra
from tracker.simulate import chart as sim_chart
from tracker.simulate.capture import illumination_field
from tracker.simulate.render import camera_rgb

SHAPE = (480, 640)
MM_PER_PX = 0.25
GRADIENT_ANGLE = 30.0
LIGHTS = (2700.0, 4000.0, 6500.0)
GRADIENTS = (0.0, 0.2)


def _ei(linear: np.ndarray, mask: np.ndarray) -> float:
    """Mean erythema index 100 log10(R/G) over a mask."""
    rgb = np.maximum(linear[mask].astype(np.float64), 1e-6)
    return float(np.mean(100.0 * np.log10(rgb[:, 0] / rgb[:, 1])))


@cache
def _scenes():
    before = make_skin_scene(seed=3, shape_px=SHAPE, mm_per_px=MM_PER_PX, haemoglobin_od=0.30)
    after = make_skin_scene(seed=3, shape_px=SHAPE, mm_per_px=MM_PER_PX, haemoglobin_od=0.12)
    return before, after


def _max_exposure(scene, cct_k: float, gradient: float) -> float:
    """Highest exposure at which no skin channel clips (sensor or output), with a 3 % margin."""
    wb = camera_rgb(scene, cct_k=cct_k) * illumination_field(SHAPE, gradient=gradient, angle_deg=GRADIENT_ANGLE)[..., None]
    skin = scene.skin_mask
    out_peak = float((wb[skin] @ camera.colour_matrix().T).max())
    sensor_peak = float((wb[skin] / camera.white_balance_gains()).max())
    return 0.97 / max(out_peak, sensor_peak)


def _cells() -> list[tuple[float, float, float]]:
    before, _ = _scenes()
    cells = []
    for cct in LIGHTS:
        for gradient in GRADIENTS:
            for exposure in (0.5, 1.0, _max_exposure(before, cct, gradient)):
                cells.append((round(exposure, 3), cct, gradient))
    return cells


@cache
def _grid() -> dict[tuple[float, float, float], dict[str, object]]:
    """Calibrate before, after and a repeat of before in every cell of the grid."""
    before, after = _scenes()
    out = {}
    for exposure, cct, gradient in _cells():
        kw = dict(exposure=exposure, cct_k=cct, gradient=gradient, gradient_angle_deg=GRADIENT_ANGLE, chart=True,
                  chart_model="mini", chart_position="top-left")
        shots = {"before": capture(before, seed=1, **kw), "after": capture(after, seed=2, **kw),
                 "repeat": capture(before, seed=3, **kw)}
        out[(exposure, cct, gradient)] = {k: (s, calibrate(s.srgb, chart_model="mini")) for k, s in shots.items()}
    return out


def _region(shot) -> np.ndarray:
    return shot.skin_mask & np.all(shot.srgb < 0.99, axis=2)


def _measured(cell) -> tuple[float, float, float]:
    g = _grid()[cell]
    (sa, ca), (sb, cb), (sr, cr) = g["before"], g["after"], g["repeat"]
    mask = _region(sa) & _region(sb) & _region(sr)
    return _ei(ca.linear, mask), _ei(cb.linear, mask), _ei(cr.linear, mask)


def _true_change(mask: np.ndarray) -> float:
    before, after = _scenes()
    return _ei(reference_render(after), mask) - _ei(reference_render(before), mask)


@cache
def _ideal_ratio(cct: float) -> float:
    """The change an ideal chart fit recovers with this camera and light: exact, noise-free patch
    colours and skin, no gradient. Whatever remains between it and the truth is the camera's
    metamerism (its sensitivities are not the CIE observer), which no chart can remove."""
    before, after = _scenes()
    light = spectra.illuminant(cct, kind="blackbody")
    patches = camera.camera_linear(sim_chart.patch_reflectances(), light) * 0.5
    clipped = np.any(patches <= 0.0005, axis=1) | np.any(patches >= 0.999, axis=1)
    ideal = ChartDetection(
        corners=np.array([[0.0, 0.0], [6, 0], [6, 4], [0, 4]]), patch_linear=np.clip(patches, 0, 1),
        patch_clipped=clipped, patch_centres=np.full((24, 2), 100.0), chart_mask=np.zeros(SHAPE, bool),
        source="corners",
    )
    corr = fit_colour_correction(ideal, image_shape=SHAPE)
    mask = before.skin_mask
    lin = {k: np.clip(camera_rgb(s, cct_k=cct) * 0.5 @ camera.colour_matrix().T, 0, 1) for k, s in
           (("before", before), ("after", after))}
    change = _ei(corr.apply(lin["after"].astype(np.float32)), mask) - _ei(corr.apply(lin["before"].astype(np.float32)), mask)
    return change / _true_change(mask)


# ----------------------------------------------------------------------------- the trap


@pytest.mark.slow
def test_every_cell_is_calibrated_from_the_chart() -> None:
    for cell, shots in _grid().items():
        for name, (shot, cal) in shots.items():
            assert cal.method == "colour_chart" and cal.calibrated, f"{cell} {name}: {cal.notes}"
            assert cal.chart_delta_e_mean <= 2.0, f"{cell} {name}: chart error {cal.chart_delta_e_mean:.2f}"
            assert cal.mm_per_px == pytest.approx(shot.mm_per_px, rel=0.02)


@pytest.mark.slow
def test_a_true_redness_change_survives_changed_light_exposure_and_gradient() -> None:
    """Before/after with a true ~35 % EI drop, both captured in each cell of the grid.

    (1) Exposure and gradient do not move the recovered change (spread within 3 %
    at each light). (2) Detection, sampling and fit lose nothing against an ideal
    chart fit on exact, noise-free colours (within 4 %). (3) Against the truth: within
    +-10 %, except where the simulated camera's metamerism makes that impossible
    for any chart fit - then no worse than the ideal fit + 4 %. With the camera of
    simulate b8f08b0 an ideal chart fit recovers 118 % at 2700 K, 108 % at 4000 K,
    99 % at 6500 K (``_ideal_ratio``): the 2700 K cells cannot reach +-10 %.
    """
    ratios: dict[float, list[float]] = {cct: [] for cct in LIGHTS}
    for cell in _grid():
        _, cct, _ = cell
        a, b, _ = _measured(cell)
        shot = _grid()[cell]["before"][0]
        mask = _region(shot) & _region(_grid()[cell]["after"][0])
        ratio = (b - a) / _true_change(mask)
        ratios[cct].append(ratio)
        ideal = _ideal_ratio(cct)
        assert ratio == pytest.approx(ideal, rel=0.04), f"{cell}: {ratio:.3f} vs ideal chart fit {ideal:.3f}"
        bound = max(0.10, abs(ideal - 1.0) + 0.04)
        assert abs(ratio - 1.0) <= bound, f"{cell}: recovered {100 * ratio:.1f} % of the true change"
    for cct, values in ratios.items():
        assert max(values) - min(values) <= 0.03, f"{cct} K: exposure/gradient moved the change: {values}"
    assert sum(abs(_ideal_ratio(cct) - 1.0) <= 0.06 for cct in LIGHTS) >= 1, "no light where the camera allows +-10 %"


@pytest.mark.slow
def test_no_true_change_reads_as_no_change() -> None:
    for cell in _grid():
        a, _, repeat = _measured(cell)
        assert abs(repeat - a) < 0.1, f"{cell}: a repeat capture moved EI by {repeat - a:+.3f}"


# ----------------------------------------------------------------------------- fallbacks


@pytest.fixture(scope="module")
def no_chart_pair():
    before, _ = _scenes()
    daylight = capture(before, seed=4, cct_k=6500.0, gradient=0.0)
    warm = capture(before, seed=5, cct_k=3000.0, exposure=0.6, gradient=0.4, gradient_angle_deg=0.0)
    return daylight, warm


def test_without_a_reference_the_photo_is_marked_uncalibrated(no_chart_pair) -> None:
    for shot in no_chart_pair:
        cal = calibrate(shot.srgb)
        assert cal.method == "none" and not cal.calibrated
        assert cal.chart_delta_e_mean is None and cal.mm_per_px is None and cal.chart_mask is None
        assert any("uncalibrated" in note for note in cal.notes)


def test_uncalibrated_correction_is_achromatic_and_flattens_the_gradient(no_chart_pair) -> None:
    _, warm = no_chart_pair
    raw = srgb_to_linear(warm.srgb)
    cal = calibrate(warm.srgb, skin_mask=warm.skin_mask)
    region = _region(warm)
    # Luminance-only: every pixel's R/G (so its EI) is untouched.
    assert _ei(cal.linear, region) == pytest.approx(_ei(raw, region), abs=1e-3)
    # The left-to-right ramp 0.8 -> 1.2 is gone: left and right thirds of the skin match.
    luma = cal.linear @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    third = SHAPE[1] // 3
    left = np.median(luma[:, :third][region[:, :third]])
    right = np.median(luma[:, -third:][region[:, -third:]])
    raw_luma = raw @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    raw_ratio = np.median(raw_luma[:, -third:][region[:, -third:]]) / np.median(raw_luma[:, :third][region[:, :third]])
    assert raw_ratio > 1.25
    assert right / left == pytest.approx(1.0, abs=0.08)


def test_uncalibrated_exposure_is_normalised(no_chart_pair) -> None:
    daylight, _ = no_chart_pair
    before, _ = _scenes()
    dim = capture(before, seed=6, cct_k=6500.0, exposure=0.5)
    a, b = calibrate(daylight.srgb), calibrate(dim.srgb)
    region = _region(daylight) & _region(dim)
    la = np.median(a.linear[region] @ np.array([0.2126, 0.7152, 0.0722], np.float32))
    lb = np.median(b.linear[region] @ np.array([0.2126, 0.7152, 0.0722], np.float32))
    assert lb / la == pytest.approx(1.0, abs=0.03)


def test_grey_card_neutralises_the_light() -> None:
    """The chart's "neutral 5" patch marked as a grey card: the other greys come out neutral."""
    before, _ = _scenes()
    shot = capture(before, seed=7, cct_k=3000.0, exposure=0.8, chart=True, chart_model="mini", chart_position="top-left")
    det = detect_chart(shot.srgb)
    card = 21  # neutral 5
    centre = det.patch_centres[card]
    half = 0.3 * det.pitch_px
    corners = centre + np.array([[-half, -half], [half, -half], [half, half], [-half, half]])
    raw_chroma = _chroma(srgb_to_linear(shot.srgb), det, (19, 20, 22))
    cal = _grey_only(shot.srgb, corners, float(REFERENCE_LINEAR[card].mean()))
    assert cal.method == "grey_card" and cal.calibrated
    chroma = _chroma(cal.linear, det, (19, 20, 22))
    assert raw_chroma.min() > 15.0  # a strong warm cast before
    assert chroma.max() < 4.0
    # The card's own lightness is its reflectance: exposure fixed too.
    card_lab = linear_to_lab(np.median(cal.linear[_square(shot.srgb.shape[:2], corners)], axis=0))
    ref_lab = linear_to_lab(REFERENCE_LINEAR[card])
    assert card_lab[0] == pytest.approx(ref_lab[0], abs=1.0)


def _grey_only(srgb: np.ndarray, corners: np.ndarray, reflectance: float) -> Calibration:
    """calibrate() with the chart's colour patches hidden, so that the grey card is the only reference."""
    det = detect_chart(srgb)
    hidden = srgb.copy()
    for k in range(24):
        if k not in NEUTRAL_PATCHES:
            x, y = np.round(det.patch_centres[k]).astype(int)
            r = int(0.5 * det.pitch_px)
            hidden[y - r : y + r, x - r : x + r] = 0.2
    return calibrate(hidden, grey_card_corners=corners, grey_card_reflectance=reflectance)


def _square(shape, corners) -> np.ndarray:
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    return (xs >= lo[0]) & (xs <= hi[0]) & (ys >= lo[1]) & (ys <= hi[1])


def _chroma(linear: np.ndarray, det: ChartDetection, patches: tuple[int, ...]) -> np.ndarray:
    out = []
    for k in patches:
        x, y = np.round(det.patch_centres[k]).astype(int)
        r = max(int(0.2 * det.pitch_px), 1)
        lab = linear_to_lab(np.median(linear[y - r : y + r, x - r : x + r].reshape(-1, 3), axis=0))
        out.append(float(np.hypot(lab[1], lab[2])))
    return np.array(out)


def test_marked_chart_corners_are_used_and_bad_ones_fall_back_to_detection() -> None:
    before, _ = _scenes()
    shot = capture(before, seed=8, cct_k=4000.0, chart=True, chart_model="mini", chart_position="bottom-right")
    auto = calibrate(shot.srgb)
    marked = calibrate(shot.srgb, chart_corners=shot.chart_corners)
    assert marked.method == "colour_chart" and any("marked corners" in n for n in marked.notes)
    assert marked.chart_delta_e_mean == pytest.approx(auto.chart_delta_e_mean, abs=0.3)
    region = _region(shot)
    assert _ei(marked.linear, region) == pytest.approx(_ei(auto.linear, region), abs=0.1)
    # Corners clicked on the skin: not a chart; the detector still finds the real one.
    wrong = np.array([[100.0, 100.0], [300.0, 100.0], [300.0, 240.0], [100.0, 240.0]])
    fallback = calibrate(shot.srgb, chart_corners=wrong)
    assert fallback.method == "colour_chart"
    assert any("rejected" in n for n in fallback.notes)
    np.testing.assert_allclose(fallback.chart_corners, auto.chart_corners, atol=0.5)


@pytest.mark.parametrize("model", sorted(CHART_SIZES_MM))
def test_scale_comes_from_the_chart_model(model: str) -> None:
    before, _ = _scenes()
    width_mm = CHART_SIZES_MM[model][0]
    scale = MM_PER_PX / (width_mm / 260.0)  # the patch grid about 260 px wide, whatever the model
    shot = capture(before, seed=9, scale=scale, chart=True, chart_model=model, chart_position="center",
                   chart_angle_deg=5.0)
    cal = calibrate(shot.srgb, chart_model=model)
    assert cal.mm_per_px == pytest.approx(shot.mm_per_px, rel=0.02)
    for other in CHART_SIZES_MM:
        if CHART_SIZES_MM[other] != CHART_SIZES_MM[model]:
            wrong = calibrate(shot.srgb, chart_model=other)
            assert wrong.mm_per_px != pytest.approx(shot.mm_per_px, rel=0.2)


def test_bad_arguments_are_named() -> None:
    img = np.zeros((64, 64, 3), np.float32)
    with pytest.raises(ValueError, match="chart_model"):
        calibrate(img, chart_model="passport")
    with pytest.raises(ValueError, match="skin_mask"):
        calibrate(img, skin_mask=np.ones((10, 10), bool))
    with pytest.raises(TypeError, match="srgb"):
        calibrate(img.astype(np.uint8))
    with pytest.raises(ValueError, match="grey_card_corners"):
        calibrate(img, grey_card_corners=np.zeros((3, 2)))


@pytest.mark.real_data
def test_gate_keeps_an_above_target_chart_with_a_note(real_data_dir) -> None:
    """The Mini photo (a processed web JPEG) fits at about 2.7 mean: kept, and the note says so."""
    import cv2

    bgr = cv2.imread(str(real_data_dir / "plantcv" / "colorchecker-classic-mini.jpg"), cv2.IMREAD_COLOR)
    srgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    cal = calibrate(srgb, chart_model="mini")
    assert cal.method == "colour_chart" and cal.calibrated
    assert 2.0 < cal.chart_delta_e_mean <= 3.0
    assert any("above target" in n for n in cal.notes)
    before, _ = _scenes()
    clean = calibrate(capture(before, seed=10, cct_k=5000.0, chart=True, chart_model="mini").srgb, chart_model="mini")
    assert clean.chart_delta_e_mean <= 2.0 and not any("above target" in n for n in clean.notes)


@pytest.mark.parametrize("cct", [2700.0, 6500.0])
def test_the_chart_tells_the_colour_of_the_light(cct: float) -> None:
    """The camera's white balance is fixed at D65, so the grey patches show the light's colour."""
    before, _ = _scenes()
    shot = capture(before, seed=11, cct_k=cct, exposure=0.7, chart=True, chart_model="mini")
    cal = calibrate(shot.srgb, chart_model="mini")
    assert cal.light_cct_k == pytest.approx(cct, rel=0.1)
    assert calibrate(capture(before, seed=11, cct_k=cct).srgb).light_cct_k is None
