"""XMP sidecars with the culling decisions, the way Lightroom and darktable read them.

Per asset: ``xmp:Rating`` (0-5 stars), ``dc:subject`` (keywords, an ``rdf:Bag``) and the
pick state and star in kilo's own namespace (``kilocull:Pick`` 1 / 0 / -1,
``kilocull:Starred``). XMP has no standard pick flag, and Lightroom keeps its own pick and
reject flags in its catalog only, so a pick and a reject are also written as something the
other tools show (:class:`PickMapping`): by default a pick is the color label ``xmp:Label``
"Green" (removed again when the photo is no longer picked, unless someone changed it) and a
reject the rating -1 (Bridge's and darktable's reject); either can be a label, a rating, or
only kilo's own field. docs/culling.md has the table of which tool sees what.

Sidecars go next to local originals (``IMG_0001.xmp``, Lightroom's name, marked with
``photoshop:SidecarForExtension``, or with ``naming="darktable"`` ``IMG_0001.JPG.xmp``) and
into the store for originals in object storage (``sidecars/<asset id>/<name>.xmp``); each is
recorded as an ``asset_files`` row of kind ``sidecar``. In a RAW+JPEG pair Lightroom's
``IMG_0001.xmp`` is the raw's (:mod:`kilo.cull.sidecar_targets` decides, and says so).
Originals are never written unless asked (``embed``: the decision goes into the JPEG, TIFF,
PNG or DNG file's own XMP, :mod:`kilo.xmp_embed`). An existing sidecar is parsed and merged:
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

from kilo import store, xmp_embed, xmp_packets
from kilo.catalog import Catalog
from kilo.catalog.assets_repo import record_sidecar
from kilo.catalog.file_reads import latest_file, project_frames
from kilo.clock import parse_uuid
from kilo.cull.sidecar_targets import FileRef, Target, plan_targets
from kilo.errors import DecodeError, InvalidInput, KiloError, NotFound
from kilo.progress import ItemResult, Progress, ProgressCallback, report
from kilo.xmp_packets import NS, Naming, XmpList, XmpValue, q, sidecar_location

__all__ = [
    "NS",
    "PickAs",
    "PickMapping",
    "RejectAs",
    "SidecarState",
    "merge_xmp",
    "read_xmp_state",
    "sidecar_location",
    "write_xmp_sidecars",
]

_RATING, _PICK, _STARRED = q("xmp", "Rating"), q("kilocull", "Pick"), q("kilocull", "Starred")
_SUBJECT, _LABEL = q("dc", "subject"), q("xmp", "Label")
_FOR_EXTENSION = q("photoshop", "SidecarForExtension")
PickAs = Literal["label", "rating", "none"]
RejectAs = Literal["rating", "label", "none"]
#: the color labels Lightroom Classic, Bridge and darktable all know by these names
LABELS = ("Red", "Yellow", "Green", "Blue", "Purple")


@dataclass(frozen=True, slots=True)
class PickMapping:
    """How a pick and a reject show in tools that have no pick flag in XMP.

    A pick: ``label`` (``xmp:Label`` set to ``label``), ``rating`` (at least ``floor``
    stars) or ``none`` (only ``kilocull:Pick``). A reject: ``rating`` (``xmp:Rating`` -1,
    Bridge's reject, which darktable reads as rejected), ``label`` (``xmp:Label`` set to
    ``reject_label``, the stars kept) or ``none`` (only ``kilocull:Pick`` -1, stars kept).
    """

    pick_as: PickAs = "label"
    label: str = "Green"
    floor: int = 1
    reject_as: RejectAs = "rating"
    reject_label: str = "Red"

    def __post_init__(self) -> None:
        if self.pick_as not in ("label", "rating", "none"):
            raise InvalidInput(f"a pick shows as label, rating or none, not {self.pick_as!r}")
        if self.reject_as not in ("rating", "label", "none"):
            raise InvalidInput(f"a reject shows as rating, label or none, not {self.reject_as!r}")
        if not 1 <= self.floor <= 5:
            raise InvalidInput(f"the rating floor of a pick is 1 to 5, not {self.floor}")
        if (
            self.pick_as == "label"
            and self.reject_as == "label"
            and self.label == self.reject_label
        ):
            raise InvalidInput(f"a pick and a reject cannot both be the label {self.label!r}")


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


def _rejected(state: SidecarState) -> bool:
    return state.pick == -1 or state.rating < 0


def _shown_rating(state: SidecarState, mapping: PickMapping) -> int:
    if _rejected(state) and mapping.reject_as == "rating":
        return -1
    stars = max(state.rating, 0)
    if state.pick == 1 and mapping.pick_as == "rating":
        return max(stars, mapping.floor)
    return stars


def _shown_label(had: object, state: SidecarState, mapping: PickMapping) -> XmpValue | bool:
    """The label to write, None to remove kilo's old one, False to leave it alone."""
    if state.pick == 1 and mapping.pick_as == "label":
        return mapping.label
    if _rejected(state) and mapping.reject_as == "label":
        return mapping.reject_label
    ours = {mapping.label} | ({mapping.reject_label} if mapping.reject_as == "label" else set())
    return None if had in ours else False  # kilo's label, no longer true: taken off


