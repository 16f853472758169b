"""Find faces: BlazeFace (short range) boxes and six key points, in image pixels.

The detector sees the whole photo letterboxed to 128x128, so it finds faces
that fill a fair part of the frame (a clinic's head-and-shoulders or closer
framing). When nothing is found there, it looks again in the central part of
the frame at two tighter crops, for a face that is small in a wide shot.

Anchors and box decoding follow MediaPipe's ``face_detection_short_range``
graph: 4 layers with strides 8, 16, 16, 16, two unit anchors per cell, offsets
scaled by 128, sigmoid scores, weighted non-maximum suppression.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from tracker.analysis.face import nets

__all__ = ["FaceBox", "detect_faces"]

_SIZE = 128
_MIN_SCORE = 0.5
_NMS_IOU = 0.3
#: Central crops (share of the short side) tried when the whole frame finds nothing.
_RETRY_CROPS = (0.6, 0.4)


@dataclass(frozen=True)
class FaceBox:
    """One detected face in image pixels.

    Attributes
    ----------
    score : float
        Detector confidence in [0, 1].
    box : tuple of 4 floats
        ``(x0, y0, x1, y1)``, the tight box from brows to mouth, in pixels.
    keypoints : np.ndarray
        (6, 2) pixels: the face's right eye, left eye, nose tip, mouth centre,
        right ear tragion, left ear tragion ("right" is the person's right,
        which is on the image's left in an unmirrored photo).
    """

    score: float
    box: tuple[float, float, float, float]
    keypoints: np.ndarray

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]


@lru_cache(maxsize=1)
def _anchors() -> np.ndarray:
    """(896, 2) anchor centres in [0, 1] (all anchors are 1x1: fixed anchor size)."""
    centres = []
    for stride, per_cell in ((8, 2), (16, 6)):
        grid = _SIZE // stride
        ys, xs = np.mgrid[0:grid, 0:grid]
        cell = np.stack([(xs + 0.5) / grid, (ys + 0.5) / grid], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(cell, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def _letterbox(srgb: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """The image fitted into 128x128 with padding; returns (image, scale, pad_x, pad_y)."""
    h, w = srgb.shape[:2]
    scale = _SIZE / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(srgb, (nw, nh), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((_SIZE, _SIZE, 3), np.float32)
    px, py = (_SIZE - nw) // 2, (_SIZE - nh) // 2
    canvas[py : py + nh, px : px + nw] = small
    return canvas, scale, float(px), float(py)


def _decode(scores: np.ndarray, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores (n,), boxes (n, 4: x0 y0 x1 y1) and keypoints (n, 6, 2) in 128-px units."""
    anchors = _anchors() * _SIZE
    prob = 1.0 / (1.0 + np.exp(-np.clip(scores.astype(np.float64), -100.0, 100.0)))
    cx, cy = raw[:, 0] + anchors[:, 0], raw[:, 1] + anchors[:, 1]
    w, h = raw[:, 2], raw[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    kps = raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]
    return prob, boxes, kps


def _iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], others[:, 0])
    y0 = np.maximum(box[1], others[:, 1])
    x1 = np.minimum(box[2], others[:, 2])
    y1 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def _weighted_nms(prob: np.ndarray, boxes: np.ndarray, kps: np.ndarray) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """MediaPipe's weighted NMS: overlapping detections are averaged by score."""
    order = np.argsort(-prob)
    order = order[prob[order] >= _MIN_SCORE]
    out = []
    while order.size:
        best = order[0]
        overlap = _iou(boxes[best], boxes[order]) > _NMS_IOU
        group = order[overlap]
        weights = prob[group] / prob[group].sum()
        out.append(
            (
                float(prob[best]),
                (boxes[group] * weights[:, None]).sum(axis=0),
                (kps[group] * weights[:, None, None]).sum(axis=0),
            )
        )
        order = order[~overlap]
    return out


def _detect_once(srgb: np.ndarray, offset: tuple[float, float]) -> list[FaceBox]:
    canvas, scale, px, py = _letterbox(srgb)
    prob, boxes, kps = _decode(*nets.run_detector(canvas * 2.0 - 1.0))
    faces = []
    for score, box, points in _weighted_nms(prob, boxes, kps):
        box_px = (box.reshape(2, 2) - (px, py)) / scale + offset
        pts = (points - (px, py)) / scale + offset
        faces.append(FaceBox(score, tuple(float(v) for v in box_px.ravel()), pts.astype(np.float32)))  # type: ignore[arg-type]
    return faces


def detect_faces(srgb: np.ndarray) -> list[FaceBox]:
    """Faces in an RGB image, most confident first.

    Parameters
    ----------
    srgb : np.ndarray
        (h, w, 3) float32 sRGB in [0, 1], any size (it is reduced to 128 px).

    Returns
    -------
    list of FaceBox
        Empty when no face scores at least 0.5.
    """
    if srgb.ndim != 3 or srgb.shape[2] != 3:
        raise ValueError(f"srgb must have shape (h, w, 3); got {srgb.shape}")
    srgb = np.ascontiguousarray(srgb, dtype=np.float32)
    faces = _detect_once(srgb, (0.0, 0.0))
    h, w = srgb.shape[:2]
    for share in _RETRY_CROPS:
        if faces:
            break
        side = share * min(h, w)
        x0, y0 = round((w - side) / 2), round((h - side) / 2)
        crop = srgb[y0 : y0 + round(side), x0 : x0 + round(side)]
        faces = _detect_once(crop, (float(x0), float(y0)))
    return sorted(faces, key=lambda f: -f.score)
