"""Subject-aware framing for fixed-aspect presets (4:5 carousel, 9:16 story).

The subject is found from faces (``kilo.measure.signals.detect_faces`` when the culling engine is
installed) or, when there are none, from a saliency map (spectral residual, Hou & Zhang 2007,
computed with numpy on a small copy). The crop is the largest window of the target aspect that
keeps the subject in frame and puts it where a person would (centred across, faces in the upper
third when cutting a tall frame). Panoramas can be cut into consecutive 4:5 slides instead, and
photos that would lose too much to a crop get a blurred fill background.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

log = logging.getLogger(__name__)

SALIENCY_SIDE = 96


@dataclass(frozen=True, slots=True)
class Subject:
    """The part of a photo that a crop should keep, in pixels of that photo."""

    cx: float
    cy: float
    box: tuple[float, float, float, float]  # left, top, right, bottom
    source: str  # "faces" | "saliency" | "centre"


def saliency_map(img: Image.Image, side: int = SALIENCY_SIDE) -> np.ndarray:
    """Spectral-residual saliency of ``img`` on a ``side``-pixel grid, values in [0, 1]."""
    from scipy.ndimage import gaussian_filter, uniform_filter  # type: ignore[import-untyped,unused-ignore]

    scale = side / max(img.size)
    w = max(8, round(img.width * scale))
    h = max(8, round(img.height * scale))
    small = img.resize((w, h), Image.Resampling.BILINEAR, reducing_gap=2.0).convert("L")
    gray = np.asarray(small, dtype=np.float64) / 255.0
    spectrum = np.fft.fft2(gray)
    log_amp = np.log(np.abs(spectrum) + 1e-9)
    phase = np.angle(spectrum)
    residual = log_amp - uniform_filter(log_amp, size=3, mode="nearest")
    sal = np.abs(np.fft.ifft2(np.exp(residual + 1j * phase))) ** 2
    sal = gaussian_filter(sal, sigma=max(1.0, 0.03 * max(w, h)))
    # spectral residual lights up borders of frames; damp a thin margin
    border = max(1, round(0.03 * min(w, h)))
    sal[:border, :] *= 0.3
    sal[-border:, :] *= 0.3
    sal[:, :border] *= 0.3
    sal[:, -border:] *= 0.3
    peak = float(sal.max())
    return (sal / peak) if peak > 0 else np.zeros_like(sal)


def _faces(img: Image.Image) -> list[tuple[float, float, float, float]]:
    """Face boxes (l, t, r, b) in pixels of ``img`` (kilo.measure.signals' detector)."""
    from kilo.measure.signals import detect_faces

    side = 1024
    scale = min(1.0, side / max(img.size))
    probe = (
        img
        if scale >= 1.0
        else img.resize(
            (max(1, round(img.width * scale)), max(1, round(img.height * scale))),
            Image.Resampling.BILINEAR,
        )
    )
    try:
        found = detect_faces(np.asarray(probe.convert("RGB")))
    except Exception:  # a detector failure must not fail an export: fall back to saliency
        log.debug("face detection failed; saliency crop", exc_info=True)
        return []
    boxes = []
    for face in found:
        x, y, w, h = (float(face.x), float(face.y), float(face.w), float(face.h))
        boxes.append((x / scale, y / scale, (x + w) / scale, (y + h) / scale))
    return boxes


def find_subject(img: Image.Image, *, use_faces: bool = True) -> Subject:
    """The subject of ``img``: faces when there are any, else the saliency mass."""
    width, height = img.size
    faces = _faces(img) if use_faces else []
    if faces:
        areas = np.array([(r - left) * (b - t) for left, t, r, b in faces])
        keep = [f for f, a in zip(faces, areas, strict=True) if a >= 0.1 * areas.max()]
        left = min(f[0] for f in keep)
        top = min(f[1] for f in keep)
        right = max(f[2] for f in keep)
        bottom = max(f[3] for f in keep)
        weights = np.array([(f[2] - f[0]) * (f[3] - f[1]) for f in keep])
        cx = float(np.average([(f[0] + f[2]) / 2 for f in keep], weights=weights))
        cy = float(np.average([(f[1] + f[3]) / 2 for f in keep], weights=weights))
        return Subject(cx, cy, (left, top, right, bottom), "faces")
    sal = saliency_map(img)
    total = float(sal.sum())
    if total <= 0:
        return Subject(width / 2, height / 2, (0, 0, width, height), "centre")
    h, w = sal.shape
    weights = sal * (sal >= np.quantile(sal, 0.8))
    col_mass = weights.sum(axis=0)
    row_mass = weights.sum(axis=1)
    cx = _weighted_mean(col_mass) * width / w
    cy = _weighted_mean(row_mass) * height / h
    x0, x1 = _mass_span(col_mass)
    y0, y1 = _mass_span(row_mass)
    box = (x0 * width / w, y0 * height / h, x1 * width / w, y1 * height / h)
    return Subject(cx, cy, box, "saliency")


def _weighted_mean(mass: np.ndarray) -> float:
    return float((np.arange(mass.size) + 0.5) @ mass / mass.sum())


def _mass_span(mass: np.ndarray, share: float = 0.7) -> tuple[float, float]:
    """The central interval holding ``share`` of ``mass`` (in cells)."""
    cum = np.cumsum(mass) / mass.sum()
    lo = float(np.searchsorted(cum, (1 - share) / 2))
    hi = float(np.searchsorted(cum, 1 - (1 - share) / 2)) + 1.0
    return lo, hi


def plan_crop(
    size: tuple[int, int], aspect: float, subject: Subject | None = None
) -> tuple[int, int, int, int]:
    """The largest ``aspect`` (width / height) window of ``size`` framed on ``subject``."""
    width, height = size
    if width / height > aspect:
        cw, ch = max(1, round(height * aspect)), height
    else:
        cw, ch = width, max(1, round(width / aspect))
    if subject is None:
        cx, cy = width / 2, height / 2
        box = (cx, cy, cx, cy)
    else:
        cx, cy, box = subject.cx, subject.cy, subject.box
        if subject.source == "faces" and ch < height:
            # put faces on the upper third line rather than dead centre
            cy = cy + ch * (0.5 - 1 / 3)
    left = cx - cw / 2
    top = cy - ch / 2
    # keep the whole subject box when it fits
    if box[2] - box[0] <= cw:
        left = min(max(left, box[2] - cw), box[0])
    if box[3] - box[1] <= ch:
        top = min(max(top, box[3] - ch), box[1])
    left = round(min(max(left, 0), width - cw))
    top = round(min(max(top, 0), height - ch))
    return left, top, left + cw, top + ch


def kept_fraction(size: tuple[int, int], aspect: float) -> float:
    """Share of the photo's area a crop to ``aspect`` keeps."""
    width, height = size
    ratio = width / height
    return min(ratio, aspect) / max(ratio, aspect)


def frame_crop(
    img: Image.Image, out_size: tuple[int, int], subject: Subject | None = None
) -> Image.Image:
    """``img`` cropped to the aspect of ``out_size`` around the subject, resized to it."""
    aspect = out_size[0] / out_size[1]
    if subject is None:
        subject = find_subject(img)
    box = plan_crop(img.size, aspect, subject)
    return img.resize(out_size, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)


def frame_blur_fill(img: Image.Image, out_size: tuple[int, int]) -> Image.Image:
    """The whole photo fitted in ``out_size`` on a blurred, dimmed copy of itself."""
    out_w, out_h = out_size
    aspect = out_w / out_h
    box = plan_crop(img.size, aspect, None)
    bg_small = img.resize(
        (max(1, out_w // 8), max(1, out_h // 8)), Image.Resampling.BILINEAR, box=box
    )
    bg_small = bg_small.filter(ImageFilter.GaussianBlur(radius=max(2, out_w // 80)))
    bg = bg_small.resize(out_size, Image.Resampling.BICUBIC)
    bg = ImageEnhance.Brightness(bg).enhance(0.6)
    scale = min(out_w / img.width, out_h / img.height)
    fw, fh = max(1, round(img.width * scale)), max(1, round(img.height * scale))
    fg = img.resize((fw, fh), Image.Resampling.LANCZOS, reducing_gap=3.0)
    bg.paste(fg, ((out_w - fw) // 2, (out_h - fh) // 2))
    return bg


def panorama_slides(
    img: Image.Image,
    out_size: tuple[int, int],
    *,
    min_aspect: float = 2.0,
    max_slides: int = 10,
) -> list[Image.Image] | None:
    """A wide photo cut into consecutive ``out_size`` slides (None when it is not a panorama).

    The number of slides is the one that loses the least of the frame; the slides are cut from
    one strip framed on the subject, so they join seamlessly when swiped.
    """
    width, height = img.size
    ratio = width / height
    slide_aspect = out_size[0] / out_size[1]
    if ratio < min_aspect:
        return None
    n = max(2, min(max_slides, round(ratio / slide_aspect)))
    strip_aspect = n * slide_aspect
    subject = find_subject(img, use_faces=False)
    box = plan_crop(img.size, strip_aspect, subject)
    strip = img.resize((out_size[0] * n, out_size[1]), Image.Resampling.LANCZOS, box=box)
    return [strip.crop((i * out_size[0], 0, (i + 1) * out_size[0], out_size[1])) for i in range(n)]
