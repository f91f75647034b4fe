"""XMP sidecars with the culling decisions, the way Lightroom and darktable read them.

Per asset: ``xmp:Rating`` (0-5, -1 when rejected, as darktable and Lightroom use it),
``dc:subject`` (keywords, an ``rdf:Bag``) and, since XMP has no standard pick flag, the pick
state and star in kilo's own namespace (``kilocull:Pick`` 1 / 0 / -1, ``kilocull:Starred``).

Sidecars go next to local originals (``IMG_0001.xmp``, Lightroom's name, or with
``naming="darktable"`` ``IMG_0001.JPG.xmp``) and into the store for originals in object
storage (``sidecars/<asset id>/<name>.xmp``); each is recorded as an ``asset_files`` row of
kind ``sidecar``. Originals are never written. An existing sidecar is parsed and merged:
everything else in it (``crs:`` develop settings written by Lightroom or by
:mod:`kilo.edit.xmp`, EXIF, history...) is kept; a sidecar that is not XMP is left alone and
reported as failed.
"""

from __future__ import annotations

import contextlib
import io
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kilo import store
from kilo.catalog import Catalog
from kilo.clock import new_id, parse_uuid, utcnow
from kilo.errors import DecodeError, InvalidInput, KiloError, NotFound
from kilo.progress import ItemResult, Progress, ProgressCallback, report

__all__ = [
    "NS",
    "SidecarState",
    "merge_xmp",
    "read_xmp_state",
    "sidecar_location",
    "write_xmp_sidecars",
]

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "kilocull": "https://kilo.photo/ns/cull/1.0/",
}
Naming = Literal["lightroom", "darktable"]
_PACKET_BEGIN = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
_PACKET_END = '\n<?xpacket end="w"?>\n'


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


@dataclass(slots=True)
class SidecarState:
    """What kilo writes into (and reads back from) a sidecar."""

    rating: int = 0  # -1 rejected, 0 unrated, 1-5
    pick: int = 0  # 1 picked, 0 none, -1 rejected
    starred: bool = False
    keywords: list[str] = field(default_factory=list)


def _register(prefixes: Sequence[tuple[str, str]]) -> None:
    """Keep the prefixes a file declares (ElementTree's prefix map is process-wide)."""
    taken = {uri: p for p, uri in NS.items()}
    for prefix, uri in prefixes:
        if not prefix or uri in taken:
            continue
        try:
            ET.register_namespace(prefix, uri)
        except ValueError:  # a reserved form (ns0...): ElementTree picks a name
            continue


def _parse(data: bytes) -> ET.Element:
    try:
        declared = [
            value
            for _, value in ET.iterparse(io.BytesIO(data), events=("start-ns",))
            if isinstance(value, tuple)
        ]
        parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
        root = ET.fromstring(data, parser=parser)
    except ET.ParseError as exc:
        raise DecodeError(f"the existing sidecar is not valid XML ({exc})") from None
    if root.tag not in (_q("x", "xmpmeta"), _q("rdf", "RDF")):
        raise DecodeError(f"the existing sidecar is not XMP (root element {root.tag})")
    _register(declared)
    return root


def _rdf(root: ET.Element) -> ET.Element:
    if root.tag == _q("rdf", "RDF"):
        return root
    rdf = root.find(_q("rdf", "RDF"))
    if rdf is None:
        rdf = ET.SubElement(root, _q("rdf", "RDF"))
    return rdf


def _keywords(desc: ET.Element) -> list[str]:
    out: list[str] = []
    for subject in desc.findall(_q("dc", "subject")):
        for li in subject.iter(_q("rdf", "li")):
            if li.text and li.text.strip():
                out.append(li.text.strip())
    return out


