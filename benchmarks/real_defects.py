"""A seeded shoot whose bursts carry the defects real bursts have, built from ../shared/photos.

What ``synth.py`` does not do, and this does: the defects are local or structural, not the
global operations kilo's signals measure. Per burst of 3 to 8 frames (0.1 to 1.5 s apart),
every frame but the keeper gets one to three of these, each at a graded severity (1 mild, 2
clear, 3 strong):

``subject_motion``  the subject moved: motion blur inside the subject region only, the
                    background stays sharp;
``focus_miss``      focus landed behind or in front: the subject region defocused, a band
                    elsewhere in the frame kept sharp;
``soft``            slight overall softness (a small global blur);
``walk_in``         someone or something walks in from an edge: a region cut from another
                    photo, motion-blurred, pasted over 10 - 30 % of the frame;
``cut``             the subject cut by the framing: the crop moved so part of it leaves;
``jpeg``            heavy compression artefacts (quality 6 - 20);
``exposure``        a small exposure miss (0.2 - 0.5 EV);
``noise``           mild sensor-like noise (luminance-dependent).

The subject region is independent of kilo: the hand-labelled face boxes of the two photos
with people, and elsewhere an ellipse placed at random in the central part of the frame
(15 - 30 % of the short side). Bursts of one moment are 5 s to 3 min apart, moments 8 to 40
minutes; two camera bodies alternate by moment; some keepers get copies (re-encoded,
half-size, lightly edited), some keeping their capture time, some without.

Importable: ``make_real_shoot(seed, out_dir) -> Shoot`` (``synth.Shoot``; ``Frame.degraded``
lists the defects as ``name:severity`` joined by ``+``).
"""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageFilter

from synth import PHOTOS, Frame, Shoot, _camera_frame, _exposure, _load, next_burst, start_shoot

DEFECTS = ("subject_motion", "focus_miss", "soft", "walk_in", "cut", "jpeg", "exposure", "noise")
#: hand-labelled faces (x0, y0, x1, y1 in the file's pixels): the subject of these photos
FACE_SUBJECTS = {
    "group_t1.jpg": (67, 76, 1240, 475),
    "people_zidane.jpg": (519, 126, 1057, 434),
}
Box = tuple[int, int, int, int]


def _subject(src: Path, size: tuple[int, int], full: tuple[int, int], rng: random.Random) -> Box:
    """The subject's box in a frame of ``size`` made from the whole source of ``full`` px."""
    w, h = size
    if src.name in FACE_SUBJECTS:
        x0, y0, x1, y1 = FACE_SUBJECTS[src.name]
        sx, sy = w / full[0], h / full[1]
        return round(x0 * sx), round(y0 * sy), round(x1 * sx), round(y1 * sy)
    r = int(min(w, h) * rng.uniform(0.15, 0.3))
    cx = int(w * rng.uniform(0.3, 0.7))
    cy = int(h * rng.uniform(0.3, 0.7))
    return max(0, cx - r), max(0, cy - r), min(w, cx + r), min(h, cy + r)


