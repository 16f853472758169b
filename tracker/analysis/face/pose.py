"""Head pose from the 3-D landmarks, and the clinical view it makes.

Left and right are the person's own, as clinics name views (models/vocabulary.py):
a *left* oblique or profile shows the person's left cheek, so in an unmirrored
photo the nose points towards the image's left. Angles, in degrees:

- ``yaw`` > 0: the person's left side turned towards the camera (left views);
- ``pitch`` > 0: chin up;
- ``roll`` > 0: head tilted towards the person's left shoulder (image right).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FRONT_MAX_YAW_DEG", "LANDMARKS_MAX_YAW_DEG", "Pose", "head_pose", "view_from_yaw"]

#: |yaw| up to here is a front view; up to ``OBLIQUE_MAX_YAW_DEG`` an oblique; beyond, a profile.
FRONT_MAX_YAW_DEG = 22.5
OBLIQUE_MAX_YAW_DEG = 67.5
#: Beyond this |yaw| the far side of the face is hidden and the mesh guesses it.
LANDMARKS_MAX_YAW_DEG = 60.0

# Symmetric landmark pairs (the person's right, then left): outer and inner eye
# corners, cheekbones at the ear, mouth corners, temples, jaw.
_PAIRS = np.array([(33, 263), (133, 362), (234, 454), (61, 291), (127, 356), (93, 323), (58, 288)])
_TOP, _BOTTOM = 10, 152  # forehead centre and chin


@dataclass(frozen=True)
class Pose:
    """Head rotation in degrees (see the module's sign conventions)."""

    yaw_deg: float
    pitch_deg: float
    roll_deg: float

    def to_dict(self) -> dict[str, float]:
        return {"yaw": round(self.yaw_deg, 1), "pitch": round(self.pitch_deg, 1), "roll": round(self.roll_deg, 1)}


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def head_pose(points: np.ndarray) -> Pose:
    """The head's yaw, pitch and roll from the 468 mesh points (x, y, z in pixels).

    The face's own left-right axis is the mean direction of symmetric pairs, its
    up-down axis runs from the forehead to the chin (made perpendicular), and
    their cross product points into the head.

    Examples
    --------
    >>> pts = np.zeros((468, 3), np.float32)
    >>> for r, l in _PAIRS:
    ...     pts[r], pts[l] = (-1.0, 0.0, 0.0), (1.0, 0.0, 0.0)
    >>> pts[_TOP], pts[_BOTTOM] = (0.0, -1.0, 0.0), (0.0, 1.0, 0.0)
    >>> head_pose(pts).to_dict()
    {'yaw': 0.0, 'pitch': 0.0, 'roll': 0.0}
    """
    p = np.asarray(points, dtype=np.float64)
    if p.shape != (468, 3):
        raise ValueError(f"points must have shape (468, 3); got {p.shape}")
    x_axis = _unit(np.sum([_unit(p[left] - p[right]) for right, left in _PAIRS], axis=0))
    down = p[_BOTTOM] - p[_TOP]
    y_axis = _unit(down - np.dot(down, x_axis) * x_axis)
    forward = -np.cross(x_axis, y_axis)  # towards the camera (z grows away from it)
    yaw = np.degrees(np.arctan2(-forward[0], -forward[2]))
    pitch = np.degrees(np.arctan2(-forward[1], np.hypot(forward[0], forward[2])))
    roll = np.degrees(np.arctan2(x_axis[1], x_axis[0]))
    return Pose(float(yaw), float(pitch), float(roll))


def view_from_yaw(yaw_deg: float) -> str:
    """The clinical view a head turned by ``yaw_deg`` makes.

    >>> [view_from_yaw(a) for a in (0.0, 40.0, -40.0, 80.0, -80.0)]
    ['front', 'left_oblique', 'right_oblique', 'left_profile', 'right_profile']
    """
    turn = abs(yaw_deg)
    if turn <= FRONT_MAX_YAW_DEG:
        return "front"
    side = "left" if yaw_deg > 0 else "right"
    return f"{side}_oblique" if turn <= OBLIQUE_MAX_YAW_DEG else f"{side}_profile"
