"""Search filters (the spec's ``AdvancedSearchRequest.filters``) as one DuckDB WHERE clause.

Keys (camelCase as in the spec; snake_case accepted too):

* ``picked`` / ``rejected``: bool, from the ``ratings`` row of the user (no row = neither);
* ``ratingMin``: 1..5, the user's star rating at least this;
* ``cameraModel``: a name or a list; any part of make + model, in any case (``olympus``,
  ``iphone``, ``E-M1``, ``SONY ILCE-6000``);
* ``lens``: a text or a list; case-insensitive substring of the lens model;
* ``dateRange``: ``{"start": "2024-06-01", "end": "2024-06-30"}`` (either may be missing,
  both inclusive), on the local capture date (``captured_at`` + ``captured_offset_min``);
* ``keywords``: a keyword or a list; the asset must carry all of them (case-insensitive);
* ``clusterKind``: ``moment``, ``burst`` or ``duplicate_group`` (or a list): the asset is a
  member of a cluster of that kind;
* ``project``: a project id (the same as the ``project_id`` argument).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from kilo.catalog.assets_repo import LOCAL_TIME
from kilo.catalog.file_reads import IN_CLUSTER_KINDS
from kilo.errors import InvalidInput

CLUSTER_KINDS = ("moment", "burst", "duplicate_group")

_ALIASES = {
    "picked": "picked",
    "rejected": "rejected",
    "ratingmin": "rating_min",
    "rating_min": "rating_min",
    "cameramodel": "camera_model",
    "camera_model": "camera_model",
    "camera": "camera_model",
    "lens": "lens",
    "daterange": "date_range",
    "date_range": "date_range",
    "keywords": "keywords",
    "keyword": "keywords",
    "clusterkind": "cluster_kind",
    "cluster_kind": "cluster_kind",
    "project": "project",
    "projectid": "project",
    "project_id": "project",
}


@dataclass
class SearchFilters:
    picked: bool | None = None
    rejected: bool | None = None
    rating_min: int | None = None
    camera_models: list[str] = field(default_factory=list)
    lenses: list[str] = field(default_factory=list)
    date_start: date | None = None
    date_end: date | None = None
    keywords: list[str] = field(default_factory=list)
    cluster_kinds: list[str] = field(default_factory=list)
    project_id: str | None = None

    def is_empty(self) -> bool:
        return self == SearchFilters(project_id=self.project_id)

    def to_dict(self) -> dict[str, Any]:
        """The camelCase form (what smart collections store)."""
        out: dict[str, Any] = {}
        if self.picked is not None:
            out["picked"] = self.picked
        if self.rejected is not None:
            out["rejected"] = self.rejected
        if self.rating_min is not None:
            out["ratingMin"] = self.rating_min
        if self.camera_models:
            out["cameraModel"] = list(self.camera_models)
        if self.lenses:
            out["lens"] = list(self.lenses)
        if self.date_start or self.date_end:
            out["dateRange"] = {
                k: v.isoformat()
                for k, v in (("start", self.date_start), ("end", self.date_end))
                if v is not None
            }
        if self.keywords:
            out["keywords"] = list(self.keywords)
        if self.cluster_kinds:
            out["clusterKind"] = list(self.cluster_kinds)
        if self.project_id:
            out["project"] = self.project_id
        return out


def _bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "false", "0", "no"):
        return value.lower() in ("true", "1", "yes")
    raise InvalidInput(f"filter {key} must be true or false, got {value!r}")


def _strings(key: str, value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else [value]
    out = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise InvalidInput(f"filter {key} must be a non-empty text or a list of them")
        out.append(item.strip())
    return out


def parse_date(text: Any, key: str = "dateRange") -> date:
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text).strip()[:10])
    except ValueError:
        raise InvalidInput(f"filter {key}: {text!r} is not a date (YYYY-MM-DD)") from None


def parse_filters(raw: dict[str, Any] | SearchFilters | None) -> SearchFilters:
    """Validate a filters object; unknown keys and bad values raise :class:`InvalidInput`."""
    if raw is None:
        return SearchFilters()
    if isinstance(raw, SearchFilters):
        return raw
    if not isinstance(raw, dict):
        raise InvalidInput("filters must be an object")
    f = SearchFilters()
    for key, value in raw.items():
        name = _ALIASES.get(str(key).lower()) or _ALIASES.get(str(key))
        if name is None:
            raise InvalidInput(f"unknown search filter {key!r} (known: {', '.join(_known())})")
        if value is None:
            continue
        if name in ("picked", "rejected"):
            setattr(f, name, _bool(key, value))
        elif name == "rating_min":
            try:
                n = int(value)
            except (TypeError, ValueError):
                raise InvalidInput(f"filter ratingMin must be 1 to 5, got {value!r}") from None
            if isinstance(value, bool) or not 1 <= n <= 5:
                raise InvalidInput(f"filter ratingMin must be 1 to 5, got {value!r}")
            f.rating_min = n
        elif name == "camera_model":
            f.camera_models = _strings(key, value)
        elif name == "lens":
            f.lenses = _strings(key, value)
        elif name == "keywords":
            f.keywords = _strings(key, value)
        elif name == "cluster_kind":
            kinds = _strings(key, value)
            bad = [k for k in kinds if k not in CLUSTER_KINDS]
            if bad:
                raise InvalidInput(f"filter clusterKind must be one of {', '.join(CLUSTER_KINDS)}")
            f.cluster_kinds = kinds
        elif name == "date_range":
            if not isinstance(value, dict) or not set(value) <= {"start", "end"}:
                raise InvalidInput('filter dateRange must be {"start": date, "end": date}')
            f.date_start = parse_date(value["start"]) if value.get("start") else None
            f.date_end = parse_date(value["end"]) if value.get("end") else None
            if f.date_start and f.date_end and f.date_start > f.date_end:
                raise InvalidInput("filter dateRange: start is after end")
        elif name == "project":
            from kilo.clock import parse_uuid

            f.project_id = parse_uuid(str(value), "project id")
    return f


def _known() -> list[str]:
    return [
        "picked",
        "rejected",
        "ratingMin",
        "cameraModel",
        "lens",
        "dateRange",
        "keywords",
        "clusterKind",
        "project",
    ]


def filter_sql(f: SearchFilters, user_id: str) -> tuple[str, list[Any], bool]:
    """(WHERE clause over ``assets a LEFT JOIN ratings r``, params, needs the ratings join)."""
    where = ["a.state <> 'quarantined'"]
    params: list[Any] = []
    ratings = False
    if f.project_id:
        where.append("a.project_id = ?")
        params.append(f.project_id)
    if f.picked is not None:
        ratings = True
        where.append("coalesce(r.picked, false) = ?")
        params.append(f.picked)
    if f.rejected is not None:
        ratings = True
        where.append("coalesce(r.rejected, false) = ?")
        params.append(f.rejected)
    if f.rating_min is not None:
        ratings = True
        where.append("r.rating >= ?")
        params.append(f.rating_min)
    if f.camera_models:  # any part of "make model", in any case: olympus, iphone, E-M1
        names = [c.strip().lower() for c in f.camera_models if c.strip()]
        where.append(
            "EXISTS (SELECT 1 FROM (SELECT unnest(?::VARCHAR[]) AS n) WHERE contains(lower("
            "coalesce(a.camera_make, '') || ' ' || coalesce(a.camera_model, '')), n))"
        )
        params.append(names)
    if f.lenses:
        where.append(
            "("
            + " OR ".join("contains(lower(coalesce(a.lens_model, '')), ?)" for _ in f.lenses)
            + ")"
        )
        params += [lens.lower() for lens in f.lenses]
    if f.date_start is not None:
        where.append(f"CAST({LOCAL_TIME} AS DATE) >= ?")
        params.append(f.date_start)
    if f.date_end is not None:
        where.append(f"CAST({LOCAL_TIME} AS DATE) <= ?")
        params.append(f.date_end)
    for kw in f.keywords:
        where.append(
            "list_contains(list_transform(coalesce(a.keywords, []), lambda x: lower(x)), ?)"
        )
        params.append(kw.lower())
    if f.cluster_kinds:
        where.append(IN_CLUSTER_KINDS)
        params.append(list(f.cluster_kinds))
    if ratings:
        params.insert(0, user_id)
    return " AND ".join(where), params, ratings


def from_clause(ratings: bool) -> str:
    if ratings:
        return "assets a LEFT JOIN ratings r ON r.asset_id = a.id AND r.user_id = ?"
    return "assets a"


_DATE_WORD = re.compile(r"(?<![\w-])(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?![\w-])")


def extract_date_words(text: str) -> tuple[str, date | None, date | None]:
    """Pull date words (``2024``, ``2024-06``, ``2024-06-15``) out of a query: (rest of the
    text, start, end) with the range each word covers (several words: their hull)."""
    import calendar

    starts: list[date] = []
    ends: list[date] = []

    def take(m: re.Match[str]) -> str:
        y, mo, d = int(m.group(1)), m.group(2), m.group(3)
        if not 1800 <= y <= 2200:
            return m.group(0)
        try:
            if d:
                s = e = date(y, int(mo), int(d))
            elif mo:
                month = int(mo)
                s = date(y, month, 1)
                e = date(y, month, calendar.monthrange(y, month)[1])
            else:
                s, e = date(y, 1, 1), date(y, 12, 31)
        except ValueError:
            return m.group(0)
        starts.append(s)
        ends.append(e)
        return " "

    rest = " ".join(_DATE_WORD.sub(take, text).split())
    if not starts:
        return text.strip(), None, None
    return rest, min(starts), max(ends)