def _mask(size: tuple[int, int], box: Box, feather: float) -> np.ndarray:
    """A soft elliptical mask (0..1, HxWx1) filling ``box``."""
    w, h = size
    m = np.zeros((h, w), np.float32)
    x0, y0, x1, y1 = box
    cv2.ellipse(
        m,
        ((x0 + x1) // 2, (y0 + y1) // 2),
        (max(1, (x1 - x0) // 2), max(1, (y1 - y0) // 2)),
        0,
        0,
        360,
        1.0,
        -1,
    )
    k = max(3, int(feather) | 1)
    return cv2.GaussianBlur(m, (k, k), 0)[:, :, None]


def _blend(sharp: np.ndarray, changed: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return (sharp * (1 - mask) + changed * mask).astype(np.uint8)


def _motion_kernel(length: int, angle: float) -> np.ndarray:
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    k = cv2.warpAffine(k, rot, (length, length))
    return k / max(float(k.sum()), 1e-6)


def _apply(
    kind: str,
    sev: int,
    im: Image.Image,
    subject: Box,
    other: Image.Image,
    rng: random.Random,
    nrng: np.random.Generator,
) -> Image.Image:
    arr = np.asarray(im).astype(np.float32)
    size = im.size
    short = min(size)
    if kind == "subject_motion":
        length = [0, 5, 9, 15][sev] * short // 700 + 3
        moved = cv2.filter2D(arr, -1, _motion_kernel(length, rng.uniform(0, 180)))
        return Image.fromarray(_blend(arr, moved, _mask(size, subject, short * 0.05)))
    if kind == "focus_miss":
        sigma = [0, 1.2, 2.2, 3.5][sev] * short / 700
        soft = cv2.GaussianBlur(arr, (0, 0), sigma)
        keep = _mask(size, subject, short * 0.08)
        # a band elsewhere stays sharp: where the focus went
        band = np.zeros_like(keep)
        y = int(size[1] * rng.uniform(0.1, 0.9))
        band[max(0, y - short // 10) : y + short // 10] = 1.0
        band = cv2.GaussianBlur(band, (0, 0), short * 0.03)[:, :, None] * (1 - keep)
        whole = np.clip(1.0 - band, 0, 1)  # everything but the band is soft, subject included
        return Image.fromarray(_blend(arr, soft, whole))
    if kind == "soft":
        return im.filter(ImageFilter.GaussianBlur([0, 0.5, 0.8, 1.2][sev] * short / 700))
    if kind == "walk_in":
        # something close to the lens crosses in from an edge: out of focus, moving, darker
        w, h = size
        share = [0, 0.12, 0.2, 0.32][sev]
        near = np.asarray(other.resize(size).convert("RGB")).astype(np.float32) * 0.6
        near = cv2.GaussianBlur(near, (0, 0), short / 180)
        near = cv2.filter2D(near, -1, _motion_kernel(9 * short // 700 + 3, rng.uniform(-20, 20)))
        m = np.zeros((h, w), np.float32)
        cx = 0 if rng.random() < 0.5 else w
        cv2.ellipse(
            m,
            (cx, int(h * rng.uniform(0.35, 0.65))),
            (int(w * share * 1.25), int(h * 0.7)),
            0,
            0,
            360,
            1.0,
            -1,
        )
        m = cv2.GaussianBlur(m, (0, 0), short * 0.02)[:, :, None]
        return Image.fromarray(_blend(arr, near, m))
    if kind == "jpeg":
        from io import BytesIO

        buf = BytesIO()
        im.save(buf, "JPEG", quality=[0, 20, 12, 6][sev])
        return Image.open(BytesIO(buf.getvalue())).convert("RGB")
    if kind == "exposure":
        return _exposure(im, rng.choice([-1, 1]) * [0, 0.2, 0.35, 0.5][sev])
    # noise: luminance-dependent (shot noise) plus a little read noise
    sigma = [0, 2.5, 4.0, 6.0][sev]
    noisy = arr + nrng.normal(0, 1, arr.shape) * (sigma * np.sqrt(arr / 128.0 + 0.2))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def _cut_frame(
    base: Image.Image, subject: Box, sev: int, rng: random.Random, long_edge: int
) -> Image.Image:
    """A reframing that cuts the subject (given in ``base``'s pixels) at the nearer side edge:
    a tighter crop of the full-resolution base, so no edge is invented and nothing upscaled."""
    w, h = base.size
    crop = rng.uniform(0.62, 0.72)
    cw, ch = int(w * crop), int(h * crop)
    x0, y0, x1, y1 = subject
    cut = (x1 - x0) * [0, 0.2, 0.35, 0.5][sev]
    # nearer the left edge: the crop's left edge runs through the subject (else the right's)
    left = x0 + cut if x0 < w - x1 else x1 - cut - cw
    left = min(max(0.0, left), w - cw)
    top = min(max(0.0, (y0 + y1) / 2 - ch / 2), h - ch)
    im = base.crop((int(left), int(top), int(left) + cw, int(top) + ch))
    im.thumbnail((long_edge, long_edge), Image.Resampling.LANCZOS)
    return im


def _in_frame(box: Box, base: tuple[int, int], frame: tuple[int, int]) -> Box:
    """A box in the base's pixels where it lands in a normal frame (a ~89 % centred crop)."""
    bw, bh = base
    fw, fh = frame
    crop = 0.89

    def tx(x: float) -> int:
        return round((x - bw * (1 - crop) / 2) / (bw * crop) * fw)

    def ty(y: float) -> int:
        return round((y - bh * (1 - crop) / 2) / (bh * crop) * fh)

    x0, y0, x1, y1 = box
    return max(0, tx(x0)), max(0, ty(y0)), min(fw, tx(x1)), min(fh, ty(y1))


def _defects(rng: random.Random) -> list[tuple[str, int]]:
    n = rng.choice([1, 1, 2, 2, 3])
    kinds = rng.sample(DEFECTS, k=n)
    return [(k, rng.choice([1, 2, 2, 3])) for k in kinds]


def make_real_shoot(
    seed: int,
    out_dir: Path,
    *,
    photos_dir: Path = PHOTOS,
    n_sources: int | None = None,
    long_edge: int = 1024,
    dup_share: float = 0.3,
) -> Shoot:
    """Write the frames of one shoot to ``out_dir`` and return them with the truth."""
    rng, nrng, sources, shoot, t = start_shoot(seed, out_dir, photos_dir, n_sources)
    moment, left_in_moment, dup_group = 0, rng.randint(1, 4), 0
    cameras = ("RealCam A1|serial-1", "RealCam B2|serial-2")
    for b, src in enumerate(sources):
        base = _load(src, int(long_edge * 1.45))  # room for a tighter "cut" crop at full detail
        with Image.open(src) as probe:
            full = probe.size
        subject_b = _subject(src, base.size, full, rng)
        other = _load(sources[(b + 7) % len(sources)], long_edge // 2)
        n = rng.randint(3, 8)
        win = rng.randrange(n)
        keeper: Image.Image | None = None
        for f in range(n):
            frame = _camera_frame(base, rng, long_edge)
            frame = _exposure(frame, rng.uniform(-0.05, 0.05))
            what = ""
            if f == win:
                keeper = frame
            else:
                done = []
                defects = _defects(rng)
                cut = next((d for d in defects if d[0] == "cut"), None)
                if cut is not None:  # a reframing: made from the base, before the rest
                    frame = _cut_frame(base, subject_b, cut[1], rng, long_edge)
                    done.append(f"cut:{cut[1]}")
                subject = _in_frame(subject_b, base.size, frame.size)
                for kind, sev in defects:
                    if kind != "cut":
                        frame = _apply(kind, sev, frame, subject, other, rng, nrng)
                        done.append(f"{kind}:{sev}")
                what = "+".join(done)
            path = out_dir / f"r{seed}_b{b:03d}_f{f}.jpg"
            frame.save(path, quality=92)
            shoot.frames.append(
                Frame(
                    path,
                    t,
                    cameras[moment % 2],
                    None,
                    b,
                    moment,
                    None,
                    what,
                    frame.width * frame.height,
                )
            )
            if f == win:
                shoot.winners[b] = len(shoot.frames) - 1
            t += rng.uniform(0.1, 1.5)
        if keeper is not None and rng.random() < dup_share:
            wi = shoot.winners[b]
            shoot.frames[wi].dup_group = dup_group
            for kind in rng.sample(["reencode", "half", "edit"], k=rng.randint(1, 2)):
                copy = {
                    "reencode": keeper,
                    "half": keeper.resize((keeper.width // 2, keeper.height // 2)),
                    "edit": _exposure(keeper, 0.3),
                }[kind]
                path = out_dir / f"r{seed}_b{b:03d}_copy_{kind}.jpg"
                copy.save(path, quality={"reencode": 70, "half": 88, "edit": 90}[kind])
                dated = rng.random() < 0.5  # an export keeps the capture time, a screenshot not
                shoot.frames.append(
                    Frame(
                        path,
                        shoot.frames[wi].time if dated else None,
                        None,
                        None,
                        None,
                        shoot.frames[wi].moment if dated else None,
                        dup_group,
                        kind,
                        copy.width * copy.height,
                    )
                )
            dup_group += 1
        moment, left_in_moment, t = next_burst(rng, moment, left_in_moment, t, (5, 180))
    return shoot
