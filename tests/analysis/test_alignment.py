"""align / warp_to_reference: follow-up photos land on the baseline to a pixel, or are refused."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.analysis._align_helpers import as3, change_light, corner_errors, point_errors, render_pair, skin_texture
from tracker.analysis.alignment import Alignment, align, prepare_reference, warp_to_reference
from tracker.analysis.decode import decode_image
from tracker.simulate import capture, make_front_scene, make_skin_scene

H, W = 720, 960  # 0.7 MP: accuracy tests stay small

KNOWN_WARPS = [
    # (angle deg, scale, (shift x, shift y) as a fraction of the size)
    (0.0, 1.0, (0.10, 0.0)),
    (10.0, 1.0, (0.0, -0.10)),
    (-10.0, 1.15, (0.05, 0.05)),
    (7.0, 0.85, (-0.10, 0.08)),
    (-4.0, 0.9, (0.10, -0.10)),
    (10.0, 1.15, (-0.08, -0.06)),
]


@pytest.mark.parametrize("light_change", [False, True], ids=["same-light", "exposure0.7-warm"])
@pytest.mark.parametrize(("angle", "scale", "shift"), KNOWN_WARPS)
def test_known_warps_are_recovered_within_a_pixel(angle: float, scale: float, shift: tuple[float, float], light_change: bool) -> None:
    reference, moving, truth = render_pair(H, W, angle_deg=angle, scale=scale, shift_frac=shift)
    if light_change:
        moving = change_light(moving, exposure=0.7, cast=(1.0, 0.9, 0.75))
    result = align(moving, reference)
    assert isinstance(result, Alignment)
    assert result.ok, result.reason
    errors = corner_errors(result.matrix, truth, (H, W))
    assert np.median(errors) <= 0.5, errors
    assert errors.max() <= 1.0, errors
    assert result.similarity is not None and result.similarity > 0.8
    assert result.scale == pytest.approx(1 / scale, rel=0.01)
    assert result.rotation_deg == pytest.approx(angle, abs=0.2)
    assert result.residual_px is not None and result.residual_px < 3.0


def test_aligned_photo_overlays_the_reference() -> None:
    reference, moving, _ = render_pair(H, W, angle_deg=6.0, scale=1.1, shift_frac=(0.05, -0.05))
    result = align(moving, reference)
    warped, valid = warp_to_reference(moving, result.matrix, reference.shape)
    assert valid.mean() > 0.7
    # The warped photo now differs from the reference only by resampling.
    assert np.abs(warped - reference)[valid].mean() < 0.01
    unaligned = np.abs(moving - reference).mean()
    assert unaligned > 5 * np.abs(warped - reference)[valid].mean()


def test_chart_masked_out_does_not_pull_the_warp() -> None:
    """A colour chart fixed in the frame (it does not move with the skin) is left out through the masks."""
    reference, moving, truth = render_pair(H, W, angle_deg=5.0, scale=1.05, shift_frac=(0.06, 0.04), seed=3)
    chart = np.zeros((H, W), bool)
    chart[40:240, 40:340] = True
    rng = np.random.default_rng(0)
    patches = np.kron(rng.uniform(0.05, 0.95, (4, 6, 3)), np.ones((50, 50, 1))).astype(np.float32)
    reference[chart] = patches.reshape(-1, 3)
    moving[chart] = patches.reshape(-1, 3)
    result = align(moving, reference, moving_mask=~chart, reference_mask=~chart)
    assert result.ok, result.reason
    assert corner_errors(result.matrix, truth, (H, W)).max() <= 1.0


def _truth(reference_capture: object, moving_capture: object) -> np.ndarray:
    """moving pixel -> scene -> reference pixel, from the simulator's geometry truth."""
    to_scene_ref = as3(reference_capture.matrix_to_scene)  # type: ignore[attr-defined]
    to_scene_mov = as3(moving_capture.matrix_to_scene)  # type: ignore[attr-defined]
    return (np.linalg.inv(to_scene_ref) @ to_scene_mov)[:2]


@pytest.mark.parametrize("chart_position", ["top-right", "bottom-left"])
def test_simulated_close_ups_with_a_chart_and_new_light_align(chart_position: str) -> None:
    """Spectral skin simulator: new pose, 3200 K light at 0.7 exposure with a gradient, chart moved in the frame."""
    scene = make_skin_scene(seed=3, shape_px=(1200, 1600), mm_per_px=0.15)
    ref = capture(scene, seed=1, chart=True, out_shape=(H, W), scale=0.8)
    mov = capture(scene, seed=2, chart=True, chart_position=chart_position, out_shape=(H, W), rotation_deg=7,
                  scale=0.88, shift_px=(40, -30), exposure=0.7, cct_k=3200, gradient=0.3)
    result = align(mov.srgb, ref.srgb, moving_mask=mov.skin_mask, reference_mask=ref.skin_mask)
    assert result.ok, result.reason
    errors = corner_errors(result.matrix, _truth(ref, mov), (H, W))
    assert np.median(errors) <= 0.5 and errors.max() <= 1.0, errors
    # Without the masks the chart (in a different place) would pull the warp: refused, not bent.
    unmasked = align(mov.srgb, ref.srgb)
    assert not unmasked.ok or corner_errors(unmasked.matrix, _truth(ref, mov), (H, W)).max() <= 1.0


