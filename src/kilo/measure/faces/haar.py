"""Faces by OpenCV's Haar cascades: what :func:`kilo.measure.faces.find_faces` falls back to without
the face models (frontal faces only; eyes judged by "two eyes found" in the face's upper
part)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from kilo.errors import ModelUnavailable
from kilo.imaging.resize import shrink_array

__all__ = ["DETECT_PX", "FaceBox", "detect_faces_haar"]


@dataclass(frozen=True, slots=True)
class FaceBox:
    """A face found in pixel coordinates of the image given to :func:`detect_faces_haar`."""

    x: int
    y: int
    w: int
    h: int
    #: True when two open eyes were found, False when the face was big enough to judge and
    #: fewer were found, None when too small to tell
    eyes_open: bool | None = None


@lru_cache(maxsize=1)
def _cascades() -> tuple[Any, Any]:
    import cv2

    base = cv2.data.haarcascades  # type: ignore[attr-defined,unused-ignore]
    face = cv2.CascadeClassifier(base + "haarcascade_frontalface_default.xml")
    eye = cv2.CascadeClassifier(base + "haarcascade_eye.xml")
    if face.empty() or eye.empty():  # pragma: no cover - broken OpenCV install
        raise ModelUnavailable("OpenCV Haar cascades are missing from cv2.data")
    return face, eye


DETECT_PX = 640
_EYE_ROI_PX = 200


def _eyes_open(gray_face: np.ndarray) -> bool | None:
    """Two eyes found in the upper part of a face crop: True; none: False; one: unsure."""
    import cv2

    _, eye_cc = _cascades()
    if min(gray_face.shape) < 40:
        return None
    roi = cv2.resize(gray_face, (_EYE_ROI_PX, _EYE_ROI_PX), interpolation=cv2.INTER_AREA)
    upper = cv2.equalizeHist(roi[: _EYE_ROI_PX * 3 // 5])
    eyes = eye_cc.detectMultiScale(upper, 1.05, 2, minSize=(20, 20), maxSize=(80, 80))
    if len(eyes) >= 2:
        return True
    return False if len(eyes) == 0 else None


def detect_faces_haar(rgb: np.ndarray, *, max_px: int = DETECT_PX) -> list[FaceBox]:
    """Frontal faces in an ``HxWx3`` uint8 RGB array by OpenCV's Haar cascades.

    Detection runs on a copy scaled to ``max_px`` on its long edge (Haar frontal-face cascade);
    eyes are looked for in the full-resolution face crop (Haar eye cascade).
    """
    import cv2

    face_cc, _ = _cascades()
    small = shrink_array(rgb, max_px)
    scale = rgb.shape[1] / small.shape[1]
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    min_side = max(20, int(min(gray.shape) * 0.03))
    found = face_cc.detectMultiScale(gray, 1.2, 6, minSize=(min_side, min_side))
    full_gray: np.ndarray | None = None
    out: list[FaceBox] = []
    for x, y, w, h in found if len(found) else []:
        bx, by, bw, bh = (round(float(v) * scale) for v in (x, y, w, h))
        if full_gray is None:
            full_gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        out.append(FaceBox(bx, by, bw, bh, _eyes_open(full_gray[by : by + bh, bx : bx + bw])))
    return out
