"""skin_region / clipped_mask: measure the skin, all of it (red and spotted too), and nothing else."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tracker.analysis.colour import linear_to_srgb, srgb_to_linear
from tracker.analysis.decode import decode_image
from tracker.analysis.roi import clipped_mask, skin_region

# Typical sRGB skin colours, Fitzpatrick I to VI (approximate, from ITA classes).
SKIN_TONES = {
    "I": (0.93, 0.78, 0.70),
    "II": (0.87, 0.69, 0.58),
    "III": (0.80, 0.60, 0.47),
    "IV": (0.66, 0.46, 0.33),
    "V": (0.48, 0.32, 0.22),
    "VI": (0.30, 0.20, 0.15),
}


def _textured(colour: tuple[float, float, float], h: int, w: int, seed: int) -> np.ndarray:
    """Skin-like texture: the tone modulated by smooth shading, fine texture and noise (sRGB)."""
    rng = np.random.default_rng(seed)
    fine = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 1.5) * 0.04
    coarse = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 20) * 0.5
    lin = srgb_to_linear(np.array(colour, np.float32)) * (1 + fine + coarse)[:, :, None]
    return linear_to_srgb(np.clip(lin, 0, 1))


def _face_scene(tone: str, *, seed: int = 0, h: int = 480, w: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """A skin ellipse (the 'face') on a cool grey-blue background; returns (srgb, true skin mask)."""
    bg = _textured((0.45, 0.52, 0.60), h, w, seed + 100)
    skin = _textured(SKIN_TONES[tone], h, w, seed)
    yy, xx = np.mgrid[0:h, 0:w]
    face = ((xx - w / 2) / (0.32 * w)) ** 2 + ((yy - h / 2) / (0.36 * h)) ** 2 <= 1
    return np.where(face[:, :, None], skin, bg).astype(np.float32), face


def _close_up_with_lesions(seed: int = 3, h: int = 600, w: int = 600) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A close-up of light skin with a strong red patch, dark pigment spots (one cut by the frame edge) and a red patch at the edge."""
    srgb = _textured(SKIN_TONES["II"], h, w, seed)
    lin = srgb_to_linear(srgb)
    yy, xx = np.mgrid[0:h, 0:w]
    marks = {
        "red_patch": ((xx - 200) / 90) ** 2 + ((yy - 250) / 60) ** 2 <= 1,
        "red_edge": ((xx - w) / 80) ** 2 + ((yy - 450) / 70) ** 2 <= 1,
        "spot_a": np.hypot(xx - 400, yy - 200) <= 18,
        "spot_b": np.hypot(xx - 380, yy - 420) <= 10,
        "spot_edge": np.hypot(xx - 300, yy - 0) <= 35,
    }
    # Erythema: haemoglobin absorbs green (and some blue) strongly.
    red = marks["red_patch"] | marks["red_edge"]
    lin[red] *= np.array([0.95, 0.35, 0.45], np.float32)
    # Pigment: melanin darkens all channels, blue most.
    for name in ("spot_a", "spot_b", "spot_edge"):
        lin[marks[name]] *= np.array([0.18, 0.12, 0.08], np.float32)
    return linear_to_srgb(lin), marks


def test_red_patches_and_dark_spots_stay_in_a_close_up_region() -> None:
    srgb, marks = _close_up_with_lesions()
    region = skin_region(srgb)
    for name, mark in marks.items():
        assert region[mark].mean() > 0.97, f"{name}: only {region[mark].mean():.0%} kept in the region"
    assert region.mean() > 0.97


@pytest.mark.parametrize("tone", list(SKIN_TONES))
def test_red_patch_and_dark_spots_inside_a_face_are_kept(tone: str) -> None:
    srgb, face = _face_scene(tone, seed=5)
    lin = srgb_to_linear(srgb)
    h, w = face.shape
    yy, xx = np.mgrid[0:h, 0:w]
    red = ((xx - 160) / 45) ** 2 + ((yy - 200) / 30) ** 2 <= 1
    spots = (np.hypot(xx - 240, yy - 300) <= 9) | (np.hypot(xx - 210, yy - 330) <= 6) | (np.hypot(xx - 250, yy - 180) <= 14)
    lin[red] *= np.array([0.95, 0.35, 0.45], np.float32)
    lin[spots] *= np.array([0.2, 0.13, 0.09], np.float32)
    region = skin_region(linear_to_srgb(lin))
    assert region[red].mean() > 0.97
    assert region[spots].mean() > 0.97