def test_simulated_front_view_aligns_on_the_face() -> None:
    """A portrait (simulator front view): the face is ~3 % of the frame; the warp must hold on the face."""
    scene = make_front_scene(seed=2, size_px=1024)
    ref = capture(scene, seed=1, chart=True, out_shape=(900, 900), scale=0.85)
    mov = capture(scene, seed=2, chart=True, chart_position="top-right", out_shape=(900, 900), rotation_deg=-6,
                  scale=0.95, shift_px=(30, 25), exposure=0.75, cct_k=3500, gradient=0.2)
    truth = _truth(ref, mov)
    face = align(mov.srgb, ref.srgb, moving_mask=mov.skin_mask, reference_mask=ref.skin_mask)
    assert face.ok, face.reason
    ys, xs = np.nonzero(ref.skin_mask)
    box = np.array([[xs.min(), ys.min()], [xs.max(), ys.min()], [xs.min(), ys.max()], [xs.max(), ys.max()]], float)
    assert point_errors(face.matrix, truth, box).max() <= 0.5
    assert corner_errors(face.matrix, truth, (900, 900)).max() <= 1.5  # extrapolated far from the face
    whole = align(mov.srgb, ref.srgb, moving_mask=~mov.chart_mask, reference_mask=~ref.chart_mask)
    assert whole.ok and corner_errors(whole.matrix, truth, (900, 900)).max() <= 0.5


def test_prepared_reference_gives_the_same_answer() -> None:
    reference, moving, _ = render_pair(H, W, angle_deg=-3.0, scale=0.95, shift_frac=(0.02, 0.03))
    mask = np.ones((H, W), bool)
    mask[:, :100] = False
    prepared = prepare_reference(reference, mask=mask)
    a = align(moving, prepared)
    b = align(moving, reference, reference_mask=mask)
    assert a.ok and b.ok
    assert np.allclose(a.matrix, b.matrix, atol=1e-6)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), h=st.integers(160, 320), w=st.integers(160, 320))
def test_aligning_an_image_to_itself_gives_the_identity(seed: int, h: int, w: int) -> None:
    image = skin_texture(h, w, seed=seed)
    result = align(image, image)
    assert result.ok, result.reason
    assert np.abs(result.matrix - np.eye(3)[:2]).max() < 1e-3 * max(h, w)
    assert corner_errors(result.matrix, np.eye(3)[:2], (h, w)).max() < 0.05
    assert result.similarity == pytest.approx(1.0, abs=1e-3)


def test_a_different_skin_area_is_refused() -> None:
    a = skin_texture(H, W, seed=11)
    b = skin_texture(H, W, seed=12)
    result = align(a, b)
    assert not result.ok
    assert result.matrix is None
    assert "different area or patient" in result.reason


def test_an_empty_skin_mask_is_a_refusal_not_an_error() -> None:
    image = skin_texture(H, W, seed=2)
    result = align(image, image, moving_mask=np.zeros((H, W), bool))
    assert not result.ok and "not enough detail" in result.reason
    prepared = prepare_reference(image, mask=np.zeros((H, W), bool))
    assert not align(image, prepared).ok


def test_a_featureless_photo_is_refused() -> None:
    flat = np.full((H, W, 3), 0.6, np.float32)
    result = align(flat, skin_texture(H, W, seed=1))
    assert not result.ok and result.reason


def test_a_far_too_close_photo_is_refused_for_its_scale() -> None:
    reference, moving, _ = render_pair(H, W, angle_deg=0.0, scale=2.5, shift_frac=(0.0, 0.0), seed=4)
    result = align(moving, reference)
    assert not result.ok
    assert result.reason is not None


# --- real photographs -----------------------------------------------------------------------

# A handful of close-ups, one per patient: four at full resolution, four 300 px.
DIFFERENT_PATIENTS = [
    "PAT_117_179_983.png", "PAT_1276_957_406.png", "PAT_1984_4038_265.png", "PAT_544_3299_671.png",
    "PAT_1286_999_824.png", "PAT_354_1814_153.png", "PAT_649_1233_229.png", "PAT_320_681_410.png",
]


