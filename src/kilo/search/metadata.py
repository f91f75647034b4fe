"""Search without weights: every word of the query must match some field of the asset.

Fields and weights: keyword 1.0, IPTC 0.9, filename 0.8, camera 0.7, lens 0.7, notes 0.6.
The score of an asset is the mean over the words of the best field each word matched, so a
word found among the keywords counts more than one found in the filename. Date words
(``2024-06``) are turned into a date filter before this runs.
"""

from __future__ import annotations

import re
from typing import Any

FIELDS: tuple[tuple[str, str, float], ...] = (
    ("keyword", "list_transform(coalesce(a.keywords, []), lambda x: lower(x))", 1.0),
    ("iptc", "lower(coalesce(CAST(a.iptc AS VARCHAR), ''))", 0.9),
    ("filename", "lower(a.filename)", 0.8),
    (
        "camera",
        "lower(coalesce(a.camera_make, '') || ' ' || coalesce(a.camera_model, ''))",
        0.7,
    ),
    ("lens", "lower(coalesce(a.lens_model, ''))", 0.7),
    ("notes", "lower(coalesce(a.notes, ''))", 0.6),
)
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "with",
        "and",
        "or",
        "for",
        "to",
        "from",
        "by",
        "photo",
        "photos",
        "picture",
        "pictures",
        "image",
        "images",
        "shot",
        "shots",
    ]
)


def query_words(text: str) -> list[str]:
    """Lower-case words of the query, stop words dropped, a plural 's' stripped."""
    words = []
    for w in re.findall(r"[\w.-]+", text.lower()):
        w = w.strip(".-")
        if not w or w in STOPWORDS:
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        words.append(w)
    return words


def _field_match(expr: str, name: str) -> str:
    if name == "keyword":
        return f"len(list_filter({expr}, lambda x: contains(x, ?))) > 0"
    return f"contains({expr}, ?)"


def word_score_sql(words: list[str]) -> tuple[str, list[Any], str, list[Any]]:
    """(score expression, its params, all-words-match condition, its params)."""
    score_parts: list[str] = []
    cond_parts: list[str] = []
    score_params: list[Any] = []
    cond_params: list[Any] = []
    for w in words:
        cases = " ".join(
            f"WHEN {_field_match(expr, name)} THEN {weight}" for name, expr, weight in FIELDS
        )
        score_parts.append(f"(CASE {cases} ELSE 0 END)")
        score_params += [w] * len(FIELDS)
        ors = " OR ".join(_field_match(expr, name) for name, expr, _ in FIELDS)
        cond_parts.append(f"({ors})")
        cond_params += [w] * len(FIELDS)
    score = "(" + " + ".join(score_parts) + f") / {len(words)}"
    return score, score_params, " AND ".join(cond_parts), cond_params


def highlights_of(row: dict[str, Any], words: list[str]) -> list[str]:
    """Which field matched each word, e.g. ``keyword: flower``, ``filename: flower.png``."""
    out: list[str] = []
    keywords = [str(k) for k in row.get("keywords") or []]
    fields = {
        "iptc": str(row.get("iptc") or ""),
        "filename": str(row.get("filename") or ""),
        "camera": " ".join(str(x) for x in (row.get("camera_make"), row.get("camera_model")) if x),
        "lens": str(row.get("lens_model") or ""),
        "notes": str(row.get("notes") or ""),
    }
    for w in words:
        hit = next((k for k in keywords if w in k.lower()), None)
        if hit is not None:
            out.append(f"keyword: {hit}")
            continue
        for name, value in fields.items():
            if w in value.lower():
                shown = value if len(value) <= 60 else value[:57] + "..."
                out.append(f"{name}: {shown}")
                break
    return list(dict.fromkeys(out))
