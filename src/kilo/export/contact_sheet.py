"""Contact sheets: a proofing PDF rendered with jinja2 + WeasyPrint.

A cover (project title, date, counts, a hero picture), then the photos in a grid grouped under
cluster headers, each with its number, file name, capture time, rating stars and a pick or
reject mark; page numbers come from CSS ``@page`` counters. A4 or Letter. Thumbnails are
embedded as ``file://`` links when they are local JPEGs (WeasyPrint passes JPEG data through
unchanged, so a few hundred photos stay fast and small) and as data URIs otherwise.

Titles, file names and group headers come from users: the HTML is autoescaped, the footer
(inside CSS) is CSS-escaped, and WeasyPrint loads nothing but the sheet's own thumbnails
(:class:`_ThumbnailsOnly`): no other ``file://`` path, no ``http(s)://``.
"""

from __future__ import annotations

import base64
import io
import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from PIL import Image

from kilo.clock import format_capture
from kilo.errors import InvalidInput

Paper = Literal["A4", "Letter"]
PAPER_WIDTH_MM = {"A4": 210.0, "Letter": 215.9}
MARGIN_MM = 12.0
GAP_MM = 3.0
THUMB_PX = 480
log = logging.getLogger(__name__)


@dataclass(slots=True)
class SheetItem:
    """One photo on the sheet. ``thumbnail``: a local path, a file:// or data: URI, or an image."""

    filename: str
    thumbnail: str | Path | Image.Image | bytes | None
    captured_at: datetime | None = None
    rating: int | None = None
    picked: bool = False
    rejected: bool = False
    group: str | None = None


@dataclass(slots=True)
class SheetSpec:
    title: str
    paper: Paper = "A4"
    columns: int = 4
    sheet_date: date | None = None
    subtitle: str | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)


def _data_uri(img: Image.Image) -> str:
    img = img.convert("RGB")
    if max(img.size) > THUMB_PX:
        img.thumbnail((THUMB_PX, THUMB_PX), Image.Resampling.LANCZOS, reducing_gap=2.0)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=82)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def thumbnail_src(thumb: str | Path | Image.Image | bytes | None) -> str | None:
    """A URI WeasyPrint can load for a thumbnail (None when there is none)."""
    if thumb is None:
        return None
    if isinstance(thumb, Image.Image):
        return _data_uri(thumb)
    if isinstance(thumb, bytes):
        if thumb[:2] == b"\xff\xd8" and len(thumb) < 400_000:
            return "data:image/jpeg;base64," + base64.b64encode(thumb).decode("ascii")
        with Image.open(io.BytesIO(thumb)) as im:
            return _data_uri(im)
    text = str(thumb)
    if text.startswith(("data:", "file://")):
        return text
    path = Path(text)
    if not path.is_file():
        return None
    if path.suffix.lower() in (".jpg", ".jpeg") and path.stat().st_size < 400_000:
        return path.absolute().as_uri()
    with Image.open(path) as im:
        return _data_uri(im)


def _css_string(text: str) -> str:
    """``text`` inside a double-quoted CSS string: letters, digits and spaces as they are,
    control characters (a CSS newline ends the string) as spaces, anything else as a CSS
    escape (so no quote, backslash or ``</style>`` can end the string or the sheet)."""
    out = []
    for ch in text:
        if ch.isalnum() or ch == " ":
            out.append(ch)
        elif unicodedata.category(ch)[0] in "CZ":
            out.append(" ")
        else:
            out.append(f"\\{ord(ch):x} ")
    return "".join(out)


