"""XMP sidecars with the culling decisions, the way Lightroom and darktable read them.

Per asset: ``xmp:Rating`` (0-5, -1 when rejected, as darktable and Lightroom use it),
``dc:subject`` (keywords, an ``rdf:Bag``) and the pick state and star in kilo's own namespace
(``kilocull:Pick`` 1 / 0 / -1, ``kilocull:Starred``). XMP has no standard pick flag, and
Lightroom keeps its own flag in its catalog only, so a pick is also written as something
Lightroom shows (:class:`PickMapping`): by default the color label ``xmp:Label`` "Green"
(removed again when the photo is no longer picked, unless someone changed it), or a rating
floor (a pick with no stars becomes 1 star).

Sidecars go next to local originals (``IMG_0001.xmp``, Lightroom's name, or with
``naming="darktable"`` ``IMG_0001.JPG.xmp``) and into the store for originals in object
storage (``sidecars/<asset id>/<name>.xmp``); each is recorded as an ``asset_files`` row of
kind ``sidecar``. Originals are never written. An existing sidecar is parsed and merged:
everything else in it (``crs:`` develop settings written by Lightroom or by
:mod:`kilo.edit.develop_sidecar`, EXIF, history...) is kept (:mod:`kilo.xmp_packets`); a
sidecar that is not XMP is left alone and reported as failed.
"""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kilo import store, xmp_packets
from kilo.catalog import Catalog
from kilo.catalog.assets_repo import record_sidecar
from kilo.catalog.file_reads import latest_file, project_frames
from kilo.clock import parse_uuid
from kilo.errors import DecodeError, KiloError, NotFound
from kilo.progress import ItemResult, Progress, ProgressCallback, report
from kilo.xmp_packets import NS, Naming, XmpList, XmpValue, q, sidecar_location

__all__ = [
    "NS",
    "PickAs",
    "PickMapping",
    "SidecarState",
    "merge_xmp",
    "read_xmp_state",
    "sidecar_location",
    "write_xmp_sidecars",
]

_RATING, _PICK, _STARRED = q("xmp", "Rating"), q("kilocull", "Pick"), q("kilocull", "Starred")
_SUBJECT, _LABEL = q("dc", "subject"), q("xmp", "Label")
PickAs = Literal["label", "rating", "none"]


@dataclass(frozen=True, slots=True)
class PickMapping:
    """How a pick shows in Lightroom: ``label`` (``xmp:Label`` set to ``label``), ``rating``
    (at least ``floor`` stars) or ``none`` (only ``kilocull:Pick``)."""

    pick_as: PickAs = "label"
    label: str = "Green"
    floor: int = 1


@dataclass(slots=True)
class SidecarState:
    """What kilo writes into (and reads back from) a sidecar."""

    rating: int = 0  # -1 rejected, 0 unrated, 1-5
    pick: int = 0  # 1 picked, 0 none, -1 rejected
    starred: bool = False
    keywords: list[str] = field(default_factory=list)
    label: str | None = None  # xmp:Label


def _parse(data: str | bytes) -> ET.Element:
    try:
        return xmp_packets.parse_packet(data)
    except DecodeError as exc:
        raise DecodeError(f"the existing sidecar is {exc.reason}") from None


def _keywords(root: ET.Element) -> list[str]:
    subject = xmp_packets.read_properties(root, NS["dc"]).get("subject")
    return list(subject) if isinstance(subject, list) else []


def read_xmp_state(data: str | bytes) -> SidecarState:
    """Rating, pick, star, label and keywords found in an XMP packet (attribute or element
    form)."""
    root = _parse(data)
    state = SidecarState(keywords=_keywords(root))
    basic = xmp_packets.read_properties(root, NS["xmp"])
    rating, label = basic.get("Rating"), basic.get("Label")
    state.label = label if isinstance(label, str) else None
    if isinstance(rating, str):
        with contextlib.suppress(ValueError):
            state.rating = int(float(rating))
    own = xmp_packets.read_properties(root, NS["kilocull"])
    pick, starred = own.get("Pick"), own.get("Starred")
    if isinstance(pick, str):
        state.pick = int(pick)
    if isinstance(starred, str):
        state.starred = starred.lower() == "true"
    return state