def merge_xmp(
    existing: str | bytes | None,
    state: SidecarState,
    mapping: PickMapping | None = None,
    *,
    for_extension: str | None = None,
) -> str:
    """An XMP packet: ``existing`` (parsed, everything kept) with kilo's culling fields set,
    the pick and reject shown as ``mapping`` says; ``for_extension`` (``"CR2"``) is written
    as ``photoshop:SidecarForExtension``, the file of a pair the sidecar belongs to.

    ``state.rating`` is the photo's stars (-1 also means rejected). Keywords are merged
    (those already in the sidecar first). Raises DecodeError when ``existing`` is not XMP,
    so that a foreign file is never overwritten.
    """
    mapping = mapping or PickMapping()
    root = _parse(existing) if existing else xmp_packets.new_packet()
    keywords = _keywords(root)
    keywords += [k for k in state.keywords if k not in keywords]
    values: dict[str, XmpValue] = {
        _RATING: str(_shown_rating(state, mapping)),
        _PICK: str(state.pick),
        _STARRED: "True" if state.starred else "False",
        _SUBJECT: XmpList("Bag", tuple(keywords)) if keywords else None,
    }
    had = xmp_packets.read_properties(root, NS["xmp"]).get("Label")
    label = _shown_label(had, state, mapping)
    if label is not False:
        values[_LABEL] = label if isinstance(label, str) else None
    if for_extension:
        values[_FOR_EXTENSION] = for_extension
    xmp_packets.set_properties(root, values)
    return xmp_packets.serialize_packet(root)


def _state_of(row: dict[str, object]) -> SidecarState:
    rejected, picked = bool(row["rejected"]), bool(row["picked"])
    rating = row["rating"]
    return SidecarState(
        rating=int(rating) if isinstance(rating, int) else 0,  # stars; the pick says reject
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
    embed: bool = False,
    progress: ProgressCallback | None = None,
) -> list[ItemResult]:
    """Write (merge) the sidecar of every asset of the project that has a rating row or
    keywords (all assets with ``include_unrated``), picks and rejects shown as ``picks``
    says (default: the label "Green", the rating -1). With ``embed`` the decision also goes
    into the own XMP of local JPEG, TIFF, PNG and DNG originals (atomically, image data
    unchanged). One ItemResult per asset; ``extra`` holds the sidecar ``uri``, ``embedded``
    (the file written into) and ``notes`` (one plain line per case where a decision shares a
    sidecar or the tool will not see it: :mod:`kilo.cull.sidecar_targets`). Multi-frame
    files get the decisions of their first frame."""
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
    targets = _plan(rows, catalog.settings.store_url, naming, embed)  # pairs: all files
    if asset_ids is not None:
        wanted = {parse_uuid(a, "asset id") for a in asset_ids}
        rows = [r for r in rows if r["id"] in wanted]
    results: list[ItemResult] = []
    done_files: set[str] = set()
    embeds: list[tuple[ItemResult, str, SidecarState]] = []
    total = len(rows)
    for n, row in enumerate(rows, start=1):
        original = _original(row)
        item = row["filename"] or original
        if original in done_files:
            results.append(
                ItemResult(
                    item=item,
                    status="skipped",
                    reason="another frame of this file",
                    asset_id=row["id"],
                )
            )
        elif not (row["has_rating"] or row["keywords"] or include_unrated):
            results.append(
                ItemResult(item=item, status="skipped", reason="no rating", asset_id=row["id"])
            )
        else:
            target = targets[original]
            results.append(_write_one(catalog, row, target, picks))
            if results[-1].status == "ok":
                done_files.add(original)
                if target.embed:
                    embeds.append((results[-1], original, _state_of(row)))
        report(progress, Progress("xmp", n, total, item=item, status=results[-1].status))
    _embed_all(embeds, picks, progress)
    return results


