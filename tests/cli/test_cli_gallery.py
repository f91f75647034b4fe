"""``kilo gallery`` end to end: a gallery of the picks printed as a link, a client's
favorites through the library's visitor side, and ``selections --apply`` bringing them back
as picks (one undo) and into XMP sidecars."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from kilo.catalog import open_catalog
from kilo.gallery.visitors import (
    add_comment,
    open_gallery,
    set_favorite,
    start_visit,
    submit_selection,
)
from kilo.settings import load_settings
from support.cli import run

EXAMPLES = Path(__file__).parents[2] / "examples" / "photos"


def test_create_prints_a_link_and_selections_come_back_as_picks(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = tmp_path / "card"
    shutil.copytree(EXAMPLES, card, ignore=shutil.ignore_patterns("*.md", "flower*"))
    code, _, err = run(capsys, "ingest", str(card), "-p", "Smith wedding", "--create")
    assert code == 0, err
    code, _, err = run(capsys, "gallery", "create", "Smith wedding", "--password", "rings")
    assert code == 2 and "no photos to share" in err  # nothing picked yet: said in one line
    run(
        capsys,
        "cull",
        "apply",
        "Smith wedding",
        "--pick",
        "cv_leuvenA.jpg",
        "--pick",
        "cv_leuvenB.jpg",
        "--pick",
        "group_t1.jpg",
    )
    code, out, err = run(
        capsys,
        "gallery",
        "create",
        "Smith wedding",
        "--picked",
        "--password",
        "rings",
        "--expires",
        "2027-01-31",
    )
    assert code == 0, err
    link = out.strip()
    assert link.startswith("http://127.0.0.1:8080/g/") and len(link.rsplit("/", 1)[1]) >= 22
    assert "of 3 photos" in err
    code, out, _ = run(capsys, "gallery", "show", "smith", "--json")
    shown = json.loads(out)
    assert shown["requiresPassword"] and shown["expiresAt"].startswith("2027-01-31T23:59:59")
    assert "password" not in shown and "passwordHash" not in out
    code, _, err = run(capsys, "gallery", "update", "smith", "--expires", "soon")
    assert code == 2 and err.count("\n") == 1

    # a client favorites two photos and comments; another favorites one and does not submit
    with open_catalog(load_settings(home=home)) as cat:
        gallery = open_gallery(cat, link.rsplit("/", 1)[1])
        ids = [
            str(r[0])
            for r in cat.fetchall(
                "SELECT asset_id FROM gallery_assets WHERE gallery_id = ? ORDER BY position",
                [gallery["id"]],
            )
        ]
        _, anna = start_visit(cat, gallery)
        _, ben = start_visit(cat, gallery)
        set_favorite(cat, anna, ids[0], True)
        set_favorite(cat, anna, ids[1], True)
        add_comment(cat, anna, ids[0], "this one, in black and white?")
        submit_selection(cat, anna, "Anna")
        set_favorite(cat, ben, ids[2], True)

    code, out, _ = run(capsys, "gallery", "selections", "smith", "--json")
    sels = json.loads(out)
    assert [(s["visitor"], len(s["assetIds"])) for s in sels] == [("v1", 2), ("v2", 1)]
    code, out, _ = run(capsys, "gallery", "activity", "smith", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["kind"] for r in rows].count("favorite") == 3
    assert any(r["text"] == "this one, in black and white?" for r in rows)
    code, out, _ = run(capsys, "gallery", "activity", "smith", "--by", "visitor", "--json")
    assert [(r["visitor"], r["views"], r["favorites"], r["comments"]) for r in json.loads(out)] == [
        ("v1", 1, 2, 1),
        ("v2", 1, 1, 0),
    ]
    code, out, _ = run(capsys, "gallery", "activity", "smith", "--by", "asset", "--csv")
    per_photo = list(csv.DictReader(io.StringIO(out)))
    assert per_photo[0]["favorites"] == "1" and per_photo[0]["comments"] == "1"

    run(
        capsys,
        "cull",
        "apply",
        "Smith wedding",
        "--clear",
        "cv_leuvenA.jpg",
        "--clear",
        "cv_leuvenB.jpg",
        "--clear",
        "group_t1.jpg",
    )
    code, out, err = run(
        capsys,
        "gallery",
        "selections",
        "smith",
        "--apply",
        "--submitted-only",
        "--write-xmp",
        "--json",
    )
    assert code == 0, err
    applied = json.loads(out)
    assert sorted(applied["picked"]) == sorted(ids[:2]) and applied["xmpWritten"] >= 2
    code, out, _ = run(capsys, "assets", "list", "Smith wedding", "--picked", "--json")
    assert {a["id"] for a in json.loads(out)} == set(ids[:2])
    assert list(card.glob("*.xmp"))
    code, _, err = run(capsys, "cull", "undo", "Smith wedding")
    assert code == 0
    code, out, _ = run(capsys, "assets", "list", "Smith wedding", "--picked", "--json")
    assert json.loads(out) == []

    code, _, err = run(capsys, "gallery", "revoke", "smith")
    assert code == 0 and "revoked" in err
    code, out, _ = run(capsys, "gallery", "list", "--json")
    assert json.loads(out)[0]["status"] == "revoked"
    code, out, _ = run(capsys, "gallery", "link", "smith")
    assert out.strip() != link and out.strip().startswith("http://127.0.0.1:8080/g/")
