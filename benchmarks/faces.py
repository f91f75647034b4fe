"""Faces and eyes on the real test photos: kilo's MediaPipe pipeline against the Haar cascades
it replaces, in the same run.

* False faces: faces found on the photos with no person in them (every JPEG/PNG of
  ../shared/photos but the two with people; the two spaniels of
  friends_by_Aitzol_Berasategi.jpg count as false faces: they are not people).
* Faces found on the two photos with people, against boxes labelled by hand (6 in
  group_t1.jpg, 2 in people_zidane.jpg), matched by the box centre falling in the label.
* Eye state against labels made by looking at the crops (8 faces: 3 open, 2 closed, 2
  looking down with lowered lids, which count as agreeing when kilo says closed or can't
  tell, 1 profile whose eyes cannot be judged).
* The same faces after changes a real frame has (half and three-quarter size, JPEG quality
  30, a 1.5 px blur, 8 degrees of tilt, one stop under): found and eye state kept.
* Time per 2048 px preview on one core (OpenCV limited to one thread).

What it does not show: 8 labelled faces are far too few to estimate an error rate; there is
no blink in a group shot of many small faces here, no child, no sunglasses, no dark skin
under hard light. Run: .venv/bin/python benchmarks/faces.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageFilter

from kilo.measure.faces import Face, face_source, find_faces, haar_faces

PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "photos"
PREVIEW = 2048
#: file -> (box x0, y0, x1, y1 in the file's own pixels, eye label)
LABELS: dict[str, list[tuple[tuple[int, int, int, int], str]]] = {
    "group_t1.jpg": [
        ((899, 76, 1026, 203), "open"),  # profile to the left; one eye visible, open
        ((462, 292, 576, 406), "open"),
        ((67, 293, 166, 392), "down"),  # looking down, lids lowered
        ((742, 360, 857, 475), "closed"),  # laughing, eyes squeezed shut
        ((272, 169, 371, 268), "open"),
        ((1118, 278, 1240, 400), "down"),  # looking down, lids nearly shut
    ],
    "people_zidane.jpg": [
        ((905, 126, 1057, 278), "open"),
        ((519, 296, 658, 434), "profile"),  # turned away, shouting: eyes cannot be judged
    ],
}
AGREES = {
    "open": {"open"},
    "closed": {"closed"},
    "down": {"closed", "unknown"},
    "profile": {"unknown"},
}


def load(path: Path, long_edge: int | None = PREVIEW) -> Image.Image:
    im = Image.open(path)
    im.draft("RGB", (PREVIEW, PREVIEW))
    im = im.convert("RGB")
    if long_edge is not None:
        im.thumbnail((long_edge, long_edge), Image.Resampling.LANCZOS)
    return im


def match(
    faces: list[Face],
    labels: list[tuple[tuple[int, int, int, int], str]],
    scale: float,
    transform: Callable[[float, float], tuple[float, float]] | None = None,
) -> tuple[int, int, int]:
    """(labelled faces found, their eye states agreeing, faces matching no label)."""
    found = agree = 0
    used: set[int] = set()
    for (x0, y0, x1, y1), label in labels:
        for i, f in enumerate(faces):
            cx, cy = (f.x + f.w / 2) / scale, (f.y + f.h / 2) / scale
            if transform is not None:
                cx, cy = transform(cx, cy)
            if i not in used and x0 <= cx <= x1 and y0 <= cy <= y1:
                used.add(i)
                found += 1
                agree += f.eyes in AGREES[label]
                break
    return found, agree, len(faces) - len(used)


def changes(im: Image.Image) -> list[tuple[str, Image.Image, float, float]]:
    """(name, changed image, scale to the original, tilt in degrees)."""
    w, h = im.size
    out = [("as is", im, 1.0, 0.0)]
    for s in (0.75, 0.5):
        out.append(
            (
                f"{s:.0%} size",
                im.resize((round(w * s), round(h * s)), Image.Resampling.LANCZOS),
                s,
                0.0,
            )
        )
    buf_path = Path("/tmp/kilo-faces-q30.jpg")
    im.save(buf_path, quality=30)
    out.append(("JPEG q30", Image.open(buf_path).convert("RGB"), 1.0, 0.0))
    out.append(("blur 1.5 px", im.filter(ImageFilter.GaussianBlur(1.5)), 1.0, 0.0))
    out.append(("tilt 8 deg", im.rotate(8, resample=Image.Resampling.BICUBIC), 1.0, 8.0))
    dark = np.clip(np.asarray(im, dtype=np.float32) * 0.5, 0, 255).astype(np.uint8)
    out.append(("1 stop under", Image.fromarray(dark), 1.0, 0.0))
    return out


def untilt(w: int, h: int, deg: float) -> Callable[[float, float], tuple[float, float]]:
    """Maps a point of the image rotated by ``deg`` (PIL: counter-clockwise, same size) back."""
    a = np.radians(deg)
    cx, cy = w / 2, h / 2

    def back(x: float, y: float) -> tuple[float, float]:
        dx, dy = x - cx, y - cy
        return (cx + dx * np.cos(a) - dy * np.sin(a), cy + dx * np.sin(a) + dy * np.cos(a))

    return back


def main() -> int:
    cv2.setNumThreads(1)
    print(f"detector: {face_source()} (the Haar cascades beside it)")
    people = set(LABELS)
    files = sorted(p for p in PHOTOS.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    for name, fn in (("kilo", find_faces), ("haar", haar_faces)):
        false_faces, false_files, times = 0, [], []
        for p in files:
            rgb = np.asarray(load(p))
            t0 = time.perf_counter()
            faces = fn(rgb)
            times.append(time.perf_counter() - t0)
            if p.name not in people and faces:
                false_faces += len(faces)
                false_files.append(f"{p.name} ({len(faces)})")
        found = agree = extra = total = 0
        for file, labels in LABELS.items():
            im = load(PHOTOS / file, None)
            f, a, e = match(fn(np.asarray(im)), labels, 1.0)
            found, agree, extra, total = found + f, agree + a, extra + e, total + len(labels)
        print(
            f"{name}: false faces on {len(files) - len(people)} photos without people: "
            f"{false_faces} {false_files}"
        )
        print(
            f"{name}: labelled faces found {found}/{total}, eye state agreeing {agree}/{total}, "
            f"unlabelled boxes on the people photos {extra}"
        )
        print(
            f"{name}: ms per {PREVIEW} px preview, one core: median "
            f"{np.median(times) * 1000:.0f}, max {max(times) * 1000:.0f}"
        )
        rows = []
        for file, labels in LABELS.items():
            base = load(PHOTOS / file, None)
            for what, im, scale, tilt in changes(base):
                back = untilt(*base.size, tilt) if tilt else None
                f, a, e = match(fn(np.asarray(im)), labels, scale, back)
                rows.append((what, f, a, e, len(labels)))
        by: dict[str, list[int]] = {}
        for what, f, a, e, n in rows:
            acc = by.setdefault(what, [0, 0, 0, 0])
            for i, v in enumerate((f, a, e, n)):
                acc[i] += v
        print(
            f"{name}: under changes (found / eye state kept / extra, of 8): "
            + "; ".join(f"{w} {f}/{a}/{e}" for w, (f, a, e, _n) in by.items())
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