def _embed_all(
    embeds: list[tuple[ItemResult, str, SidecarState]],
    picks: PickMapping | None,
    progress: ProgressCallback | None,
) -> None:
    """Merge each decision into its local file's own XMP (few exiftool runs for all); a file
    that cannot take it turns its result into a failure, the file left as it was."""

    def packet_for(state: SidecarState, original: str) -> xmp_embed.PacketFor:
        def merged(existing: bytes | None) -> str:
            try:
                return merge_xmp(existing, state, picks)
            except DecodeError as exc:
                reason = f"its own XMP cannot be merged ({exc.reason})"
                raise DecodeError(reason, path=original) from None

        return merged

    items = [(store.local_path(o), packet_for(state, o)) for _, o, state in embeds]
    for n, (index, error) in enumerate(xmp_embed.embed_each(items), start=1):
        result, original, _ = embeds[index]
        if error is None:
            result.extra["embedded"] = original
        else:
            result.status, result.reason = "failed", error.message
        report(progress, Progress("embed", n, len(items), item=result.item, status=result.status))


def _original(row: dict[str, object]) -> str:
    return str(row["original_uri"] or row["source_uri"])


def _plan(
    rows: list[dict[str, object]], base: str, naming: Naming, embed: bool
) -> dict[str, Target]:
    """Each original's target (one per file, whatever its frames)."""
    refs: dict[str, FileRef] = {}
    for row in rows:
        original = _original(row)
        if original not in refs:
            name = str(row["filename"] or store.display_name(original))
            refs[original] = FileRef(str(row["id"]), original, name)
    files = list(refs.values())
    planned = plan_targets(files, naming, base, embed=embed)
    return {ref.original: target for ref, target in zip(files, planned, strict=True)}


def _write_sidecar(
    catalog: Catalog, asset_id: str, target: Target, state: SidecarState, picks: PickMapping | None
) -> tuple[str, bool]:
    """Merge the decision into the target's sidecar and record it: (its URI, whether one
    was there)."""
    settings = catalog.settings
    uri = str(target.sidecar)
    existing = store.read_bytes(uri, settings) if store.exists(uri, settings) else None
    data = merge_xmp(existing, state, picks, for_extension=target.for_extension).encode("utf-8")
    store.write_bytes(uri, data, settings)
    record_sidecar(catalog, asset_id, uri, len(data))
    return uri, existing is not None


def _write_one(
    catalog: Catalog, row: dict[str, object], target: Target, picks: PickMapping | None
) -> ItemResult:
    asset_id = str(row["id"])
    original = _original(row)
    item = str(row["filename"] or original)
    notes = [{"kind": n.kind, "text": n.text} for n in target.notes]
    extra: dict[str, object] = {"notes": notes}
    sidecar = target.sidecar
    if sidecar is not None and (sidecar == original or Path(sidecar).suffix.lower() != ".xmp"):
        return ItemResult(
            item=item,
            status="failed",
            reason="sidecar would replace the original",
            asset_id=asset_id,
            extra=extra,
        )
    state = _state_of(row)
    try:
        if sidecar is not None:
            extra["uri"], extra["merged"] = _write_sidecar(catalog, asset_id, target, state, picks)
    except KiloError as exc:
        return ItemResult(
            item=item, status="failed", reason=exc.message, asset_id=asset_id, extra=extra
        )
    if sidecar is None and not target.embed:  # an embed is written afterwards, for all
        reason = "no sidecar of its own: see the note"
        return ItemResult(
            item=item, status="skipped", reason=reason, asset_id=asset_id, extra=extra
        )
    return ItemResult(item=item, status="ok", asset_id=asset_id, extra=extra)
