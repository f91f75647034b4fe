"""Seeded synthetic culling shoot built from the real photos in ../shared/photos.

For each source photo: a burst of 3 to 8 frames the way a camera makes them (shifts and crops
of a few percent, a tiny rotation, small exposure jitter, 0.1 to 0.4 s apart), every frame but
one degraded (defocus or motion blur of varied strength, noise, exposure error). Bursts are
grouped into moments (bursts 15 to 90 s apart inside a moment, moments 8 to 40 min apart), two
camera bodies alternate between moments, one burst per shoot is an exposure bracket (-1/0/+1 EV
in EXIF), and some winners get duplicate copies (re-encode, half-size, light edit) with no
capture time (as exports and screenshots have).

Importable: ``make_shoot(seed, out_dir) -> Shoot`` (files + ground truth).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps

PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "photos"
BASE_TIME = 1_700_000_000.0  # 2023-11-14, seconds UTC
# duplicates, stereo pairs and intentionally blurred photos are not burst sources
_EXCLUDE = ("_screenshot", "im_q85", "aloeR", "leuvenB", "ela_modified", "_motion", "_defocus")


@dataclass
class Frame:
    path: Path
    time: float | None
    camera: str | None
    exposure_bias: float | None
    burst: int | None  # ground-truth burst id (None: not part of a burst)
    moment: int | None  # ground-truth moment id (None: undated copy)
    dup_group: int | None  # ground-truth duplicate group id
    degraded: str  # "" for the winner, else what was done
    pixels: int = 0


@dataclass
class Shoot:
    seed: int
    frames: list[Frame] = field(default_factory=list)
    #: burst id -> index (in frames) of the undegraded winner
    winners: dict[int, int] = field(default_factory=dict)


def source_photos(photos_dir: Path = PHOTOS) -> list[Path]:
    exts = {".jpg", ".jpeg", ".png", ".heic"}
    return sorted(
        p
        for p in photos_dir.iterdir()
        if p.suffix.lower() in exts and not any(x in p.name for x in _EXCLUDE)
    )


def _load(path: Path, long_edge: int) -> Image.Image:
    if path.suffix.lower() == ".heic":
        import pillow_heif

        pillow_heif.register_heif_opener()
    im = Image.open(path)
    im.draft("RGB", (long_edge * 2, long_edge * 2))
    im = ImageOps.exif_transpose(im).convert("RGB")
    im.thumbnail((int(long_edge * 1.15), int(long_edge * 1.15)), Image.Resampling.LANCZOS)
    return im


def _camera_frame(base: Image.Image, rng: random.Random, long_edge: int) -> Image.Image:
    """A slightly different framing: rotation <= 0.8 deg, shift/crop of a few percent."""
    w, h = base.size
    rot = rng.uniform(-0.8, 0.8)
    im = base.rotate(rot, resample=Image.Resampling.BILINEAR, expand=False)
    crop = rng.uniform(0.86, 0.92)
    cw, ch = int(w * crop), int(h * crop)
    cx = (w - cw) / 2 + rng.uniform(-0.03, 0.03) * w
    cy = (h - ch) / 2 + rng.uniform(-0.03, 0.03) * h
    cx = min(max(0.0, cx), w - cw)
    cy = min(max(0.0, cy), h - ch)
    im = im.crop((int(cx), int(cy), int(cx) + cw, int(cy) + ch))
    im.thumbnail((long_edge, long_edge), Image.Resampling.LANCZOS)
    return im


def _exposure(im: Image.Image, ev: float) -> Image.Image:
    arr = np.asarray(im).astype(np.float32) / 255.0
    lin = arr**2.2 * (2.0**ev)
    out = np.clip(lin, 0, 1) ** (1 / 2.2)
    return Image.fromarray((out * 255 + 0.5).astype(np.uint8))


def _motion(im: Image.Image, length: int, angle: float) -> Image.Image:
    import cv2

    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    k = cv2.warpAffine(k, rot, (length, length))
    k /= max(k.sum(), 1e-6)
    return Image.fromarray(cv2.filter2D(np.asarray(im), -1, k))


def _noise(im: Image.Image, sigma: float, rng: np.random.Generator) -> Image.Image:
    arr = np.asarray(im).astype(np.float32)
    arr = arr + rng.normal(0, sigma, arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _degrade(
    im: Image.Image, rng: random.Random, nrng: np.random.Generator
) -> tuple[Image.Image, str]:
    kinds = rng.sample(["defocus", "motion", "noise", "exposure"], k=rng.choice([1, 1, 2]))
    done = []
    for kind in kinds:
        if kind == "defocus":
            r = rng.uniform(1.0, 3.5)
            im = im.filter(ImageFilter.GaussianBlur(r))
            done.append(f"defocus{r:.1f}")
        elif kind == "motion":
            n = rng.randint(5, 17)
            im = _motion(im, n, rng.uniform(0, 180))
            done.append(f"motion{n}")
        elif kind == "noise":
            s = rng.uniform(5.0, 14.0)
            im = _noise(im, s, nrng)
            done.append(f"noise{s:.0f}")
        else:
            ev = rng.choice([-1, 1]) * rng.uniform(0.7, 1.5)
            im = _exposure(im, ev)
            done.append(f"ev{ev:+.1f}")
    return im, "+".join(done)


def start_shoot(
    seed: int, out_dir: Path, photos_dir: Path, n_sources: int | None
) -> tuple[random.Random, np.random.Generator, list[Path], Shoot, float]:
    """The seeded generators, the shuffled source photos, an empty shoot and its start time."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = source_photos(photos_dir)
    rng.shuffle(sources)
    if n_sources is not None:
        sources = sources[:n_sources]
    return rng, nrng, sources, Shoot(seed=seed), BASE_TIME + rng.uniform(0, 3600)