def read_xmp_state(data: str | bytes) -> SidecarState:
    """Rating, pick, star and keywords found in an XMP packet (attribute or element form)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    root = _parse(raw)
    state = SidecarState()
    for desc in _rdf(root).findall(_q("rdf", "Description")):
        rating = desc.get(_q("xmp", "Rating"))
        element = desc.find(_q("xmp", "Rating"))
        if rating is None and element is not None:
            rating = element.text
        if rating is not None:
            with contextlib.suppress(ValueError):
                state.rating = int(float(rating))
        pick = desc.get(_q("kilocull", "Pick"))
        if pick is not None:
            state.pick = int(pick)
        starred = desc.get(_q("kilocull", "Starred"))
        if starred is not None:
            state.starred = starred.lower() == "true"
        state.keywords += [k for k in _keywords(desc) if k not in state.keywords]
    return state


def merge_xmp(existing: str | bytes | None, state: SidecarState) -> str:
    """An XMP packet: ``existing`` (parsed, everything kept) with kilo's culling fields set.

    Keywords are merged (those already in the sidecar first). Raises DecodeError when
    ``existing`` is not XMP, so that a foreign file is never overwritten.
    """
    if existing:
        raw = existing.encode("utf-8") if isinstance(existing, str) else existing
        root = _parse(raw)
    else:
        root = ET.Element(_q("x", "xmpmeta"), {_q("x", "xmptk"): "kilo"})
    rdf = _rdf(root)
    descriptions = rdf.findall(_q("rdf", "Description"))
    if not descriptions:
        descriptions = [ET.SubElement(rdf, _q("rdf", "Description"), {_q("rdf", "about"): ""})]
    keywords: list[str] = []
    for desc in descriptions:
        keywords += [k for k in _keywords(desc) if k not in keywords]
        for name in (_q("xmp", "Rating"), _q("kilocull", "Pick"), _q("kilocull", "Starred")):
            desc.attrib.pop(name, None)
            for child in desc.findall(name):
                desc.remove(child)
        for child in desc.findall(_q("dc", "subject")):
            desc.remove(child)
    keywords += [k for k in state.keywords if k not in keywords]
    main = descriptions[0]
    main.set(_q("xmp", "Rating"), str(state.rating))
    main.set(_q("kilocull", "Pick"), str(state.pick))
    main.set(_q("kilocull", "Starred"), "True" if state.starred else "False")
    if keywords:
        bag = ET.SubElement(ET.SubElement(main, _q("dc", "subject")), _q("rdf", "Bag"))
        for word in keywords:
            ET.SubElement(bag, _q("rdf", "li")).text = word
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    ET.indent(root, space=" ")
    return _PACKET_BEGIN + ET.tostring(root, encoding="unicode") + _PACKET_END


def sidecar_location(
    original_uri: str, asset_id: str, store_base: str, naming: Naming = "lightroom"
) -> str:
    """Where the sidecar of an original goes: next to it when local, else in the store."""
    if naming not in ("lightroom", "darktable"):
        raise InvalidInput(f"naming must be lightroom or darktable, got {naming!r}")
    name = original_uri.rstrip("/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    sidecar_name = f"{name}.xmp" if naming == "darktable" else f"{stem}.xmp"
    if store.is_local(original_uri):
        path = store.local_path(original_uri)
        return str(path.with_name(sidecar_name))
    return store.join(store_base, "sidecars", asset_id, sidecar_name)


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
    progress: ProgressCallback | None = None,
) -> list[ItemResult]:
    """Write (merge) the sidecar of every asset of the project that has a rating row or
    keywords (all assets with ``include_unrated``). One ItemResult per asset; ``extra``
    holds the sidecar ``uri``. Multi-frame files get the decisions of their first frame."""
    pid = parse_uuid(project_id, "project id")
    if catalog.scalar("SELECT count(*) FROM projects WHERE id = ?", [pid]) == 0:
        raise NotFound(f"no project with id {pid}")
    user = user_id or catalog.local_user_id
    rows = catalog.fetchdicts(
        """
        SELECT a.id, a.filename, a.source_uri, a.frame_index, a.keywords,
               (SELECT f.uri FROM asset_files f WHERE f.asset_id = a.id AND f.kind = 'original'
                ORDER BY f.created_at LIMIT 1) AS original_uri,
               r.asset_id IS NOT NULL AS has_rating, r.rating, r.picked, r.rejected, r.starred
        FROM assets a LEFT JOIN ratings r ON r.asset_id = a.id AND r.user_id = ?
        WHERE a.project_id = ? AND a.state <> 'pending_upload'
        ORDER BY a.captured_at NULLS LAST, a.filename, a.frame_index
        """,
        [user, pid],
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
            results.append(_write_one(catalog, row, original, base, naming, done_files))
        report(progress, Progress("xmp", n, total, item=item, status=results[-1].status))
    return results


def _write_one(
    catalog: Catalog,
    row: dict[str, object],
    original: str,
    base: str,
    naming: Naming,
    done_files: set[str],
) -> ItemResult:
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
        text = merge_xmp(existing, _state_of(row))
        store.write_bytes(target, text.encode("utf-8"), settings)
    except KiloError as exc:
        return ItemResult(item=item, status="failed", reason=exc.message, asset_id=asset_id)
    done_files.add(target)
    with catalog.transaction():
        catalog.execute(
            "DELETE FROM asset_files WHERE asset_id = ? AND kind = 'sidecar' AND uri = ?",
            [asset_id, target],
        )
        catalog.execute(
            "INSERT INTO asset_files (id, asset_id, kind, uri, content_type, byte_size, "
            "created_at) VALUES (?, ?, 'sidecar', ?, 'application/rdf+xml', ?, ?)",
            [new_id(), asset_id, target, len(text.encode("utf-8")), utcnow()],
        )
    return ItemResult(
        item=item,
        status="ok",
        asset_id=asset_id,
        extra={"uri": target, "merged": existing is not None},
    )
