"""Export file names from a template such as ``{date}_{project}_{seq:04d}``.

Every name is one safe path component: the fields are sanitised (no separators, no ``..``, no
control characters, no reserved Windows names), the template may only use known fields without
attribute or index access, and :class:`NameAllocator` makes names unique (case-insensitively,
so they survive a copy to macOS or Windows) against each other and against files already at
the destination.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from kilo.clock import UNDATED
from kilo.errors import InvalidInput

DEFAULT_TEMPLATE = "{date}_{project}_{seq:04d}"
NAME_MAX = 150
#: the widest padding or precision a field may ask for (``{seq:0999999999d}`` would build a
#: gigabyte string per file)
SPEC_MAX = 64
FIELDS = frozenset(
    {"date", "datetime", "time", "project", "seq", "filename", "stem", "asset", "preset", "camera"}
)
_UNSAFE = re.compile(r"[^\w.\-+ ]+", re.UNICODE)
_RUNS = re.compile(r"[_\s]{2,}")
_NUMBER = re.compile(r"\d+")
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)


def sanitize_component(text: str, *, fallback: str = "untitled", max_len: int = NAME_MAX) -> str:
    """``text`` as one safe file name component (no separators, no leading dots)."""
    text = unicodedata.normalize("NFC", str(text))
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = text.replace("/", "_").replace("\\", "_").replace(":", "-")
    text = _UNSAFE.sub("_", text)
    text = _RUNS.sub("_", text).strip(" ._-")
    text = text.replace(" ", "-")
    if not text or set(text) <= {"."}:
        text = fallback
    if text.split(".")[0].lower() in _RESERVED:
        text = f"_{text}"
    return text[:max_len].rstrip(" .") or fallback


def check_template(template: str) -> str:
    """Validate a name template: known fields only, no attribute/index access, no separators."""
    if not template or not template.strip():
        raise InvalidInput("the file name template is empty")
    if "/" in template or "\\" in template:
        raise InvalidInput("the file name template must not contain path separators")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InvalidInput(f"the file name template is malformed: {exc}") from None
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in FIELDS:
            known = ", ".join(sorted(FIELDS))
            raise InvalidInput(f"unknown field {{{field}}} in the name template (known: {known})")
        if conversion:
            raise InvalidInput("conversions (!r, !s) are not allowed in the name template")
        if spec and "{" in spec:
            raise InvalidInput("nested fields are not allowed in the name template")
        if spec and any(int(n) > SPEC_MAX for n in _NUMBER.findall(spec)):
            raise InvalidInput(f"a field's width in the name template is at most {SPEC_MAX}")
    try:  # a spec that does not suit its field (``{date:d}``) is refused now, not per file
        template.format(**_values(NameFields(seq=1, captured_at=datetime(2000, 1, 1))))
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise InvalidInput(f"the file name template cannot be applied: {exc}") from None
    return template


@dataclass(frozen=True, slots=True)
class NameFields:
    """The values a template can use for one exported file."""

    seq: int
    project: str = "export"
    captured_at: datetime | None = None
    export_date: date | None = None
    filename: str = ""
    asset_id: str = ""
    preset: str = ""
    camera: str = ""


def format_name(template: str, fields: NameFields) -> str:
    """The sanitised stem (no extension) of one file for ``fields``."""
    check_template(template)
    try:
        raw = template.format(**_values(fields))
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise InvalidInput(f"the file name template cannot be applied: {exc}") from None
    return sanitize_component(raw, fallback=f"photo_{fields.seq:04d}")


def _values(fields: NameFields) -> dict[str, object]:
    """The template's fields for one file, each already one safe name component."""
    when = fields.captured_at  # the photo's own local time; undated photos say so
    stem = fields.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    values: dict[str, object] = {
        "seq": fields.seq,
        "date": when.date().isoformat() if when else UNDATED,
        "datetime": when.strftime("%Y-%m-%d_%H%M%S") if when else UNDATED,
        "time": when.strftime("%H%M%S") if when else "",
        "project": sanitize_component(fields.project, fallback="project", max_len=60),
        "filename": sanitize_component(stem, fallback="photo", max_len=80),
        "stem": sanitize_component(stem, fallback="photo", max_len=80),
        "asset": fields.asset_id[:8],
        "preset": fields.preset,
        "camera": sanitize_component(fields.camera, fallback="camera", max_len=40)
        if fields.camera
        else "",
    }
    return values


class NameAllocator:
    """Hands out unique file names: ``stem.ext``, then ``stem-2.ext``, ``stem-3.ext``..."""

    def __init__(self, existing: Iterable[str] = ()) -> None:
        self._taken: set[str] = {name.lower() for name in existing}

    def allocate(self, stem: str, ext: str) -> str:
        stem = sanitize_component(stem)
        ext = sanitize_component(ext.lstrip("."), fallback="bin", max_len=10).lower()
        candidate = f"{stem}.{ext}"
        n = 2
        while candidate.lower() in self._taken:
            candidate = f"{stem}-{n}.{ext}"
            n += 1
        self._taken.add(candidate.lower())
        return candidate