def _load(real_data_dir: Path, folder: str, name: str) -> np.ndarray:
    path = real_data_dir / folder / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return decode_image(path).srgb


@pytest.mark.real_data
def test_photos_of_different_patients_are_all_refused(real_data_dir: Path) -> None:
    images = {n: _load(real_data_dir, "pad_ufes_20", n) for n in DIFFERENT_PATIENTS}
    prepared = {n: prepare_reference(img) for n, img in images.items()}
    accepted = []
    for a, b in itertools.combinations(DIFFERENT_PATIENTS, 2):
        result = align(images[a], prepared[b])
        if result.ok:
            accepted.append((a, b, result.inliers, result.similarity))
        else:
            assert result.reason and result.matrix is None
    assert not accepted, f"different patients aligned: {accepted}"


@pytest.mark.real_data
def test_a_face_is_not_aligned_to_another_persons_face(real_data_dir: Path) -> None:
    names = ["interfaces_001.jpg", "interfaces_005.jpg", "interfaces_006.jpg", "interfaces_009.jpg",
             "interfaces_016.jpg", "interfaces_025.jpg", "interfaces_029.jpg"]
    faces = {n: _load(real_data_dir, "interfaces_cc0_faces", n) for n in names}
    for a, b in zip(names, names[1:] + names[:1]):
        result = align(faces[a], faces[b])
        assert not result.ok, f"{a} aligned to {b}"


@pytest.mark.real_data
def test_same_lesion_pair_with_mild_zoom_aligns_on_the_lesion(real_data_dir: Path) -> None:
    """PAT_1286_999: same naevus, ~1.25x zoom and a slight tilt. Verified by looking at a checkerboard overlay."""
    moving = _load(real_data_dir, "pad_ufes_20", "PAT_1286_999_824.png")
    reference = _load(real_data_dir, "pad_ufes_20", "PAT_1286_999_846.png")
    result = align(moving, reference)
    assert result.ok, result.reason
    assert 1.15 < result.scale < 1.35 and abs(result.rotation_deg) < 5
    assert result.similarity > 0.6
    # The dark naevus lands on the dark naevus (its outline differs with the light, its centre must not).
    warped, valid = warp_to_reference(moving, result.matrix, reference.shape)
    a, b = _naevus(warped, valid), _naevus(reference, valid)
    centre_a, centre_b = np.argwhere(a).mean(axis=0), np.argwhere(b).mean(axis=0)
    assert np.hypot(*(centre_a - centre_b)) < 3.0
    assert (a & b).sum() / (a | b).sum() > 0.85