def _file_path(url: str) -> Path | None:
    """The local path of a ``file:`` URL on this machine (None for anything else)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    return Path(url2pathname(unquote(parts.path))).absolute()


def _thumbnails_only(allowed: frozenset[Path]) -> Any:
    """A WeasyPrint URL fetcher that loads ``data:`` URIs and the files in ``allowed`` (the
    sheet's own thumbnails) and refuses every other URL."""
    from weasyprint.urls import URLFetcher

    class _ThumbnailsOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data" or (scheme == "file" and _file_path(url) in allowed):
                return super().fetch(url, headers)
            log.debug("contact sheet: refused to load %.80s", url)
            raise ValueError("a contact sheet loads only its own thumbnails")

    return _ThumbnailsOnly(allowed_protocols=("data", "file"), allow_redirects=False)


def _time_label(when: datetime | None) -> str:
    return format_capture(when)


def _fold_single_shots(groups: list[dict[str, object]]) -> list[dict[str, object]]:
    """Runs of two or more one-photo groups as one "Single shots" section (headed by the
    span of their capture times), so a shoot of many lone frames is not a header and a
    mostly empty row per photo."""
    out: list[dict[str, object]] = []
    run: list[dict[str, object]] = []

    def flush() -> None:
        if len(run) == 1:
            out.append(run[0])
        elif run:
            photos = [p for g in run for p in g["photos"]]  # type: ignore[attr-defined]
            times = [p["captured_at"] for p in photos if p["captured_at"]]
            span = ""
            if times:
                lo, hi = min(times), max(times)
                span = f"{lo:%d %b %Y}" + (f" – {hi:%d %b %Y}" if hi.date() != lo.date() else "")
            title = "Single shots" + (f", {span}" if span else "")
            out.append({"key": ("singles", len(out)), "title": title, "photos": photos})
        run.clear()

    for g in groups:
        if len(g["photos"]) == 1 and g["key"] is not None:  # type: ignore[arg-type]
            run.append(g)
            continue
        flush()
        out.append(g)
    flush()
    return out


def build_html(items: Sequence[SheetItem], spec: SheetSpec) -> str:
    """The contact sheet as HTML (what :func:`render_contact_sheet` prints)."""
    return _sheet_html(items, spec)[0]


def _sheet_html(items: Sequence[SheetItem], spec: SheetSpec) -> tuple[str, frozenset[Path]]:
    """The sheet's HTML and the local files it shows (all the PDF may load)."""
    import jinja2
    from markupsafe import Markup

    if spec.paper not in PAPER_WIDTH_MM:
        raise InvalidInput(f"paper must be A4 or Letter, not {spec.paper!r}")
    if not 2 <= spec.columns <= 8:
        raise InvalidInput("columns must be between 2 and 8")
    usable = PAPER_WIDTH_MM[spec.paper] - 2 * MARGIN_MM
    cell_w = (usable - GAP_MM * (spec.columns - 1)) / spec.columns - 0.05
    groups: list[dict[str, object]] = []
    picked = sum(1 for it in items if it.picked)
    rejected = sum(1 for it in items if it.rejected)
    hero = None
    for number, it in enumerate(items, start=1):
        src = thumbnail_src(it.thumbnail)
        if hero is None and src and (it.picked or number == len(items)):
            hero = src
        entry = {
            "captured_at": it.captured_at,
            "number": number,
            "filename": it.filename,
            "src": src,
            "time_label": _time_label(it.captured_at),
            "rating": max(0, min(5, int(it.rating or 0))),
            "picked": it.picked,
            "rejected": it.rejected,
        }
        if not groups or groups[-1]["key"] != it.group:
            groups.append({"key": it.group, "title": it.group, "photos": []})
        group_items = groups[-1]["photos"]
        assert isinstance(group_items, list)
        group_items.append(entry)
    if hero is None and items:
        hero = thumbnail_src(items[0].thumbnail)
    shown = [hero] + [e["src"] for g in groups for e in g["photos"]]  # type: ignore[attr-defined]
    files = frozenset(p for p in (_file_path(str(u)) for u in shown if u) if p is not None)
    groups = _fold_single_shots(groups)
    times = [it.captured_at for it in items if it.captured_at]
    sheet_date = spec.sheet_date or date.today()
    facts = [("Photos", str(len(items)))]
    if picked or rejected:
        facts.append(("Picks / rejects", f"{picked} / {rejected}"))
    if times:
        first, last = min(times), max(times)
        span = first.strftime("%Y-%m-%d %H:%M")
        if last.date() != first.date():
            span += " – " + last.strftime("%Y-%m-%d %H:%M")
        elif last != first:
            span += " – " + last.strftime("%H:%M")
        facts.append(("Captured", span))
    facts += spec.facts
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kilo.export", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.get_template("contact_sheet.html.j2")
    footer = f"{spec.title} · contact sheet · {sheet_date.isoformat()}"
    html = template.render(
        title=spec.title,
        paper=f"{spec.paper} portrait",
        columns=spec.columns,
        half_gap=f"{GAP_MM / 2}mm",
        thumb_height=f"{cell_w * 0.78:.2f}mm",
        footer=Markup(_css_string(footer)),
        date_label=spec.subtitle or sheet_date.strftime("%d %B %Y"),
        facts=facts,
        hero=hero,
        groups=groups,
    )
    return html, files


def render_contact_sheet(items: Sequence[SheetItem], spec: SheetSpec) -> bytes:
    """The contact sheet as PDF bytes."""
    from PIL import ImageFile
    from weasyprint import HTML

    ImageFile.LOAD_TRUNCATED_IMAGES = False  # WeasyPrint turns it on at import; kilo never

    if not items:
        raise InvalidInput("a contact sheet needs at least one photo")
    html, files = _sheet_html(items, spec)
    pdf: bytes = HTML(string=html, url_fetcher=_thumbnails_only(files)).write_pdf()
    return pdf
