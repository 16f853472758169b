"""Faces on real portraits: landmarks, pose and view, and the anatomical regions.

The seven CC0 portraits (../shared/data/real/interfaces_cc0_faces) run from very
fair to dark skin, with a tilted head, a 3/4 view, glasses and a beard.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tracker.analysis.face import REGION_KEYS, find_face
from tracker.analysis.face.regions import feature_masks

from ._face_helpers import PORTRAITS

#: Regions at least this many square millimetres (by the eye-distance scale) are "found";
#: the contract's floor is 1 cm².
MIN_REGION_MM2 = 100.0
#: Regions a person sees covered in these portraits (by eye): both bearded men have their chin under the beard.
COVERED = {"interfaces_006.jpg": {"chin"}, "interfaces_016.jpg": {"chin"}}


def _load(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, path
    return np.ascontiguousarray(bgr[:, :, ::-1], dtype=np.float32) / 255.0


@pytest.fixture(scope="module")
def portraits(real_data_dir: Path) -> dict[str, tuple[np.ndarray, object]]:
    out = {}
    for name in PORTRAITS:
        srgb = _load(real_data_dir / "interfaces_cc0_faces" / name)
        out[name] = (srgb, find_face(srgb))
    return out


@pytest.mark.real_data
@pytest.mark.parametrize("name", PORTRAITS or ["(none)"])
def test_every_real_face_has_landmarks_and_every_region(portraits, name: str):
    face = portraits[name][1]

    assert face.found and face.reliable, face.reason
    assert face.landmark_count == 468
    assert face.view == "front", (face.view, face.pose)
    px_per_mm = face.px_per_mm()
    assert px_per_mm is not None
    for key in REGION_KEYS:
        area_mm2 = face.regions.masks[key].sum() / px_per_mm**2
        if key in COVERED.get(name, ()):
            assert area_mm2 == 0
            assert "beard" in face.regions.reasons[key]
            continue
        assert area_mm2 >= MIN_REGION_MM2, f"{key}: {area_mm2:.0f} mm²"
        assert face.regions.reasons[key] is None


@pytest.mark.real_data
@pytest.mark.parametrize("name", PORTRAITS or ["(none)"])
def test_no_region_touches_the_eyes_brows_lips_or_nostrils(portraits, name: str):
    srgb, face = portraits[name]
    features = feature_masks(face.landmarks.xy, srgb.shape[:2])  # the features' own outlines, no margin

    for key in REGION_KEYS:
        for feature, mask in features.items():
            overlap = int((face.regions.masks[key] & mask).sum())
            assert overlap == 0, f"{key} covers {overlap} px of {feature}"


@pytest.mark.real_data
@pytest.mark.parametrize("name", PORTRAITS or ["(none)"])
def test_regions_do_not_overlap_each_other(portraits, name: str):
    face = portraits[name][1]
    stack = np.stack([face.regions.masks[k] for k in REGION_KEYS]).sum(axis=0)
    assert stack.max() <= 1


@pytest.mark.real_data
@pytest.mark.parametrize("name", ["interfaces_005.jpg", "interfaces_025.jpg"])
def test_a_mirrored_photo_mirrors_the_view_and_swaps_left_and_right(portraits, name: str):
    srgb, face = portraits[name]
    mirrored = find_face(np.ascontiguousarray(srgb[:, ::-1]))

    assert np.sign(mirrored.pose.yaw_deg) == -np.sign(face.pose.yaw_deg)
    assert abs(mirrored.pose.yaw_deg + face.pose.yaw_deg) < 4.0
    assert abs(mirrored.pose.roll_deg + face.pose.roll_deg) < 3.0
    def iou(a: np.ndarray, b: np.ndarray) -> float:
        return float((a & b).sum() / max(1, (a | b).sum()))

    for left, right in (("cheek_left", "cheek_right"), ("periorbital_left", "periorbital_right")):
        flipped_back = mirrored.regions.masks[left][:, ::-1]
        # The mirrored photo's left region lands on the original's right one, not on its left.
        assert iou(flipped_back, face.regions.masks[right]) > 0.5
        assert iou(flipped_back, face.regions.masks[left]) == 0.0


@pytest.mark.real_data
def test_the_three_quarter_view_is_turned_to_the_persons_left(portraits):
    # interfaces_005: the woman's left cheek faces the camera (her nose points to the image's left).
    _, face = portraits["interfaces_005.jpg"]
    assert face.pose.yaw_deg > 10.0
    assert face.regions.masks["cheek_left"].sum() > 1.5 * face.regions.masks["cheek_right"].sum()


@pytest.mark.real_data
def test_turning_the_photo_turns_the_roll_and_nothing_else(portraits):
    srgb, face = portraits["interfaces_001.jpg"]
    h, w = srgb.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), -12.0, 1.0)  # 12 degrees clockwise on screen
    turned = find_face(cv2.warpAffine(srgb, turn, (w, h), borderMode=cv2.BORDER_REFLECT))

    assert turned.pose.roll_deg - face.pose.roll_deg == pytest.approx(12.0, abs=2.0)
    assert turned.pose.yaw_deg == pytest.approx(face.pose.yaw_deg, abs=3.0)
    # The landmarks turn with the photo: a few pixels at most on a 1000 px portrait.
    moved = face.landmarks.xy @ turn[:, :2].T + turn[:, 2]
    assert np.median(np.linalg.norm(turned.landmarks.xy - moved, axis=1)) < 3.0


def test_a_photo_without_a_face_says_so():
    rng = np.random.default_rng(3)
    wall = np.clip(0.6 + 0.02 * rng.standard_normal((600, 800, 3)), 0, 1).astype(np.float32)
    face = find_face(wall)

    assert not face.found
    assert face.reason == "no face found in the photo"
    assert face.to_dict() == {
        "found": False, "landmark_count": 0, "view": None, "pose_deg": None,
        "landmarks_reliable": False, "reason": "no face found in the photo",
    }


@pytest.mark.real_data
def test_a_large_photo_costs_no_more_landmark_time_than_a_small_one(portraits):
    # Landmarks run on a copy of at most 1024 px: a 4000 px photo gives the same face.
    srgb, face = portraits["interfaces_016.jpg"]
    big = cv2.resize(srgb, (4000, 4000), interpolation=cv2.INTER_LINEAR)
    big_face = find_face(big, with_regions=False)
    assert np.median(np.linalg.norm(big_face.landmarks.xy / 4.0 - face.landmarks.xy, axis=1)) < 1.5
