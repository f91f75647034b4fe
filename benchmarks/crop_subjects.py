"""Do the 4:5 and 9:16 crops keep the subject? Over the real photos whose subject was marked by
hand (benchmarks/data/subjects.csv, how: benchmarks/data/subjects.md), the share of subjects
kept by kilo's crop (faces, else OpenCV saliency with focus and centre priors: kilo.export.crop)
against two peers from the same run:

* centre: the plain centre crop (what a crop without subject detection does);
* saliency-only: OpenCV's spectral-residual saliency as it is used on its own (grey image,
  the window of the target aspect holding the most saliency), no faces, no priors.

A subject is kept when the crop holds at least 80% of its box, or, when the box cannot fit the
crop, when the crop is centred on it (within 10% of the crop's width or height):
``kilo.export.crop.keeps_subject``. There is no 1:1 preset, so two aspects per photo.

What it does not show: 41 photos (with copies of a few: screenshots, re-encodes, DNGs, which
count like the others) marked by one person; no photo of a crowd, of text, of several
subjects far apart. Run: .venv/bin/python benchmarks/crop_subjects.py
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from kilo.export.crop import find_subject, keeps_subject, plan_crop
from kilo.export.saliency import saliency_available
from kilo.imaging import decode_image
from kilo.measure.faces import face_source

PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "photos"
MARKS = Path(__file__).resolve().parent / "data" / "subjects.csv"
#: the long edge photos are decoded at (an export decodes about this for these presets)
DECODE_PX = 2048
ASPECTS = {"4:5": 4 / 5, "9:16": 9 / 16}

Box = tuple[float, float, float, float]


def read_marks(path: Path = MARKS) -> list[tuple[str, Box, str]]:
    """(file, normalised subject box, what) for each marked photo."""
    with path.open(newline="") as fh:
        return [
            (
                row["file"],
                (float(row["x0"]), float(row["y0"]), float(row["x1"]), float(row["y1"])),
                row["subject"],
            )
            for row in csv.DictReader(fh)
        ]


def saliency_only_crop(img: Image.Image, aspect: float) -> tuple[int, int, int, int]:
    """The ``aspect`` window holding the most of OpenCV's spectral-residual saliency."""
    rgb = np.asarray(img.convert("RGB"))
    detector = cv2.saliency.StaticSaliencySpectralResidual_create()
    _, sal = detector.computeSaliency(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    width, height = img.size
    centre = plan_crop(img.size, aspect, None)
    cw, ch = centre[2] - centre[0], centre[3] - centre[1]
    across = cw < width
    profile = sal.sum(axis=0 if across else 1).astype(np.float64)
    span = cw if across else ch
    sums = np.concatenate([[0.0], np.cumsum(profile)])
    start = int(np.argmax(sums[span:] - sums[:-span]))
    return (start, 0, start + cw, height) if across else (0, start, width, start + ch)


def main() -> int:
    if not PHOTOS.is_dir():
        print(f"crop_subjects: needs ../shared/photos ({PHOTOS})", file=sys.stderr)
        return 2
    if not saliency_available():
        print("crop_subjects: needs OpenCV's saliency module (opencv-contrib)", file=sys.stderr)
        return 2
    marks = read_marks()
    kept: dict[str, dict[str, int]] = {a: {"kilo": 0, "centre": 0, "saliency": 0} for a in ASPECTS}
    sources: dict[str, int] = {}
    misses: list[str] = []
    for name, (x0, y0, x1, y1), _ in marks:
        img = decode_image((PHOTOS / name).read_bytes(), name=name, max_px=DECODE_PX).image
        width, height = img.size
        box = (x0 * width, y0 * height, x1 * width, y1 * height)
        subject = find_subject(img)
        sources[subject.source] = sources.get(subject.source, 0) + 1
        for label, aspect in ASPECTS.items():
            crops = {
                "kilo": plan_crop(img.size, aspect, subject),
                "centre": plan_crop(img.size, aspect, None),
                "saliency": saliency_only_crop(img, aspect),
            }
            for method, crop in crops.items():
                kept[label][method] += keeps_subject(crop, box)
            if not keeps_subject(crops["kilo"], box):
                misses.append(f"{name} {label}")
    n = len(marks)
    print(
        f"crop_subjects: {n} marked photos x {len(ASPECTS)} aspects, OpenCV {cv2.__version__}, "
        f"faces by {face_source()}; kilo framed on "
        + ", ".join(f"{k} {v}" for k, v in sorted(sources.items()))
    )
    total = {m: sum(kept[a][m] for a in ASPECTS) for m in ("kilo", "centre", "saliency")}
    for label, counts in [*kept.items(), ("all", total)]:
        of = n if label != "all" else n * len(ASPECTS)
        print(
            f"subjects kept {label:>4}: kilo {counts['kilo']}/{of} ({counts['kilo'] / of:.0%})"
            f"  centre crop {counts['centre']}/{of} ({counts['centre'] / of:.0%})"
            f"  saliency-only {counts['saliency']}/{of} ({counts['saliency'] / of:.0%})"
        )
    print("kilo misses: " + (", ".join(misses) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
