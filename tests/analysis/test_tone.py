"""Skin tone (ITA) on uniform patches of known CIELAB colour."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import color

from tracker.analysis.tone import ita_class, skin_tone


def _patch_from_lab(lab: tuple[float, float, float], size: int = 16) -> np.ndarray:
    """A uniform linear-RGB patch whose CIELAB (D65) colour is ``lab``."""
    srgb = color.lab2rgb(np.array([[lab]], dtype=np.float64))[0, 0]
    # lab2rgb returns display-encoded sRGB; decode to linear light with the sRGB curve.
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    return np.broadcast_to(linear.astype(np.float32), (size, size, 3)).copy()


@pytest.mark.parametrize(
    ("lab", "expected_class"),
    [
        # ITA = atan((L - 50) / b): each L/b pair is chosen a few degrees inside its class.
        ((75.0, 2.0, 12.0), "very light"),  # 64.4 deg
        ((68.0, 6.0, 18.0), "light"),  # 45.0 deg
        ((62.0, 8.0, 18.0), "intermediate"),  # 33.7 deg
        ((56.0, 10.0, 20.0), "tan"),  # 16.7 deg
        ((45.0, 12.0, 22.0), "brown"),  # -12.8 deg
        ((30.0, 10.0, 18.0), "dark"),  # -48.0 deg
    ],
)
def test_uniform_patch_of_known_lab_gets_its_ita_and_class(lab: tuple[float, float, float], expected_class: str) -> None:
    patch = _patch_from_lab(lab)
    tone = skin_tone(patch, np.ones(patch.shape[:2], bool))
    expected_ita = np.degrees(np.arctan((lab[0] - 50.0) / lab[2]))
    assert tone.ita_deg == pytest.approx(expected_ita, abs=0.3)
    assert tone.tone_class == expected_class


def test_only_the_region_decides_the_tone() -> None:
    light = _patch_from_lab((75.0, 2.0, 12.0))
    dark = _patch_from_lab((30.0, 10.0, 18.0))
    image = np.concatenate([light, dark], axis=1)
    region = np.zeros(image.shape[:2], bool)
    region[:, 16:] = True
    assert skin_tone(image, region).tone_class == "dark"
    assert skin_tone(image, ~region).tone_class == "very light"


def test_class_boundaries_follow_the_published_thresholds() -> None:
    assert [ita_class(a) for a in (55.1, 55.0, 41.0, 28.0, 10.0, -30.0, -30.1)] == [
        "very light",
        "light",
        "intermediate",
        "tan",
        "brown",
        "dark",
        "dark",
    ]


def test_bad_inputs_name_the_argument() -> None:
    patch = _patch_from_lab((60.0, 8.0, 18.0))
    with pytest.raises(ValueError, match="region"):
        skin_tone(patch, np.zeros(patch.shape[:2], bool))
    with pytest.raises(TypeError, match="linear"):
        skin_tone((patch * 255).astype(np.uint8), np.ones(patch.shape[:2], bool))
