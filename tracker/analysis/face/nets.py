"""The two vendored face networks, loaded once per thread.

The models (MediaPipe's BlazeFace short-range detector and the 468-point Face
Mesh, Apache-2.0, see ``models/NOTICE``) ship inside the package and run with
OpenCV's DNN module: nothing is downloaded at run time. A ``cv2.dnn.Net`` keeps
its buffers between calls and is not safe to share between threads, and the
pipeline measures a photo and its baseline in two threads, so each thread gets
its own copy (loading takes a few milliseconds).
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

__all__ = ["MODEL_DIR", "run_detector", "run_mesh"]

MODEL_DIR = Path(__file__).resolve().parent / "models"
_DETECTOR_FILE = "face_detection_short_range.tflite"
_MESH_FILE = "face_landmark.tflite"

_local = threading.local()


def _net(name: str) -> cv2.dnn.Net:
    nets: dict[str, cv2.dnn.Net] = getattr(_local, "nets", None) or {}
    if name not in nets:
        # ENGINE_CLASSIC: OpenCV 5's new engine does not yet run these TFLite graphs.
        nets[name] = cv2.dnn.readNetFromTFLite(str(MODEL_DIR / name), engine=cv2.dnn.ENGINE_CLASSIC)
        _local.nets = nets
    return nets[name]


def run_detector(rgb_128: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BlazeFace on a 128x128 RGB float32 image in [-1, 1].

    Returns the raw score logits (896,) and box regressors (896, 16).
    """
    net = _net(_DETECTOR_FILE)
    net.setInput(np.ascontiguousarray(rgb_128.transpose(2, 0, 1)[None], dtype=np.float32))
    scores, boxes = net.forward(["classificators", "regressors"])
    return np.asarray(scores, np.float32).reshape(-1), np.asarray(boxes, np.float32).reshape(-1, 16)


def run_mesh(rgb_192: np.ndarray) -> tuple[np.ndarray, float]:
    """Face Mesh on a 192x192 RGB float32 crop in [0, 1].

    Returns the 468 landmarks (468, 3) in crop pixels (x, y, relative depth z)
    and the face-presence logit.
    """
    net = _net(_MESH_FILE)
    net.setInput(np.ascontiguousarray(rgb_192.transpose(2, 0, 1)[None], dtype=np.float32))
    flag, points = net.forward(["conv2d_31", "conv2d_21"])
    return np.asarray(points, np.float32).reshape(468, 3), float(np.asarray(flag).reshape(-1)[0])