def merge_xmp(
    existing: str | bytes | None, state: SidecarState, mapping: PickMapping | None = None
) -> str:
    """An XMP packet: ``existing`` (parsed, everything kept) with kilo's culling fields set,
    the pick shown as ``mapping`` says.

    Keywords are merged (those already in the sidecar first). Raises DecodeError when
    ``existing`` is not XMP, so that a foreign file is never overwritten.
    """
    mapping = mapping or PickMapping()
    root = _parse(existing) if existing else xmp_packets.new_packet()
    keywords = _keywords(root)
    keywords += [k for k in state.keywords if k not in keywords]
    rating = state.rating
    if state.pick == 1 and mapping.pick_as == "rating":
        rating = max(rating, mapping.floor)
    values: dict[str, XmpValue] = {
        _RATING: str(rating),
        _PICK: str(state.pick),
        _STARRED: "True" if state.starred else "False",
        _SUBJECT: XmpList("Bag", tuple(keywords)) if keywords else None,
    }
    had = xmp_packets.read_properties(root, NS["xmp"]).get("Label")
    if state.pick == 1 and mapping.pick_as == "label":
        values[_LABEL] = mapping.label
    elif had == mapping.label:  # kilo's pick label, no longer a pick: taken off
        values[_LABEL] = None
    xmp_packets.set_properties(root, values)
    return xmp_packets.serialize_packet(root)


def _state_of(row: dict[str, object]) -> SidecarState:
    rejected, picked = bool(row["rejected"]), bool(row["picked"])
    rating = row["rating"]
    return SidecarState(
        rating=-1 if rejected else (int(rating) if isinstance(rating, int) else 0),
        pick=-1 if rejected else (1 if picked else 0),
        starred=bool(row["starred"]),
        keywords=[str(k) for k in (row["keywords"] or [])],  # type: ignore[attr-defined]
    )


def write_xmp_sidecars(
    catalog: Catalog,
    project_id: str,
    *,
    asset_ids: Sequence[str] | None = None,
    user_id: str | None = None,
    naming: Naming = "lightroom",
    include_unrated: bool = False,
    picks: PickMapping | None = None,
    progress: ProgressCallback | None = None,
) -> list[ItemResult]:
    """Write (merge) the sidecar of every asset of the project that has a rating row or
    keywords (all assets with ``include_unrated``), picks shown as ``picks`` says (default:
    the label "Green"). One ItemResult per asset; ``extra`` holds the sidecar ``uri``.
    Multi-frame files get the decisions of their first frame."""
    pid = parse_uuid(project_id, "project id")
    if not catalog.table("projects").exists(pid):
        raise NotFound(f"no project with id {pid}")
    user = user_id or catalog.local_user_id
    rows = project_frames(
        catalog,
        pid,
        user,
        "a.id, a.filename, a.source_uri, a.frame_index, a.keywords, "
        f"{latest_file('original')} AS original_uri, r.asset_id IS NOT NULL AS has_rating, "
        "r.rating, r.picked, r.rejected, r.starred",
    )
    if asset_ids is not None:
        wanted = {parse_uuid(a, "asset id") for a in asset_ids}
        rows = [r for r in rows if r["id"] in wanted]
    base = catalog.settings.store_url
    results: list[ItemResult] = []
    done_files: set[str] = set()
    total = len(rows)
    for n, row in enumerate(rows, start=1):
        original = str(row["original_uri"] or row["source_uri"])
        item = row["filename"] or original
        if not (row["has_rating"] or row["keywords"] or include_unrated):
            results.append(
                ItemResult(item=item, status="skipped", reason="no rating", asset_id=row["id"])
            )
        else:
            results.append(_write_one(catalog, row, original, (base, naming), done_files, picks))
        report(progress, Progress("xmp", n, total, item=item, status=results[-1].status))
    return results


def _write_one(
    catalog: Catalog,
    row: dict[str, object],
    original: str,
    where: tuple[str, Naming],
    done_files: set[str],
    picks: PickMapping | None,
) -> ItemResult:
    base, naming = where
    asset_id = str(row["id"])
    item = str(row["filename"] or original)
    target = sidecar_location(original, asset_id, base, naming)
    if target in done_files:
        return ItemResult(
            item=item, status="skipped", reason="another frame of this file", asset_id=asset_id
        )
    if target == original or Path(target).suffix.lower() != ".xmp":
        return ItemResult(
            item=item,
            status="failed",
            reason="sidecar would replace the original",
            asset_id=asset_id,
        )
    settings = catalog.settings
    try:
        existing = store.read_bytes(target, settings) if store.exists(target, settings) else None
        text = merge_xmp(existing, _state_of(row), picks)
        store.write_bytes(target, text.encode("utf-8"), settings)
    except KiloError as exc:
        return ItemResult(item=item, status="failed", reason=exc.message, asset_id=asset_id)
    done_files.add(target)
    record_sidecar(catalog, asset_id, target, len(text.encode("utf-8")))
    return ItemResult(
        item=item,
        status="ok",
        asset_id=asset_id,
        extra={"uri": target, "merged": existing is not None},
    )
