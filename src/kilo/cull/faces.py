"""The face strip: every person of a burst, their face in each frame side by side, eyes
marked, so expressions and blinks are checked without zooming frame by frame.

Faces come from the ``faces`` table (what analysis found, boxes as shares of the preview).
A person is followed across the frames by where their face is: each face joins the person
whose last face is nearest (within :data:`MATCH_DISTANCE` of the frame's width and of a size
within a factor 1.6), else starts a new person; people seen in one frame only are kept too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kilo.catalog import Catalog
from kilo.catalog.measures_repo import list_faces
from kilo.models.studio import EyesState, FaceCell, FacePerson, FaceStripResponse

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "FaceStrip",
    "StripFace",
    "build_face_strip",
    "crop_face",
    "face_box",
    "face_strip",
    "render_face_strip",
]

MATCH_DISTANCE = 0.08
_EYES: dict[str, EyesState] = {"open": "open", "closed": "closed"}
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


def face_box(face: StripFace) -> tuple[float, float, float, float]:
    """The face's box (x, y, w, h as shares of the photo) with a little room around it,
    kept inside the photo."""
    m = 0.15 * face.w
    x0, y0 = max(0.0, face.x - m), max(0.0, face.y - m)
    x1, y1 = min(1.0, face.x + face.w + m), min(1.0, face.y + face.h + m)
    return round(x0, 4), round(y0, 4), round(x1 - x0, 4), round(y1 - y0, 4)


def crop_face(
    catalog: Catalog, asset_id: str, box: tuple[float, float, float, float], *, cell: int = 160
) -> bytes:
    """A JPEG of the part ``box`` (x, y, w, h as shares) of the asset's preview, its long
    edge ``cell`` pixels (no metadata: a new image)."""
    import io

    from kilo.assets import open_rendition
    from kilo.errors import InvalidInput

    x, y, w, h = box
    if not (0 <= x < 1 and 0 <= y < 1 and 0 < w <= 1 and 0 < h <= 1):
        raise InvalidInput("a face box is four shares of the photo: x,y in [0,1), w,h in (0,1]")
    im = open_rendition(catalog, asset_id, "preview")
    W, H = im.size
    crop = im.crop(
        (round(x * W), round(y * H), min(W, round((x + w) * W)), min(H, round((y + h) * H)))
    )
    crop.thumbnail((cell, cell))
    buf = io.BytesIO()
    crop.convert("RGB").save(buf, "JPEG", quality=88)
    return buf.getvalue()


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


def build_face_strip(
    catalog: Catalog, cluster_id: str, crop_url: Callable[[str, str], str]
) -> FaceStripResponse:
    """The face strip of a cluster for a client: each person across the cluster's members
    (in cull order, by rank), per frame the URL of the face's crop (``crop_url(asset id,
    "x,y,w,h")``) and the eyes' state; no people when no face was found (or analysis ran
    no detector)."""
    members = [
        str(m["asset_id"])
        for m in catalog.table("cluster_members").rows_where(
            "cluster_id = ?", [cluster_id], select=("asset_id",), order_by="rank, asset_id"
        )
    ]
    strip = face_strip(catalog, members)
    people = []
    for p, row in enumerate(strip.people):
        cells = []
        for aid, face in zip(members, row, strict=True):
            if face is None:
                cells.append(FaceCell(asset_id=aid))
                continue
            box = face_box(face)
            eyes: EyesState = _EYES.get(face.eyes, "unknown")
            cells.append(
                FaceCell(
                    asset_id=aid,
                    crop_url=crop_url(aid, ",".join(f"{v:g}" for v in box)),
                    eyes=eyes,
                    openness=face.openness,
                    box=[face.x, face.y, face.w, face.h],
                )
            )
        people.append(FacePerson(index=p, frames=cells))
    return FaceStripResponse(cluster_id=cluster_id, member_ids=members, people=people)