def next_burst(
    rng: random.Random, moment: int, left: int, t: float, gap: tuple[float, float]
) -> tuple[int, int, float]:
    """(moment, bursts left in it, time) for the next burst: ``gap`` seconds later in the same
    moment, or 8 to 40 minutes later in a new one of 1 to 4 bursts."""
    left -= 1
    if left == 0:
        return moment + 1, rng.randint(1, 4), t + rng.uniform(8 * 60, 40 * 60)
    return moment, left, t + rng.uniform(*gap)


def make_shoot(
    seed: int,
    out_dir: Path,
    *,
    photos_dir: Path = PHOTOS,
    n_sources: int | None = None,
    long_edge: int = 1024,
    dup_share: float = 0.3,
) -> Shoot:
    """Write the frames of one synthetic shoot to ``out_dir`` and return them with the truth."""
    rng, nrng, sources, shoot, t = start_shoot(seed, out_dir, photos_dir, n_sources)
    moment = 0
    left_in_moment = rng.randint(1, 4)
    bracket_at = rng.randrange(len(sources))
    dup_group = 0
    cameras = ("SynthCam A1|serial-1", "SynthCam B2|serial-2")
    for b, src in enumerate(sources):
        base = _load(src, long_edge)
        camera = cameras[moment % 2]
        is_bracket = b == bracket_at
        n = 3 if is_bracket else rng.randint(3, 8)
        win = 1 if is_bracket else rng.randrange(n)
        winner_img: Image.Image | None = None
        for f in range(n):
            frame = _camera_frame(base, rng, long_edge)
            frame = _exposure(frame, rng.uniform(-0.08, 0.08))
            bias: float | None = None
            what = ""
            if is_bracket:
                bias = float(f - 1)
                if f != win:
                    frame = _exposure(frame, bias)
                    what = f"bracket{bias:+.0f}"
            elif f != win:
                frame, what = _degrade(frame, rng, nrng)
            else:
                winner_img = frame
            if is_bracket and f == win:
                winner_img = frame
            path = out_dir / f"s{seed}_b{b:03d}_f{f}.jpg"
            frame.save(path, quality=92)
            shoot.frames.append(
                Frame(path, t, camera, bias, b, moment, None, what, frame.width * frame.height)
            )
            if f == win:
                shoot.winners[b] = len(shoot.frames) - 1
            t += rng.uniform(0.1, 0.4)
        # duplicate copies of the winner, without capture time
        if winner_img is not None and rng.random() < dup_share:
            wi = shoot.winners[b]
            shoot.frames[wi].dup_group = dup_group
            for kind in rng.sample(["reencode", "half", "edit"], k=rng.randint(1, 2)):
                if kind == "reencode":
                    copy = winner_img
                    q = 70
                elif kind == "half":
                    copy = winner_img.resize((winner_img.width // 2, winner_img.height // 2))
                    q = 88
                else:
                    copy = _exposure(winner_img, 0.3)
                    q = 90
                path = out_dir / f"s{seed}_b{b:03d}_copy_{kind}.jpg"
                copy.save(path, quality=q)
                shoot.frames.append(
                    Frame(
                        path,
                        None,
                        None,
                        None,
                        None,
                        None,
                        dup_group,
                        kind,
                        copy.width * copy.height,
                    )
                )
            dup_group += 1
        moment, left_in_moment, t = next_burst(rng, moment, left_in_moment, t, (15, 90))
    return shoot
