"""Where each file's culling decision goes so that the chosen tool reads it.

Lightroom Classic names a raw file's sidecar ``IMG_0001.xmp`` and reads sidecars only for
proprietary raw files: JPEG, TIFF, PNG, PSD and DNG files are read from their own XMP. So in
a RAW+JPEG pair (``IMG_0001.CR2`` + ``IMG_0001.jpg``) ``IMG_0001.xmp`` is the raw's, marked
with ``photoshop:SidecarForExtension``, and the JPEG's decision reaches Lightroom only
embedded in the JPEG (``--embed``). darktable names a sidecar after the whole file name
(``IMG_0001.CR2.xmp``, ``IMG_0001.jpg.xmp``): one per file, never shared.

:func:`plan_targets` decides this for a list of files and says, in one plain line per case
(:class:`Note`), when two files would share one sidecar or when the chosen tool will not see
a decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from kilo.imaging.sniff import RAW_EXTENSIONS
from kilo.store import display_name, is_local
from kilo.xmp_embed import can_embed
from kilo.xmp_packets import Naming, sidecar_location

__all__ = ["LIGHTROOM_READS_EMBEDDED", "FileRef", "Note", "NoteKind", "Target", "plan_targets"]

#: files Lightroom Classic reads from their own XMP (it ignores sidecars beside them)
LIGHTROOM_READS_EMBEDDED = frozenset({".jpg", ".jpeg", ".tif", ".tiff", ".png", ".psd", ".dng"})

NoteKind = Literal["shared_sidecar", "not_read_by_lightroom", "embed_refused", "cannot_embed"]


@dataclass(frozen=True, slots=True)
class FileRef:
    """One original: its asset, its URI and the name shown."""

    asset_id: str
    original: str
    name: str


@dataclass(frozen=True, slots=True)
class Note:
    """One plain line about where a decision went (``kind`` for scripts)."""

    kind: NoteKind
    text: str


@dataclass(slots=True)
class Target:
    """Where one file's decision is written: a sidecar (None: none), the extension the
    sidecar declares it belongs to, and whether it is also embedded in the file."""

    sidecar: str | None
    for_extension: str | None = None
    embed: bool = False
    notes: list[Note] = field(default_factory=list)


def _suffix(ref: FileRef) -> str:
    return PurePosixPath(ref.name).suffix.lower()


def _owner_rank(ref: FileRef) -> int:
    """Which file of a group Lightroom pairs ``stem.xmp`` with: a proprietary raw, then a
    DNG, then any other file it reads sidecars for, then the rest."""
    suffix = _suffix(ref)
    if suffix in RAW_EXTENSIONS and suffix != ".dng":
        return 0
    if suffix == ".dng":
        return 1
    return 3 if suffix in LIGHTROOM_READS_EMBEDDED else 2


def _extension(ref: FileRef) -> str:
    return _suffix(ref).lstrip(".").upper()


def _kind(ref: FileRef) -> str:
    """The file's type as a person says it: JPEG, TIFF, PNG, DNG..."""
    return {"JPG": "JPEG", "TIF": "TIFF"}.get(_extension(ref), _extension(ref))


def _embed_or_note(ref: FileRef, target: Target, sidecar_name: str | None) -> None:
    """Set ``target.embed`` when the file can take it, else say why not (a proprietary raw
    needs no word: its sidecar is what every tool reads)."""
    if _owner_rank(ref) == 0:
        return
    where = f"its decision is in {sidecar_name}" if sidecar_name else "its decision is not written"
    if not is_local(ref.original):
        scheme = ref.original.split("://", 1)[0]
        text = (
            f"{ref.name}: not embedded: the original is in an object store ({scheme}://), "
            f"which kilo never rewrites; {where}"
        )
        target.notes.append(Note("embed_refused", text))
    elif not can_embed(ref.name):
        text = f"{ref.name}: kilo embeds only into JPEG, TIFF, PNG and DNG files; {where}"
        target.notes.append(Note("cannot_embed", text))
    else:
        target.embed = True


def _embeddable(ref: FileRef) -> bool:
    return is_local(ref.original) and can_embed(ref.name)


def _plan_lightroom(group: list[FileRef], sidecar: str, embed: bool) -> list[Target]:
    owner = min(group, key=_owner_rank)  # min keeps the first of equals
    sidecar_name = display_name(sidecar)
    targets = []
    for ref in group:
        if ref is owner:
            target = Target(sidecar, for_extension=_extension(ref))
            if embed:
                _embed_or_note(ref, target, sidecar_name)
            if _suffix(ref) in LIGHTROOM_READS_EMBEDDED and not target.embed:
                text = (
                    f"{ref.name}: Lightroom Classic reads a {_kind(ref)} file's own XMP, "
                    f"not {sidecar_name}"
                )
                if _embeddable(ref):
                    text += ": --embed writes the decision into the file"
                target.notes.append(Note("not_read_by_lightroom", text))
        else:
            target = Target(None)
            text = (
                f"{ref.name} and {owner.name} would share {sidecar_name}; Lightroom Classic "
                f"pairs it with {owner.name}, so it holds {owner.name}'s decision only"
            )
            if embed and _embeddable(ref):
                target.embed = True
                text += f" and {ref.name}'s goes into the file itself"
            elif _embeddable(ref):
                text += f" ({ref.name}'s is read by Lightroom only from the file: --embed)"
            else:
                text += f" ({ref.name}'s decision is not written)"
                if embed:
                    _embed_or_note(ref, target, None)
            target.notes.insert(0, Note("shared_sidecar", text))
        targets.append(target)
    return targets


def plan_targets(
    files: Sequence[FileRef], naming: Naming, store_base: str, *, embed: bool = False
) -> list[Target]:
    """One :class:`Target` per file (same order). Files of one folder that share a name but
    not an extension are a group: with ``lightroom`` naming their one ``stem.xmp`` goes to the
    raw file (else the first), the others get none; with ``darktable`` naming every file has
    its own. ``embed`` also writes into the files whose own XMP kilo can write (local JPEG,
    TIFF, PNG and DNG files); originals in object stores are refused with a note."""
    where = [sidecar_location(f.original, f.asset_id, store_base, naming) for f in files]
    out: list[Target | None] = [None] * len(files)
    if naming == "darktable":
        for n, ref in enumerate(files):
            target = Target(where[n])
            if embed:
                _embed_or_note(ref, target, display_name(where[n]))
            out[n] = target
        return [t for t in out if t is not None]
    groups: dict[str, list[int]] = {}
    for n, sidecar in enumerate(where):
        groups.setdefault(sidecar, []).append(n)
    for sidecar, members in groups.items():
        planned = _plan_lightroom([files[n] for n in members], sidecar, embed)
        for n, target in zip(members, planned, strict=True):
            out[n] = target
    return [t for t in out if t is not None]