def _naevus(srgb: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The grey-blue naevus: the largest low-saturation blob (Otsu inside `valid`), holes filled."""
    from scipy import ndimage as ndi
    from skimage.filters import threshold_otsu

    saturation = (srgb.max(axis=2) - srgb.min(axis=2)) / np.maximum(srgb.max(axis=2), 1e-3)
    blob = ((saturation < threshold_otsu(saturation[valid])) & valid).astype(np.uint8)
    blob = cv2.morphologyEx(blob, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(blob)
    return ndi.binary_fill_holes(labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])))


SAME_LESION_PAIRS = [("100_393_595", "100_393_898"), ("320_681_410", "320_681_724"), ("354_1814_153", "354_1814_619"),
                     ("194_298_367", "194_298_945"), ("1286_999_824", "1286_999_846"), ("46_881_14", "46_881_939")]


@pytest.mark.real_data
@pytest.mark.parametrize("pair", [p for a, b in SAME_LESION_PAIRS for p in ((a, b), (b, a))], ids=lambda p: "->".join(p))
def test_every_same_lesion_pair_lines_up_in_both_directions_with_a_confirmed_warp(real_data_dir: Path, pair) -> None:
    """Each shared same-lesion pair, both ways (checked by eye on checkerboard overlays).

    - 1286_999, 354_1814 (1.2x closer crop, now also the wider one onto the closer one):
      skin features (SIFT) then ECC.
    - 46_881: a 300 px copy against the 1325 px original, 1.4x zoom: the zoom is judged on the
      field of view, not on pixels; across that change of resolution ECC may not converge and the
      feature warp stands when the skin confirms it.
    - 100_393 (1.7x zoom, strong white-balance change), 320_681 (other light), 194_298 (neck,
      other light): SIFT finds nothing consistent; the lesion's outline lines them up.

    Confirmed: under the warp the band-passed skin correlates at least as well (within 0.05) as
    under the same warp shifted 8 px or turned 4°, or under no warp.
    """
    from tracker.analysis import lesion_align

    pad = lambda n: _load(real_data_dir, "pad_ufes_20", f"PAT_{n}.png")  # noqa: E731
    moving, reference = pad(pair[0]), pad(pair[1])
    result = align(moving, reference)
    assert result.ok, result.reason
    zoom = result.scale * max(moving.shape[:2]) / max(reference.shape[:2])
    assert 0.5 <= zoom <= 2.0

    view_m = lesion_align.lesion_view(_grey_of(moving))
    view_r = lesion_align.lesion_view(_grey_of(reference))
    to_m, to_r = np.diag([view_m.factor, view_m.factor, 1.0]), np.diag([view_r.factor, view_r.factor, 1.0])
    m_small = (to_r @ np.vstack([result.matrix, [0, 0, 1]]) @ np.linalg.inv(to_m))[:2].astype(np.float32)
    own, rival = lesion_align.confirm(lesion_align.band(view_m.log_grey), lesion_align.band(view_r.log_grey), m_small)
    assert own >= rival - 0.05, (own, rival)
    assert own >= lesion_align.MIN_TEXTURE_NCC


def _grey_of(srgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(srgb, dtype=np.float32), cv2.COLOR_RGB2GRAY)


@pytest.mark.slow
def test_two_6_megapixel_photos_align_in_well_under_a_second() -> None:
    reference, moving, truth = render_pair(H, W, angle_deg=5.0, scale=1.08, shift_frac=(0.05, -0.04), seed=5)
    up = lambda img: cv2.resize(img, (3000, 2000), interpolation=cv2.INTER_CUBIC)  # noqa: E731
    reference6, moving6 = up(reference), change_light(up(moving))
    align(moving6, reference6)  # warm-up
    times = []
    for _ in range(2):
        start = time.perf_counter()
        result = align(moving6, reference6)
        times.append(time.perf_counter() - start)
    assert result.ok
    # ~0.45-0.6 s measured on the 2 shared cores when idle; the bound leaves room for a loaded machine.
    assert min(times) < 2.0, f"{min(times):.2f} s"
    # accuracy carries over to full resolution (coordinates scale by 3000/960 in x, 2000/720 in y)
    s = np.diag([3000 / W, 2000 / H, 1.0])
    s[:2, 2] = [0.5 * 3000 / W - 0.5, 0.5 * 2000 / H - 0.5]
    truth6 = (s @ as3(truth) @ np.linalg.inv(s))[:2]
    assert corner_errors(result.matrix, truth6, (2000, 3000)).max() <= 2.0


# --- warp_to_reference ---------------------------------------------------------------------------


def test_warp_identity_and_shift() -> None:
    img = np.random.default_rng(0).random((40, 50, 3)).astype(np.float32)
    out, valid = warp_to_reference(img, np.eye(3)[:2], img.shape)
    assert np.allclose(out, img, atol=1e-6)
    assert valid[1:-1, 1:-1].all()
    shifted, valid = warp_to_reference(img, np.array([[1.0, 0, 5], [0, 1.0, -3]]), (40, 50))
    assert np.allclose(shifted[0:37, 5:50], img[3:40, 0:45], atol=1e-6)
    assert not valid[:, :5].any() and not valid[37:].any()


def test_warp_of_a_mask_stays_a_mask() -> None:
    mask = np.zeros((30, 30), bool)
    mask[10:20, 10:20] = True
    out, valid = warp_to_reference(mask, np.array([[1.0, 0, 2.4], [0, 1.0, 0]]), (30, 30))
    assert out.dtype == bool and out.sum() == 100
    assert out[10:20, 12:22].all()


def test_warp_arguments_are_checked() -> None:
    img = np.zeros((10, 10, 3), np.float32)
    with pytest.raises(ValueError, match="matrix"):
        warp_to_reference(img, np.eye(4)[:3], (10, 10))
    with pytest.raises(ValueError, match="matrix"):
        warp_to_reference(img, np.full((3, 3), np.nan), (10, 10))
    with pytest.raises(ValueError, match="interpolation"):
        warp_to_reference(img, np.eye(3)[:2], (10, 10), interpolation="bicubic")
    with pytest.raises(ValueError, match="reference_shape"):
        warp_to_reference(img, np.eye(3)[:2], (10,))


def test_align_arguments_are_checked() -> None:
    img = skin_texture(100, 120, seed=1)
    with pytest.raises(ValueError, match="moving_srgb"):
        align(img[:, :, 0], img)
    with pytest.raises(TypeError, match="moving_srgb"):
        align((img * 255).astype(np.uint8), img)
    with pytest.raises(ValueError, match="moving_mask"):
        align(img, img, moving_mask=np.ones((10, 10), bool))
    with pytest.raises(TypeError, match="reference"):
        align(img, [img])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reference_mask"):
        align(img, prepare_reference(img), reference_mask=np.ones((100, 120), bool))
