"""Subject-aware framing for fixed-aspect presets (4:5 carousel, 9:16 story).

The subject is found from faces first (``kilo.measure.signals.detect_faces``), else from a
saliency estimate (:mod:`kilo.export.saliency`: OpenCV's spectral-residual saliency weighted by
focus and a centre prior), else it is the middle of the frame (no saliency module installed,
or a map with nothing in it); :attr:`Subject.note` says why when a step was skipped. The crop is
the largest window of the target aspect that keeps the whole subject when it fits and is
centred on it when it does not, with faces on the upper third when cutting a tall frame.
Panoramas can be cut into consecutive 4:5 slides instead, and photos that would lose too much
to a crop get a blurred fill background.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from kilo.errors import ModelUnavailable
from kilo.export import saliency

log = logging.getLogger(__name__)

#: the long side the faces are looked for on
FACES_SIDE = 1024


@dataclass(frozen=True, slots=True)
class Subject:
    """The part of a photo that a crop should keep, in pixels of that photo."""

    cx: float
    cy: float
    box: tuple[float, float, float, float]  # left, top, right, bottom
    source: str  # "faces" | "saliency" | "centre"
    #: why a detector was not used (empty when faces or saliency framed the photo)
    note: str = ""


def _faces(img: Image.Image) -> tuple[list[tuple[float, float, float, float]], str]:
    """Face boxes (l, t, r, b) in pixels of ``img`` (kilo.measure.signals' detector), and a
    note when the detector could not run."""
    from kilo.measure.signals import detect_faces

    scale = min(1.0, FACES_SIDE / max(img.size))
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
    except Exception as exc:  # a detector failure must not fail an export: saliency instead
        log.warning("face detection failed (%s); framing on saliency", exc)
        return [], f"face detection failed ({type(exc).__name__})"
    boxes = []
    for face in found:
        x, y, w, h = (float(face.x), float(face.y), float(face.w), float(face.h))
        boxes.append((x / scale, y / scale, (x + w) / scale, (y + h) / scale))
    return boxes, ""


def _face_subject(faces: list[tuple[float, float, float, float]]) -> Subject:
    """The faces worth keeping (at least a tenth of the largest's area) as one subject."""
    areas = [(r - left) * (b - t) for left, t, r, b in faces]
    keep = [f for f, a in zip(faces, areas, strict=True) if a >= 0.1 * max(areas)]
    weights = np.array([(f[2] - f[0]) * (f[3] - f[1]) for f in keep])
    cx = float(np.average([(f[0] + f[2]) / 2 for f in keep], weights=weights))
    cy = float(np.average([(f[1] + f[3]) / 2 for f in keep], weights=weights))
    box = (
        min(f[0] for f in keep),
        min(f[1] for f in keep),
        max(f[2] for f in keep),
        max(f[3] for f in keep),
    )
    return Subject(cx, cy, box, "faces")


def find_subject(img: Image.Image, *, use_faces: bool = True) -> Subject:
    """The subject of ``img``: faces when there are any, else the salient region, else the
    middle of the frame (with a note saying why)."""
    width, height = img.size
    notes: list[str] = []
    if use_faces:
        faces, note = _faces(img)
        if faces:
            return _face_subject(faces)
        if note:
            notes.append(note)
    region: saliency.SalientRegion | None = None
    try:
        region = saliency.find_salient_region(np.asarray(img.convert("RGB")))
    except ModelUnavailable as exc:
        log.warning("%s; framing on the centre", exc)
        notes.append(f"{exc}: framed on the centre")
    except Exception as exc:  # a saliency failure must not fail an export either
        log.warning("saliency failed (%s); framing on the centre", exc)
        notes.append(f"saliency failed ({type(exc).__name__}): framed on the centre")
    else:
        if region is None:
            notes.append("no salient region: framed on the centre")
    if region is None:
        mid_x, mid_y = width / 2, height / 2
        return Subject(mid_x, mid_y, (mid_x, mid_y, mid_x, mid_y), "centre", "; ".join(notes))
    x0, y0, x1, y1 = region.box
    box = (x0 * width, y0 * height, x1 * width, y1 * height)
    return Subject(region.cx * width, region.cy * height, box, "saliency", "; ".join(notes))


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
    # keep the whole subject box when it fits, else centre on it
    if box[2] - box[0] <= cw:
        left = min(max(left, box[2] - cw), box[0])
    else:
        left = (box[0] + box[2] - cw) / 2
    if box[3] - box[1] <= ch:
        top = min(max(top, box[3] - ch), box[1])
    else:
        top = (box[1] + box[3] - ch) / 2
    left = round(min(max(left, 0), width - cw))
    top = round(min(max(top, 0), height - ch))
    return left, top, left + cw, top + ch


def keeps_subject(
    crop: tuple[float, float, float, float],
    box: tuple[float, float, float, float],
    *,
    share: float = 0.8,
    off_centre: float = 0.1,
) -> bool:
    """Whether ``crop`` keeps the subject ``box`` (both left, top, right, bottom in one unit):
    at least ``share`` of the box's area when the box fits in the crop, else the crop centred
    on the box within ``off_centre`` of the crop's size, on each side the box overflows."""
    cw, ch = crop[2] - crop[0], crop[3] - crop[1]
    bw, bh = box[2] - box[0], box[3] - box[1]
    if bw <= cw and bh <= ch:
        iw = max(0.0, min(crop[2], box[2]) - max(crop[0], box[0]))
        ih = max(0.0, min(crop[3], box[3]) - max(crop[1], box[1]))
        area = bw * bh
        return area <= 0 or iw * ih >= share * area
    ok = True
    if bw > cw:
        ok &= abs((crop[0] + crop[2]) - (box[0] + box[2])) / 2 <= off_centre * cw
    if bh > ch:
        ok &= abs((crop[1] + crop[3]) - (box[1] + box[3])) / 2 <= off_centre * ch
    return ok


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
