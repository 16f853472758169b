"""Faces: landmarks, head pose and view, and the anatomical regions measured.

:func:`find_face` runs the vendored MediaPipe models (see ``models/NOTICE``) on
a reduced copy of the photo (landmarks need about 200 px across a face, and a
12 MP photo would cost 30x more for nothing) and returns the face's landmarks
in the caller's pixels, its pose and view, and the eight regions of
:data:`REGION_KEYS`. Nothing about a face is kept beyond the photo's own
geometry: no embedding, no identity vector.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tracker.analysis.face.detect import detect_faces
from tracker.analysis.face.landmarks import FaceLandmarks, find_landmarks
from tracker.analysis.face.pose import (
    LANDMARKS_MAX_YAW_DEG,
    Pose,
    head_pose,
    view_from_yaw,
)
from tracker.analysis.face.regions import REGION_KEYS, FaceRegions, face_regions

__all__ = ["EYE_DISTANCE_MM", "REGION_KEYS", "Face", "FaceLandmarks", "FaceRegions", "Pose", "find_face"]

#: Landmarks are found on a copy whose long side is at most this (px).
LANDMARK_LONG_SIDE_PX = 1024
#: Adult interpupillary distance (mean about 63 mm; Dodgson 2004), for a rough scale of a face
#: without a chart: only used to tell whether a region is bigger than 1 cm².
EYE_DISTANCE_MM = 63.0
_RIGHT_PUPIL = (33, 133)  # eye corners; their midpoint is close to the pupil
_LEFT_PUPIL = (263, 362)


@dataclass(frozen=True)
class Face:
    """What was found about the face in one photo.

    Attributes
    ----------
    found : bool
        A face was detected and its landmarks located.
    reason : str or None
        Why not found, or why the landmarks are not used for regions.
    landmarks : FaceLandmarks or None
        In the pixels of the image passed to :func:`find_face`.
    pose : Pose or None
    view : str or None
        ``front``, ``left_oblique``, ``right_oblique``, ``left_profile`` or ``right_profile``.
    reliable : bool
        The landmarks can place regions (found, and |yaw| <= 60 degrees).
    regions : FaceRegions or None
        Present when ``reliable``.
    """

    found: bool
    reason: str | None
    landmarks: FaceLandmarks | None
    pose: Pose | None
    view: str | None
    reliable: bool
    regions: FaceRegions | None

    @property
    def landmark_count(self) -> int:
        return 0 if self.landmarks is None else int(self.landmarks.points.shape[0])

    def px_per_mm(self) -> float | None:
        """A rough scale from the eye distance, corrected for the turn of the head."""
        if self.landmarks is None or self.pose is None:
            return None
        p = self.landmarks.xy
        right = p[list(_RIGHT_PUPIL)].mean(axis=0)
        left = p[list(_LEFT_PUPIL)].mean(axis=0)
        turn = np.cos(np.radians(min(abs(self.pose.yaw_deg), 75.0)))
        return float(np.linalg.norm(left - right) / turn / EYE_DISTANCE_MM)

    def to_dict(self) -> dict[str, object]:
        return {
            "found": self.found,
            "landmark_count": self.landmark_count,
            "view": self.view,
            "pose_deg": self.pose.to_dict() if self.pose is not None else None,
            "landmarks_reliable": self.reliable,
            "reason": self.reason,
        }


def _not_found(reason: str) -> Face:
    return Face(False, reason, None, None, None, False, None)


def find_face(srgb: np.ndarray, *, with_regions: bool = True) -> Face:
    """Find the most confident face, its pose, view and anatomical regions.

    Parameters
    ----------
    srgb : np.ndarray
        (h, w, 3) float32 sRGB in [0, 1], any size.
    with_regions : bool, keyword-only
        Also build the region masks (on ``srgb``'s grid).

    Returns
    -------
    Face
        ``found=False`` with a reason when there is no face; ``reliable=False``
        (and no regions) when the head is turned beyond 60 degrees.
    """
    if not isinstance(srgb, np.ndarray) or srgb.ndim != 3 or srgb.shape[2] != 3:
        raise ValueError(f"srgb must be an (h, w, 3) array; got {getattr(srgb, 'shape', type(srgb))}")
    h, w = srgb.shape[:2]
    factor = min(1.0, LANDMARK_LONG_SIDE_PX / max(h, w))
    small = srgb if factor == 1.0 else cv2.resize(
        srgb, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA
    )
    small = np.ascontiguousarray(small, dtype=np.float32)
    boxes = detect_faces(small)
    if not boxes:
        return _not_found("no face found in the photo")
    marks = find_landmarks(small, boxes[0])
    if marks is None:
        return _not_found("a face was detected but its landmarks could not be placed")
    # Back to the caller's pixels (x, y and depth scale alike).
    sx, sy = w / small.shape[1], h / small.shape[0]
    points = marks.points * np.array([sx, sy, (sx + sy) / 2], np.float32)
    marks = FaceLandmarks(points=points, presence=marks.presence, detector_score=marks.detector_score)
    pose = head_pose(points)
    view = view_from_yaw(pose.yaw_deg)
    if abs(pose.yaw_deg) > LANDMARKS_MAX_YAW_DEG:
        reason = (
            f"the head is turned {abs(pose.yaw_deg):.0f} degrees: landmarks are unreliable beyond"
            f" {LANDMARKS_MAX_YAW_DEG:.0f}, so the drawn region is used"
        )
        return Face(True, reason, marks, pose, view, False, None)
    regions = face_regions(srgb, points[:, :2]) if with_regions else None
    return Face(True, None, marks, pose, view, True, regions)