@pytest.mark.parametrize("tone", list(SKIN_TONES))
def test_skin_of_every_fitzpatrick_type_is_found_and_background_left_out(tone: str) -> None:
    srgb, face = _face_scene(tone)
    region = skin_region(srgb)
    assert region[face].mean() > 0.95, f"only {region[face].mean():.0%} of the skin found"
    assert region[~face].mean() < 0.03, f"{region[~face].mean():.0%} of the background taken as skin"


def test_skin_under_a_warm_light_is_still_found() -> None:
    srgb, face = _face_scene("III", seed=2)
    warm = linear_to_srgb(srgb_to_linear(srgb) * np.array([1.0, 0.85, 0.6], np.float32))
    region = skin_region(warm)
    assert region[face].mean() > 0.95


def test_close_up_with_a_cool_white_balance_is_all_skin() -> None:
    # Skin pushed to R < G by a bad white balance (seen in real close-ups): the centre decides.
    srgb, _ = _close_up_with_lesions(seed=8)
    cool = linear_to_srgb(srgb_to_linear(srgb) * np.array([0.55, 0.85, 1.0], np.float32))
    assert skin_region(cool).mean() > 0.95


def test_chart_is_excluded_even_when_surrounded_by_skin() -> None:
    srgb, face = _face_scene("III", seed=1)
    chart = np.zeros(face.shape, bool)
    chart[200:260, 170:240] = True
    srgb[chart] = (0.8, 0.6, 0.45)  # skin-coloured patch, the worst case
    region = skin_region(srgb, exclude=chart)
    assert not region[chart].any()
    assert region[face & ~chart].mean() > 0.95


def test_clipped_and_specular_pixels_are_left_out() -> None:
    srgb, face = _face_scene("II", seed=4)
    srgb[150:160, 150:170] = 1.0  # blown-out highlight
    yy, xx = np.mgrid[0:face.shape[0], 0:face.shape[1]]
    glint = np.hypot(xx - 250, yy - 300) <= 4
    srgb[glint] = (0.95, 0.94, 0.93)  # specular glint, not clipped
    region = skin_region(srgb)
    assert not region[150:160, 150:170].any()
    assert not region[glint].any()
    assert region[face].mean() > 0.9


def test_clipped_mask_marks_clipped_crushed_and_specular_pixels_only() -> None:
    srgb = np.full((100, 120, 3), 0.5, np.float32) * np.float32([1.2, 1.0, 0.8])
    srgb[10, 10] = (1.0, 0.6, 0.5)  # red channel clipped
    srgb[50, 50] = (0.3, 0.2, 0.01)  # blue crushed
    srgb[80:83, 90:93] = 0.93  # specular glint
    mask = clipped_mask(srgb)
    assert mask[10, 10] and mask[50, 50] and mask[81, 91]
    assert mask[10, 11] and mask[9, 10]  # a little dilation
    assert not mask[30, 30] and not mask[10, 14]
    assert mask.mean() < 0.01


def test_bright_even_light_skin_is_not_called_specular() -> None:
    srgb = _textured((0.94, 0.88, 0.84), 200, 200, 9)
    assert clipped_mask(srgb).mean() < 0.01


