"""HTTP answers what the CLI answers (issue 29): one winner action for every front end, and a
project's pick counts are those of the user the answer is for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kilo.catalog import Catalog, open_catalog
from kilo.cull import pick_winner, undo
from kilo.projects import create_project, get_project
from kilo.settings import load_settings
from support import api as api_support
from support.api import Mailbox, login
from support.cli import run
from support.cull_data import CullData, build_cull_project

# the HTTP fixtures (tests/server/conftest.py has them for the tests there)
api_settings, client, mailbox = api_support.api_settings, api_support.client, api_support.mailbox


def _shoot_over_http(
    client: TestClient, box: Mailbox, shared_photos_dir: Path
) -> tuple[dict[str, str], CullData]:
    """A web user's project made over HTTP, filled with the cull fixture's photos and clusters."""
    who = login(client, box, "web@example.com")
    project = client.post("/projects", json={"title": "Parity"}, headers=who).json()
    catalog: Catalog = client.app.state.catalog  # type: ignore[attr-defined]
    return who, build_cull_project(catalog, project["id"], shared_photos_dir)


# -- (a) pickedCount / rejectedCount are the caller's -------------------------------------
def test_project_counts_over_http_are_the_callers_decisions(
    client: TestClient, mailbox: tuple[Mailbox, int], shared_photos_dir: Path
) -> None:
    who, data = _shoot_over_http(client, mailbox[0], shared_photos_dir)
    pid = data.project_id
    a, b, c = list(data.assets.values())[:3]
    body = {
        "actions": [
            {"assetId": a, "picked": True},
            {"assetId": b, "picked": True},
            {"assetId": c, "rejected": True},
        ]
    }
    assert (
        client.post(f"/projects/{pid}/cull:applyAction", json=body, headers=who).status_code == 200
    )
    want = {"pickedCount": 2, "rejectedCount": 1}
    got = client.get(f"/projects/{pid}", headers=who).json()["stats"]
    assert {k: got[k] for k in want} == want
    listed = client.get("/projects", headers=who).json()["items"][0]["stats"]
    assert {k: listed[k] for k in want} == want
    patched = client.patch(f"/projects/{pid}", json={"description": "x"}, headers=who).json()
    assert {k: patched["stats"][k] for k in want} == want
    # the library (and the CLI) count the local user's: none of these
    catalog: Catalog = client.app.state.catalog  # type: ignore[attr-defined]
    assert get_project(catalog, pid).stats["pickedCount"] == 0


# -- (b) one winner action ----------------------------------------------------------------
def _outcome(catalog: Catalog, user: str, data: CullData, cid: str) -> dict[str, Any]:
    """What a winner choice leaves in the catalog, by file name (ids differ run to run)."""
    names = {aid: name for name, aid in data.assets.items()}
    cluster = catalog.fetchdict(
        "SELECT winner_asset_id, winner_source, reviewed FROM clusters WHERE id = ?",
        [cid],
    )
    assert cluster is not None
    picked = catalog.fetchall(
        "SELECT r.asset_id FROM ratings r JOIN assets a ON a.id = r.asset_id "
        "WHERE a.project_id = ? AND r.user_id = ? AND r.picked",
        [data.project_id, user],
    )
    log = catalog.fetchall(
        "SELECT kind, undone FROM cull_actions WHERE project_id = ? AND user_id = ? ORDER BY id",
        [data.project_id, user],
    )
    taste = catalog.scalar("SELECT pair_count FROM preference_models WHERE user_id = ?", [user])
    first = catalog.scalar(
        "SELECT asset_id FROM cluster_members WHERE cluster_id = ? AND rank = 1", [cid]
    )
    return {
        "winner": names[cluster["winner_asset_id"]],
        "source": cluster["winner_source"],
        "reviewed": cluster["reviewed"],
        "ranked_first": names[str(first)],
        "picked": sorted(names[r[0]] for r in picked),
        "log": [(k, bool(u)) for k, u in log],
        "taste_examples": taste or 0,
    }


CHOSEN = "cv_leuvenB.jpg"  # the second frame of the first burst (its suggested winner: A)
#: after the choice: the winner (a person's, ranked first), picked, the cluster reviewed, one
#: undoable action of the user, one example for the taste model
AFTER = {
    "winner": CHOSEN,
    "source": "user",
    "reviewed": True,
    "ranked_first": CHOSEN,
    "picked": [CHOSEN],
    "log": [("pick_winner", False)],
    "taste_examples": 1,
}
#: after undo: as before (the suggested winner), the action marked undone
UNDONE = {
    "winner": "cv_leuvenA.jpg",
    "source": "auto",
    "reviewed": False,
    "ranked_first": "cv_leuvenA.jpg",
    "picked": [],
    "log": [("pick_winner", True)],
    "taste_examples": 0,
}


def _via_library(catalog: Catalog, shared_photos_dir: Path) -> tuple[Catalog, str, CullData]:
    data = build_cull_project(catalog, create_project(catalog, "Parity").id, shared_photos_dir)
    pick_winner(catalog, data.clusters[0], data.assets[CHOSEN])
    return catalog, catalog.local_user_id, data


def _via_cli(
    home: Path, shared_photos_dir: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Catalog, str, CullData]:
    with open_catalog(load_settings(home=home)) as cat:
        data = build_cull_project(cat, create_project(cat, "Parity").id, shared_photos_dir)
    code, _, err = run(capsys, "clusters", "winner", data.clusters[0][:8], CHOSEN)
    assert code == 0, err
    assert "picked" in err and "kilo cull undo" in err
    catalog = open_catalog(load_settings(home=home))
    return catalog, catalog.local_user_id, data


def _via_http(
    client: TestClient, box: Mailbox, shared_photos_dir: Path
) -> tuple[Catalog, str, CullData]:
    who, data = _shoot_over_http(client, box, shared_photos_dir)
    cid = data.clusters[0]
    answer = client.post(
        f"/clusters/{cid}/winner", json={"winnerAssetId": data.assets[CHOSEN]}, headers=who
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["winnerAssetId"] == data.assets[CHOSEN] and answer.json()["reviewed"]
    catalog: Catalog = client.app.state.catalog  # type: ignore[attr-defined]
    user = catalog.scalar("SELECT id FROM users WHERE email = 'web@example.com'")
    return catalog, str(user), data


@pytest.mark.parametrize("front_end", ["library", "cli", "http"])
def test_the_winner_ends_the_same_through_every_front_end(
    front_end: str,
    request: pytest.FixtureRequest,
    shared_photos_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if front_end == "library":
        catalog, user, data = _via_library(request.getfixturevalue("catalog"), shared_photos_dir)
    elif front_end == "cli":
        catalog, user, data = _via_cli(request.getfixturevalue("home"), shared_photos_dir, capsys)
        request.addfinalizer(catalog.close)
    else:
        client = request.getfixturevalue("client")
        box = request.getfixturevalue("mailbox")[0]
        catalog, user, data = _via_http(client, box, shared_photos_dir)
    cid = data.clusters[0]
    assert _outcome(catalog, user, data, cid) == AFTER
    # one undoable step of that user, whichever front end took it
    undone = undo(catalog, data.project_id, user)
    assert undone is not None and undone.kind == "pick_winner" and undone.cluster_ids == [cid]
    assert _outcome(catalog, user, data, cid) == UNDONE


def test_the_winner_over_http_takes_whole_asset_ids_only(
    client: TestClient, mailbox: tuple[Mailbox, int], shared_photos_dir: Path
) -> None:
    who, data = _shoot_over_http(client, mailbox[0], shared_photos_dir)
    cid = data.clusters[0]
    for ref in (CHOSEN, data.assets[CHOSEN][:8]):  # a file name, an id prefix: a terminal's
        r = client.post(f"/clusters/{cid}/winner", json={"winnerAssetId": ref}, headers=who)
        assert r.status_code == 400, r.text
    other = data.members[data.clusters[1]][1]  # a photo of the project, not of this cluster
    r = client.post(f"/clusters/{cid}/winner", json={"winnerAssetId": other}, headers=who)
    assert r.status_code == 400 and "not a member" in r.json()["message"]
