"""Per face: MediaPipe's face mesh (468 points, and a face-presence score that turns away the
animal and pattern "faces" a detector finds) on a crop turned so the eyes are level, then its
iris model on each eye (71 points: the eyelids' contour) for how open the eye is.

Eye openness is the area of the eyelid contour over the squared eye width (about 0.2 for an
open eye, under 0.1 for a closed one: measured on the faces of the test photos, see the model
card); a face's is the mean of its visible eyes. An eye turned away (a profile: the nose near
the face's edge) is not judged, nor are the eyes of a face the mesh does not recognise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kilo.measure.faces.blazeface import Detection
from kilo.measure.faces.files import model_path

__all__ = ["EYE_CLOSED", "EYE_OPEN", "Landmarks", "measure_face"]

F32 = NDArray[np.float32]
_MESH = 192
_IRIS = 64
#: the eyes are judged only when the mesh's own face score is at least this: a face turned
#: far away or half hidden scores near 0 (it is still a face: the detector found it). The
#: score does not tell animals from people: a spaniel looking at the camera scores 0.97.
MIN_PRESENCE = 0.5
#: eyelid opening at or above this: open; at or below EYE_CLOSED: closed; between: can't tell
EYE_OPEN = 0.15
EYE_CLOSED = 0.11
#: mesh points: the subject's right eye corners, left eye corners, nose tip, face edges
_RIGHT_EYE, _LEFT_EYE = (33, 133), (362, 263)
_NOSE, _EDGE_R, _EDGE_L = 1, 234, 454
#: a profile: the nose this close (as a share of the face width) to one edge of the face
_PROFILE = 0.22


@dataclass(frozen=True, slots=True)
class Landmarks:
    presence: float
    #: how open each eye is (subject's right, left); None where the eye is turned away
    openness: tuple[float | None, float | None]
    #: each eye's box (x, y, w, h) in the frame's pixels, None where not judged
    eye_boxes: tuple[tuple[int, int, int, int] | None, tuple[int, int, int, int] | None]
    #: -1 (turned to its right) .. 1 (turned to its left); 0 facing the camera
    yaw: float


@lru_cache(maxsize=1)
def _networks() -> tuple[Any, Any]:
    import cv2

    mesh = cv2.dnn.readNetFromTFLite(str(model_path("face_landmark.tflite")))
    iris = cv2.dnn.readNetFromTFLite(str(model_path("iris_landmark.tflite")))
    return mesh, iris


def load_networks() -> None:
    """Read the face mesh and iris models now (kept for the life of the process)."""
    _networks()


def _forward(net: Any, img: NDArray[np.uint8]) -> list[Any]:
    net.setInput((img.astype(np.float32) / 255.0).transpose(2, 0, 1)[None])
    return list(net.forward(net.getUnconnectedOutLayersNames()))


def _face_crop(rgb: NDArray[np.uint8], det: Detection) -> tuple[NDArray[np.uint8], F32]:
    """The face turned eyes-level in a 192 px square (1.5x the box) and the 2x3 matrix that
    maps frame pixels to it."""
    import cv2

    x0, y0, x1, y1 = det.box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    side = 1.5 * max(x1 - x0, y1 - y0, 1.0)
    right, left = det.keypoints[0], det.keypoints[1]
    angle = math.degrees(math.atan2(float(left[1] - right[1]), float(left[0] - right[0])))
    m = cv2.getRotationMatrix2D((float(cx), float(cy)), angle, _MESH / side)
    m[0, 2] += _MESH / 2 - cx
    m[1, 2] += _MESH / 2 - cy
    crop = cv2.warpAffine(rgb, m, (_MESH, _MESH), flags=cv2.INTER_LINEAR)
    return np.asarray(crop), m.astype(np.float32)


def _eye(
    face: NDArray[np.uint8], pts: F32, corners: tuple[int, int], flip: bool
) -> tuple[float, F32]:
    """(openness, the eye's 64 px crop corners in face-crop pixels) from the iris model."""
    import cv2

    _, iris = _networks()
    c0, c1 = pts[corners[0], :2], pts[corners[1], :2]
    centre = (c0 + c1) / 2
    width = float(np.linalg.norm(c1 - c0)) * 2.3
    scale = _IRIS / max(width, 1e-3)
    m = np.array(
        [[scale, 0, _IRIS / 2 - scale * centre[0]], [0, scale, _IRIS / 2 - scale * centre[1]]],
        dtype=np.float32,
    )
    eye = cv2.warpAffine(
        face, m, (_IRIS, _IRIS), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    if flip:  # the model knows one eye; the other is its mirror image
        eye = np.ascontiguousarray(eye[:, ::-1])
    contour = _forward(iris, np.asarray(eye))[0].reshape(71, 3)[:15, :2]
    lower, upper = contour[0:9], contour[9:15]
    poly = np.concatenate([lower, upper[::-1]])
    x, y = poly[:, 0], poly[:, 1]
    area = 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))
    span = float(np.linalg.norm(lower[8] - lower[0]))
    half = width / 2
    box = np.array([[centre[0] - half, centre[1] - half], [centre[0] + half, centre[1] + half]])
    return area / max(span * span, 1e-6), box.astype(np.float32)


def _to_frame(m: F32, pts: F32) -> F32:
    """Face-crop pixels back to frame pixels."""
    full = np.vstack([m, [0.0, 0.0, 1.0]])
    inv = np.linalg.inv(full)[:2]
    return np.asarray(pts @ inv[:, :2].T + inv[:, 2], dtype=np.float32)


def measure_face(rgb: NDArray[np.uint8], det: Detection) -> Landmarks:
    """The face's presence score, eye openness, eye boxes and yaw."""
    mesh, _ = _networks()
    face, m = _face_crop(rgb, det)
    flag, raw = _forward(mesh, face)
    presence = float(1.0 / (1.0 + math.exp(-float(np.asarray(flag).reshape(-1)[-1]))))
    pts = np.asarray(raw, dtype=np.float32).reshape(468, 3)
    nose, edge_r, edge_l = pts[_NOSE, 0], pts[_EDGE_R, 0], pts[_EDGE_L, 0]
    span = max(float(edge_l - edge_r), 1e-3)
    share = float(np.clip((nose - edge_r) / span, 0.0, 1.0))  # 0.5 facing the camera
    yaw = 2.0 * share - 1.0
    opens: list[float | None] = []
    boxes: list[tuple[int, int, int, int] | None] = []
    for corners, flip, hidden in (
        (_RIGHT_EYE, False, share < _PROFILE),
        (_LEFT_EYE, True, share > 1 - _PROFILE),
    ):
        if hidden or presence < MIN_PRESENCE:
            opens.append(None)
            boxes.append(None)
            continue
        value, corner_box = _eye(face, pts, corners, flip)
        (ax, ay), (bx, by) = _to_frame(m, corner_box)
        lo_x, lo_y, hi_x, hi_y = min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)
        opens.append(round(value, 4))
        boxes.append(
            (round(lo_x), round(lo_y), max(1, round(hi_x - lo_x)), max(1, round(hi_y - lo_y)))
        )
    return Landmarks(presence, (opens[0], opens[1]), (boxes[0], boxes[1]), yaw)