@pytest.mark.real_data
@pytest.mark.parametrize(
    ("name", "centre_xy", "background_clean"),
    [
        # (x, y) on the nose or cheek in the 1000 x 1000 photo, found by looking.
        ("interfaces_001.jpg", (450, 470), True),
        ("interfaces_005.jpg", (520, 360), True),
        ("interfaces_006.jpg", (500, 480), True),
        ("interfaces_016.jpg", (440, 640), True),
        ("interfaces_029.jpg", (400, 320), True),
        # Backgrounds with exactly the skin's colour (dry grass, brick): included, a known limitation.
        ("interfaces_009.jpg", (500, 480), False),
        ("interfaces_025.jpg", (520, 440), False),
    ],
)
def test_real_faces_across_skin_tones(real_data_dir: Path, name: str, centre_xy: tuple[int, int], background_clean: bool) -> None:
    path = real_data_dir / "interfaces_cc0_faces" / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    srgb = decode_image(path).srgb
    region = skin_region(srgb)
    unusable = clipped_mask(srgb)
    x, y = centre_xy
    box = (slice(y - 40, y + 40), slice(x - 40, x + 40))
    measurable = ~unusable[box]
    assert region[box][measurable].mean() > 0.9, "the middle of the face is not in the skin region"
    assert not region[unusable].any()
    if background_clean:
        corners = [region[:40, :40], region[:40, -40:], region[-40:, :40], region[-40:, -40:]]
        assert not any(c.any() for c in corners[:2]), "the top corners (background) are in the skin region"
        assert 0.05 < region.mean() < 0.5


@pytest.mark.real_data
@pytest.mark.parametrize("name", ["PAT_1984_4038_265.png", "PAT_430_848_476.png", "PAT_46_881_939.png", "PAT_1710_3160_488.png"])
def test_real_close_ups_keep_the_lesion_in_the_region(real_data_dir: Path, name: str) -> None:
    """Pigmented (naevus), red (BCC), marked and sun-damaged close-ups: the lesion must not be cut out."""
    path = real_data_dir / "pad_ufes_20" / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    srgb = decode_image(path).srgb
    region = skin_region(srgb)
    usable = ~clipped_mask(srgb)
    assert region[usable].mean() > 0.95


def test_arguments_are_checked() -> None:
    img = np.full((20, 20, 3), 0.5, np.float32)
    with pytest.raises(ValueError, match="srgb"):
        skin_region(img[:, :, 0])
    with pytest.raises(TypeError, match="srgb"):
        skin_region((img * 255).astype(np.uint8))
    with pytest.raises(ValueError, match="exclude"):
        skin_region(img, exclude=np.zeros((5, 5), bool))
    with pytest.raises(TypeError, match="exclude"):
        skin_region(img, exclude=np.zeros((20, 20), np.uint8))
    with pytest.raises(ValueError, match="low"):
        clipped_mask(img, high=0.5, low=0.6)


def _cast_close_up(surround: tuple[float, float, float], *, h: int = 400, w: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """A pink-brown lesion (in the skin prior) in the middle of a frame of another colour; (srgb, lesion)."""
    srgb = _textured(surround, h, w, 11)
    lesion_colour = _textured((0.55, 0.38, 0.36), h, w, 12)
    yy, xx = np.mgrid[0:h, 0:w]
    lesion = ((xx - w / 2) / (0.16 * w)) ** 2 + ((yy - h / 2) / (0.22 * h)) ** 2 <= 1
    return np.where(lesion[:, :, None], lesion_colour, srgb).astype(np.float32), lesion


def test_a_declared_close_up_under_a_grey_cast_is_skin_to_the_edges_not_the_lesion_alone() -> None:
    # Fair skin photographed with a grey-green white balance: R/G just below the skin prior.
    srgb, lesion = _cast_close_up((0.70, 0.68, 0.64))
    assert skin_region(srgb).mean() < 0.2  # undeclared, the lesion alone is taken for the skin
    region = skin_region(srgb, close_up=True)
    assert region.mean() > 0.95
    assert region[lesion].all()


def test_a_declared_close_up_does_not_take_a_blue_cloth_for_skin() -> None:
    srgb, lesion = _cast_close_up((0.40, 0.50, 0.70))
    region = skin_region(srgb, close_up=True)
    assert region.mean() < 0.2
    assert region[lesion].mean() > 0.9


@pytest.mark.parametrize("name", ["PAT_100_393_595", "PAT_117_179_983"])
def test_real_close_ups_under_a_cast_measure_the_skin_around_the_lesion(real_data_dir: Path, name: str) -> None:
    # Smartphone close-ups (PAD-UFES-20) whose grey white balance put the skin just below the
    # prior: the analysis measured the naevus (and refused the photo as "too small") or the
    # carcinoma alone. A person sees skin to every edge.
    srgb = decode_image(str(real_data_dir / "pad_ufes_20" / f"{name}.png")).srgb
    assert skin_region(srgb, close_up=True).mean() > 0.95
