"""Face alignment on pseudo-longitudinal pairs made from the real portraits, and refusals.

Each pair is a real portrait and the same portrait seen through a known warp
(up to ±10° of yaw-like foreshortening, zoom, shift), under other light and
re-encoded as JPEG. The error is measured in the baseline's frame at the corners
of the box around the face's regions, and over every region pixel.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import cv2
import numpy as np
import pytest

from tracker.analysis.face import Face, find_face
from tracker.analysis.face.align import MIN_IDENTITY_NCC, align_faces

from ._face_helpers import (
    PORTRAITS,
    load_portrait,
    pseudo_photo,
    smile,
    turn_homography,
)

#: (yaw-like turn in degrees, zoom, shift in px, other light)
CAPTURES = [(10.0, 0.9, (20.0, -15.0), True), (-10.0, 1.1, (-25.0, 10.0), False), (0.0, 1.0, (0.0, 0.0), True)]
MAX_CORNER_ERROR_PX = 2.0


@lru_cache(maxsize=8)
def _face(name: str) -> Face:
    return find_face(np.array(load_portrait(name)))


def _box_corners(face: Face) -> np.ndarray:
    assert face.regions is not None
    ys, xs = np.nonzero(face.regions.union)
    return np.array([[xs.min(), ys.min()], [xs.max(), ys.min()], [xs.min(), ys.max()], [xs.max(), ys.max()]], np.float64)


@pytest.mark.real_data
@pytest.mark.slow
@pytest.mark.parametrize("name", PORTRAITS or ["(none)"])
@pytest.mark.parametrize("capture", CAPTURES, ids=["turn+10_zoom0.9_light", "turn-10_zoom1.1", "light_only"])
def test_a_known_turn_zoom_shift_and_light_change_is_recovered_within_2_px(real_data_dir, name, capture):
    yaw, zoom, shift, light = capture
    base = np.array(load_portrait(name))
    truth = turn_homography(base.shape[:2], yaw_deg=yaw, scale=zoom, shift=shift)  # baseline -> photo
    photo = pseudo_photo(base, truth, light=light)
    base_face = _face(name)

    result = align_faces(photo, find_face(photo), base, base_face)

    assert result.ok, result.reason
    assert result.identity_ncc is not None and result.identity_ncc > MIN_IDENTITY_NCC
    corners = _box_corners(base_face)
    in_photo = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), truth).reshape(-1, 2)
    back = cv2.perspectiveTransform(in_photo.reshape(-1, 1, 2), result.homography).reshape(-1, 2)
    assert np.hypot(*(back - corners).T).max() <= MAX_CORNER_ERROR_PX
    # The dense map, where it is used: every region pixel.
    ys, xs = np.nonzero(base_face.regions.union)
    true_xy = cv2.perspectiveTransform(np.stack([xs, ys], 1).astype(np.float64).reshape(-1, 1, 2), truth).reshape(-1, 2)
    errors = np.hypot(*(result.map_xy[ys, xs] - true_xy).T)
    assert np.percentile(errors, 95) <= MAX_CORNER_ERROR_PX
    assert not result.not_comparable, "a camera change is not an expression change"


@pytest.mark.real_data
@pytest.mark.slow
@pytest.mark.parametrize("pair", list(itertools.combinations(PORTRAITS, 2)) or [("(none)", "(none)")])
def test_every_pair_of_different_people_is_refused_by_the_skin(real_data_dir, pair):
    photo_name, base_name = pair
    result = align_faces(np.array(load_portrait(photo_name)), _face(photo_name),
                         np.array(load_portrait(base_name)), _face(base_name))

    assert not result.ok
    assert result.reason.startswith("different person"), result.reason
    assert result.map_xy is None and result.homography is None


@pytest.mark.real_data
def test_another_view_is_refused_and_named(real_data_dir):
    # interfaces_005 is turned to the person's left; its mirror image is turned to the right.
    base = np.array(load_portrait("interfaces_005.jpg"))
    mirrored = np.ascontiguousarray(base[:, ::-1])
    result = align_faces(mirrored, find_face(mirrored), base, _face("interfaces_005.jpg"))

    assert not result.ok
    assert result.reason.startswith("different view"), result.reason


@pytest.mark.real_data
@pytest.mark.parametrize("name", ["interfaces_001.jpg", "interfaces_006.jpg", "interfaces_016.jpg"])
def test_a_smile_aligns_but_marks_the_perioral_texture_not_comparable(real_data_dir, name):
    base = np.array(load_portrait(name))
    base_face = _face(name)
    photo = smile(base, base_face.landmarks.xy)

    result = align_faces(photo, find_face(photo), base, base_face)

    assert result.ok, result.reason
    assert result.not_comparable == {"perioral": "not comparable: expression differs"}


def test_a_photo_without_a_face_is_refused_with_the_reason():
    wall = np.full((400, 400, 3), 0.6, np.float32)
    no_face = find_face(wall)
    result = align_faces(wall, no_face, wall, no_face)
    assert not result.ok
    assert result.reason == "no face found in this photo"
