"""The face strip: every person of a burst, their face in each frame side by side, eyes
marked, so expressions and blinks are checked without zooming frame by frame.

Faces come from the ``faces`` table (what analysis found, boxes as shares of the preview).
A person is followed across the frames by where their face is: each face joins the person
whose last face is nearest (within :data:`MATCH_DISTANCE` of the frame's width and of a size
within a factor 1.6), else starts a new person; people seen in one frame only are kept too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kilo.catalog import Catalog
from kilo.catalog.measures_repo import list_faces

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["FaceStrip", "StripFace", "face_strip", "render_face_strip"]

MATCH_DISTANCE = 0.08
_COLORS = {"open": (46, 160, 67), "closed": (218, 54, 51), "unknown": (140, 140, 140)}


@dataclass(frozen=True, slots=True)
class StripFace:
    asset_id: str
    x: float
    y: float
    w: float
    h: float
    eyes: str
    openness: float | None


@dataclass
class FaceStrip:
    """``people[p][k]``: person ``p``'s face in frame ``asset_ids[k]`` (None: not found)."""

    asset_ids: list[str]
    people: list[list[StripFace | None]] = field(default_factory=list)

    def eyes_line(self, person: int) -> str:
        """``open open CLOSED -`` across the frames."""
        return " ".join(
            "-" if f is None else (f.eyes.upper() if f.eyes == "closed" else f.eyes)
            for f in self.people[person]
        )


def face_strip(catalog: Catalog, asset_ids: Sequence[str]) -> FaceStrip:
    """The people of these frames (a burst, in its order), largest faces first."""
    ids = list(asset_ids)
    strip = FaceStrip(asset_ids=ids)
    if not ids:
        return strip
    rows = list_faces(catalog, ids)
    by_frame: dict[str, list[StripFace]] = {}
    for aid, x, y, w, h, eyes, openness in rows:
        by_frame.setdefault(str(aid), []).append(
            StripFace(
                str(aid),
                float(x),
                float(y),
                float(w),
                float(h),
                str(eyes),
                None if openness is None else float(openness),
            )
        )
    last: list[StripFace] = []  # each person's latest face
    for k, aid in enumerate(ids):
        taken: set[int] = set()
        for face in by_frame.get(aid, []):
            best, dist = None, MATCH_DISTANCE
            for p, prev in enumerate(last):
                if p in taken or not 1 / 1.6 <= face.w / max(prev.w, 1e-6) <= 1.6:
                    continue
                d = math.hypot(
                    face.x + face.w / 2 - prev.x - prev.w / 2,
                    face.y + face.h / 2 - prev.y - prev.h / 2,
                )
                if d < dist:
                    best, dist = p, d
            if best is None:
                strip.people.append([None] * len(ids))
                last.append(face)
                best = len(last) - 1
            strip.people[best][k] = face
            last[best] = face
            taken.add(best)
    strip.people.sort(key=lambda row: -max((f.w * f.h for f in row if f), default=0.0))
    return strip


def render_face_strip(
    catalog: Catalog, strip: FaceStrip, *, cell: int = 96, max_people: int = 6
) -> Image.Image:
    """The strip as one image: a row per person, a column per frame, each face outlined in
    green (eyes open), red (closed) or grey (can't tell)."""
    from PIL import Image, ImageDraw

    from kilo.assets import open_rendition
    from kilo.errors import KiloError

    people = strip.people[:max_people]
    pad = 4
    out = Image.new(
        "RGB",
        (
            max(1, len(strip.asset_ids)) * (cell + pad) + pad,
            max(1, len(people)) * (cell + pad) + pad,
        ),
        (24, 24, 24),
    )
    draw = ImageDraw.Draw(out)
    previews: dict[str, Image.Image | None] = {}
    for k, aid in enumerate(strip.asset_ids):
        for p, row in enumerate(people):
            face = row[k]
            if face is None:
                continue
            if aid not in previews:
                try:
                    previews[aid] = open_rendition(catalog, aid, "preview")
                except KiloError:
                    previews[aid] = None
            im = previews[aid]
            if im is None:
                continue
            W, H = im.size
            m = 0.15 * face.w  # a little room around the face
            x1, y1 = face.x + face.w + m, face.y + face.h + m
            box = (
                max(0, round((face.x - m) * W)),
                max(0, round((face.y - m) * H)),
                min(W, round(x1 * W)),
                min(H, round(y1 * H)),
            )
            crop = im.crop(box).resize((cell, cell))
            x0, y0 = pad + k * (cell + pad), pad + p * (cell + pad)
            out.paste(crop, (x0, y0))
            color = _COLORS.get(face.eyes, _COLORS["unknown"])
            draw.rectangle((x0, y0, x0 + cell - 1, y0 + cell - 1), outline=color, width=3)
    return out
