"""Face detection with MediaPipe's BlazeFace, run by OpenCV's TFLite reader.

The full-range model (192x192 input, faces up to about 5 m away) runs on the whole frame,
letterboxed to a square; the short-range model (128x128, close faces) runs on an overlapping
3x3 grid of tiles when the frame is large, so the small faces of a group shot are seen at a
size it knows. Boxes and six keypoints (eyes,
nose, mouth, ears) are decoded from the model's SSD anchors; overlapping detections from the
frame and the tiles are merged by weighted non-maximum suppression.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kilo.measure.faces.files import model_path

__all__ = ["Detection", "detect"]

F32 = NDArray[np.float32]
#: model -> (file, input size, SSD strides, two anchors per cell)
_MODELS = {
    "full": ("face_detection_full_range.tflite", 192, (4,), False),
    "short": ("face_detection_short_range.tflite", 128, (8, 16, 16, 16), True),
}
_RAW_LIMIT = 80.0
#: detections below this score are dropped (false faces on the test photos score <= 0.68)
MIN_SCORE = 0.75
_NMS_IOU = 0.3
#: frames with a long edge above this are also searched tile by tile
_TILE_ABOVE = 500
#: a frame whose brightest 1 % is below this is levelled up before detection
_LEVEL_BELOW = 200.0


@dataclass(frozen=True, slots=True)
class Detection:
    """A face in pixel coordinates: box (x0, y0, x1, y1), score, keypoints (6 x 2: the
    subject's right eye, left eye, nose tip, mouth, right ear, left ear)."""

    box: tuple[float, float, float, float]
    score: float
    keypoints: F32


def _anchors(size: int, strides: tuple[int, ...], pairs: bool) -> F32:
    """SSD anchor centres, in the order the model's outputs come: per run of layers with the
    same stride, every cell of its grid row by row, each repeated per anchor of the cell."""
    out: list[F32] = []
    i = 0
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        per_cell = (j - i) * (2 if pairs else 1)
        cells = -(-size // strides[i])
        grid = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        ys, xs = np.meshgrid(grid, grid, indexing="ij")
        centres = np.stack([xs.ravel(), ys.ravel()], axis=1)
        out.append(np.repeat(centres, per_cell, axis=0))
        i = j
    return np.concatenate(out).astype(np.float32)


@lru_cache(maxsize=2)
def _network(kind: str) -> tuple[Any, int, F32]:
    import cv2

    name, size, strides, pairs = _MODELS[kind]
    net = cv2.dnn.readNetFromTFLite(str(model_path(name)))
    return net, size, _anchors(size, strides, pairs)


def load_networks() -> None:
    """Read both detectors now (they are kept for the life of the process)."""
    for kind in _MODELS:
        _network(kind)


def _square(rgb: NDArray[np.uint8], x0: int, y0: int, side: int) -> NDArray[np.uint8]:
    """The ``side`` x ``side`` square of ``rgb`` at (x0, y0), padded with black past the edge."""
    out = np.zeros((side, side, 3), dtype=np.uint8)
    crop = rgb[y0 : y0 + side, x0 : x0 + side]
    out[: crop.shape[0], : crop.shape[1]] = crop
    return out


def _run(square: NDArray[np.uint8], kind: str) -> tuple[F32, F32, F32]:
    """(boxes x0 y0 x1 y1, scores, keypoints) in the square's unit coordinates."""
    import cv2

    net, size, anchors = _network(kind)
    img = cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA)
    blob = (img.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
    net.setInput(blob)
    raw_scores, raw = net.forward(net.getUnconnectedOutLayersNames())
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.reshape(-1), -_RAW_LIMIT, _RAW_LIMIT)))
    keep = scores >= MIN_SCORE
    reg = raw.reshape(-1, 16)[keep] / size
    a = anchors[keep]
    cx, cy = reg[:, 0] + a[:, 0], reg[:, 1] + a[:, 1]
    half_w, half_h = reg[:, 2] / 2, reg[:, 3] / 2
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    points = reg[:, 4:].reshape(-1, 6, 2) + a[:, None, :]
    return boxes.astype(np.float32), scores[keep].astype(np.float32), points.astype(np.float32)


def _tiles(width: int, height: int) -> list[tuple[str, int, int, int]]:
    """(model, x0, y0, side) of the squares searched: the whole frame (full range), and on
    large frames a grid of overlapping tiles (short range) each about half the long edge."""
    side = max(width, height)
    out = [("full", 0, 0, side)]
    if side > _TILE_ABOVE:
        tile = max(int(min(width, height) * 0.6), side // 2)
        xs = sorted({0, max(0, (width - tile) // 2), max(0, width - tile)})
        ys = sorted({0, max(0, (height - tile) // 2), max(0, height - tile)})
        out += [("short", x, y, tile) for y in ys for x in xs]
    return out


def _merge(boxes: F32, scores: F32, points: F32) -> list[Detection]:
    """Weighted non-maximum suppression: overlapping boxes are averaged by score."""
    order = np.argsort(-scores)
    boxes, scores, points = boxes[order], scores[order], points[order]
    area = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    used = np.zeros(len(scores), dtype=bool)
    out: list[Detection] = []
    for i in range(len(scores)):
        if used[i]:
            continue
        ix0 = np.maximum(boxes[i, 0], boxes[:, 0])
        iy0 = np.maximum(boxes[i, 1], boxes[:, 1])
        ix1 = np.minimum(boxes[i, 2], boxes[:, 2])
        iy1 = np.minimum(boxes[i, 3], boxes[:, 3])
        inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
        group = (inter / (area[i] + area - inter + 1e-9) > _NMS_IOU) & ~used
        used |= group
        w = scores[group][:, None]
        box = (boxes[group] * w).sum(axis=0) / w.sum()
        pts = (points[group] * w[:, :, None]).sum(axis=0) / w.sum()
        out.append(Detection(tuple(float(v) for v in box), float(scores[i]), pts))  # type: ignore[arg-type]
    return out


def _levelled(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """A dark frame brightened for the detector (its 99th percentile to white): the models
    were trained on well-exposed faces and miss a stop-under one."""
    sample = rgb[::8, ::8]
    top = float(np.percentile(sample, 99)) if sample.size else 255.0
    if top >= _LEVEL_BELOW or top <= 0:
        return rgb
    import cv2

    return np.asarray(cv2.convertScaleAbs(rgb, alpha=min(4.0, 255.0 / top)))


def detect(rgb: NDArray[np.uint8]) -> list[Detection]:
    """Faces in an ``HxWx3`` uint8 RGB array, in its pixel coordinates, best first."""
    rgb = _levelled(rgb)
    height, width = rgb.shape[:2]
    found_b, found_s, found_p = [], [], []
    for kind, x0, y0, side in _tiles(width, height):
        boxes, scores, points = _run(_square(rgb, x0, y0, side), kind)
        if len(scores):
            found_b.append(boxes * side + np.array([x0, y0, x0, y0], dtype=np.float32))
            found_s.append(scores)
            found_p.append(points * side + np.array([x0, y0], dtype=np.float32))
    if not found_s:
        return []
    merged = _merge(np.concatenate(found_b), np.concatenate(found_s), np.concatenate(found_p))
    inside = []
    for d in merged:  # a box whose centre is in the black padding is no face
        cx, cy = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
        if 0 <= cx < width and 0 <= cy < height:
            inside.append(d)
    return inside
