"""468 face landmarks (MediaPipe Face Mesh) in image pixels.

The mesh runs on a 192x192 crop turned so that the eyes are level: first around
the detector's box (enlarged 1.5x, as MediaPipe does), then once more around
the landmarks it found, which centres and levels the crop better on a turned
or tilted head. The crop is cut from a copy reduced to about twice the crop's
resolution, so a 12 MP photo costs no more than a small one.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tracker.analysis.face import nets
from tracker.analysis.face.detect import FaceBox

__all__ = ["FaceLandmarks", "find_landmarks"]

_CROP = 192
_ENLARGE = 1.5
#: Mesh indices of the outer eye corners (the person's right, then left): they level the crop.
_RIGHT_EYE_OUTER, _LEFT_EYE_OUTER = 33, 263
#: Face-presence probability below which the mesh is not trusted.
MIN_PRESENCE = 0.5


@dataclass(frozen=True)
class FaceLandmarks:
    """Landmarks of one face.

    Attributes
    ----------
    points : np.ndarray
        (468, 3) float32: x, y in image pixels, z relative depth in pixels
        (smaller is nearer the camera), MediaPipe's Face Mesh numbering.
    presence : float
        The mesh's own face-presence probability in [0, 1].
    detector_score : float
        The detector's confidence in [0, 1].
    """

    points: np.ndarray
    presence: float
    detector_score: float

    @property
    def xy(self) -> np.ndarray:
        return self.points[:, :2]


def _crop_transform(centre: np.ndarray, size: float, angle: float) -> np.ndarray:
    """2x3 affine from crop pixels to image pixels."""
    c, s = np.cos(angle), np.sin(angle)
    k = size / _CROP
    rot = np.array([[c, -s], [s, c]]) * k
    offset = centre - rot @ np.array([_CROP / 2, _CROP / 2])
    return np.hstack([rot, offset[:, None]])


def _run_crop(srgb: np.ndarray, centre: np.ndarray, size: float, angle: float) -> tuple[np.ndarray, float]:
    """Landmarks (468, 3) in image pixels for one rotated square crop, and the presence logit."""
    h, w = srgb.shape[:2]
    # Reduce the part of the image under the crop to about 2x the crop's resolution
    # first: warpAffine does not average when it shrinks.
    reduce = max(1.0, size / (2 * _CROP))
    half = size * 0.75  # covers the rotated square
    x0, y0 = int(max(0, centre[0] - half)), int(max(0, centre[1] - half))
    x1, y1 = int(min(w, centre[0] + half + 1)), int(min(h, centre[1] + half + 1))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return np.full((468, 3), np.nan, np.float32), -100.0
    part = srgb[y0:y1, x0:x1]
    if reduce > 1.0:
        part = cv2.resize(
            part, (max(1, round((x1 - x0) / reduce)), max(1, round((y1 - y0) / reduce))), interpolation=cv2.INTER_AREA
        )
    to_image = _crop_transform(centre, size, angle)
    # crop -> part coordinates: subtract the part's origin, divide by the reduction.
    to_part = to_image.copy()
    to_part[:, 2] -= (x0, y0)
    to_part /= np.array([[(x1 - x0) / part.shape[1]], [(y1 - y0) / part.shape[0]]])
    crop = cv2.warpAffine(
        part, to_part, (_CROP, _CROP), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT
    )
    pts, flag = nets.run_mesh(np.clip(crop, 0.0, 1.0))
    xy = pts[:, :2] @ to_image[:, :2].T + to_image[:, 2]
    z = pts[:, 2:] * (size / _CROP)
    return np.hstack([xy, z]).astype(np.float32), flag


def _level_angle(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.arctan2(b[1] - a[1], b[0] - a[0]))


def find_landmarks(srgb: np.ndarray, face: FaceBox) -> FaceLandmarks | None:
    """The 468 landmarks of a detected face, or None when the mesh sees no face there.

    Parameters
    ----------
    srgb : np.ndarray
        (h, w, 3) float32 sRGB in [0, 1], the image the box was found in.
    face : FaceBox
        From :func:`tracker.analysis.face.detect.detect_faces`.
    """
    centre = np.array([(face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2])
    size = _ENLARGE * max(face.box[2] - face.box[0], face.box[3] - face.box[1])
    angle = _level_angle(face.keypoints[0], face.keypoints[1])
    points, flag = _run_crop(srgb, centre, size, angle)
    # Second pass around the landmarks themselves (MediaPipe's tracking step).
    if np.isfinite(points).all():
        angle = _level_angle(points[_RIGHT_EYE_OUTER], points[_LEFT_EYE_OUTER])
        c, s = np.cos(-angle), np.sin(-angle)
        levelled = points[:, :2] @ np.array([[c, -s], [s, c]]).T
        lo, hi = levelled.min(axis=0), levelled.max(axis=0)
        mid = (lo + hi) / 2
        centre = np.array([[c, s], [-s, c]]) @ mid
        size = _ENLARGE * float(max(hi - lo))
        points, flag = _run_crop(srgb, centre, size, angle)
    presence = 1.0 / (1.0 + np.exp(-np.clip(flag, -100, 100)))
    if presence < MIN_PRESENCE or not np.isfinite(points).all():
        return None
    return FaceLandmarks(points=points, presence=float(presence), detector_score=face.score)
