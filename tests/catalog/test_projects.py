"""Projects end to end, with the contract's pagination and its bad-input cases."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from kilo.catalog import Catalog
from kilo.errors import InvalidInput, NotFound
from kilo.models import UpdateProjectRequest
from kilo.paging import encode_cursor
from kilo.projects import (
    archive_project,
    create_project,
    get_project,
    list_projects,
    require_project,
    resolve_project,
    update_project,
)


def test_create_and_get(catalog: Catalog) -> None:
    p = create_project(
        catalog,
        "  Smith wedding ",
        description="Barn venue",
        shoot_date=date(2026, 6, 20),
        timezone="Europe/Paris",
    )
    assert str(uuid.UUID(p.id)) == p.id and uuid.UUID(p.id).version == 4, p.id  # uuid4 text
    assert p.title == "Smith wedding"
    assert p.status == "active"
    assert p.owner_user_id == catalog.local_user_id
    assert p.stats == {"assetCount": 0, "pickedCount": 0, "rejectedCount": 0, "clustersReviewed": 0}
    again = get_project(catalog, p.id.upper())
    assert again == p
    data = p.dump()
    assert data["shootDate"] == "2026-06-20"
    assert data["createdAt"].endswith("Z")


def test_list_pages_follow_the_cursor(catalog: Catalog) -> None:
    made = [create_project(catalog, f"Shoot {i}").id for i in range(7)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = list_projects(catalog, cursor=cursor, limit=3)
        seen += [p.id for p in page.items]
        pages += 1
        cursor = page.page_info.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(made))


@hsettings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(min_value=0, max_value=12), limit=st.integers(min_value=1, max_value=5))
def test_pagination_returns_every_project_once(catalog: Catalog, n: int, limit: int) -> None:
    catalog.execute("DELETE FROM projects")
    made = {create_project(catalog, f"P{i}").id for i in range(n)}
    seen: list[str] = []
    cursor = None
    while True:
        page = list_projects(catalog, cursor=cursor, limit=limit)
        assert len(page.items) <= limit
        seen += [p.id for p in page.items]
        cursor = page.page_info.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == n
    assert set(seen) == made


def test_update_changes_only_given_fields(catalog: Catalog) -> None:
    p = create_project(catalog, "Before", description="keep me", timezone="UTC")
    u = update_project(catalog, p.id, UpdateProjectRequest(title="After"))
    assert (u.title, u.description, u.timezone) == ("After", "keep me", "UTC")
    assert u.updated_at >= p.updated_at
    cleared = update_project(catalog, p.id, description=None, shoot_date=date(2025, 1, 2))
    assert cleared.description is None and cleared.shoot_date == date(2025, 1, 2)


def test_archive(catalog: Catalog) -> None:
    p = create_project(catalog, "Old")
    assert archive_project(catalog, p.id).status == "archived"
    assert [x.status for x in list_projects(catalog).items] == ["archived"]
    assert list_projects(catalog, include_archived=False).items == []


def test_resolve_by_title_or_id(catalog: Catalog) -> None:
    p = create_project(catalog, "Demo")
    assert resolve_project(catalog, "demo").id == p.id
    assert resolve_project(catalog, p.id).id == p.id
    create_project(catalog, "Demo one")
    create_project(catalog, "Demo other")
    two = create_project(catalog, "Demo two")
    assert resolve_project(catalog, "Demo").id == p.id  # the exact title wins
    assert resolve_project(catalog, "demo t").id == two.id  # a unique start
    with pytest.raises(InvalidInput):
        resolve_project(catalog, "Demo o")  # "Demo one" or "Demo other"
    with pytest.raises(NotFound):
        resolve_project(catalog, "nothing like it")


def test_a_users_titles_are_unique_in_any_case(catalog: Catalog) -> None:
    """Every command takes a title: a second "Smith wedding" would make them all ambiguous."""
    first = create_project(catalog, "Smith wedding")
    with pytest.raises(InvalidInput, match=r'titled "SMITH wedding" already \(' + first.id[:8]):
        create_project(catalog, "SMITH wedding")
    other = create_project(catalog, "Jones wedding")
    with pytest.raises(InvalidInput, match="choose another title"):
        update_project(catalog, other.id, title="smith wedding")
    assert update_project(catalog, first.id, title="Smith Wedding").title == "Smith Wedding"
    # another user's projects are theirs to name
    from kilo.clock import new_id, utcnow

    them = new_id()
    catalog.execute(
        "INSERT INTO users (id, email, display_name, created_at) "
        "VALUES (?, 'b@example.com', 'b', ?)",
        [them, utcnow()],
    )
    assert create_project(catalog, "Smith wedding", owner_user_id=them).title == "Smith wedding"


def test_stats_count_from_the_catalog(catalog: Catalog) -> None:
    from kilo.clock import new_id, utcnow

    p = create_project(catalog, "Counted")
    ids = [new_id() for _ in range(3)]
    now = utcnow()
    for i, aid in enumerate(ids):
        catalog.execute(
            "INSERT INTO assets (id, project_id, filename, source_uri, ingested_at, updated_at, "
            "state) VALUES (?, ?, ?, ?, ?, ?, 'ready')",
            [aid, p.id, f"f{i}.jpg", f"/x/f{i}.jpg", now, now],
        )
    catalog.execute(
        "INSERT INTO ratings (asset_id, user_id, picked) VALUES (?, ?, true)",
        [ids[0], catalog.local_user_id],
    )
    catalog.execute(
        "INSERT INTO ratings (asset_id, user_id, rejected) VALUES (?, ?, true)",
        [ids[1], catalog.local_user_id],
    )
    catalog.execute(
        "INSERT INTO clusters (id, project_id, kind, reviewed, created_at, updated_at) "
        "VALUES (?, ?, 'burst', true, ?, ?)",
        [new_id(), p.id, now, now],
    )
    assert get_project(catalog, p.id).stats == {
        "assetCount": 3,
        "pickedCount": 1,
        "rejectedCount": 1,
        "clustersReviewed": 1,
    }


@pytest.mark.parametrize("title", ["", "   ", "x" * 501])
def test_bad_titles(catalog: Catalog, title: str) -> None:
    with pytest.raises(InvalidInput, match="title"):
        create_project(catalog, title)
    assert list_projects(catalog).items == []


def test_title_of_500_characters_is_fine(catalog: Catalog) -> None:
    assert len(create_project(catalog, "y" * 500).title) == 500


def test_unknown_and_malformed_ids(catalog: Catalog) -> None:
    with pytest.raises(NotFound) as nf:
        get_project(catalog, str(uuid.uuid4()))
    assert nf.value.code == "not_found"
    with pytest.raises(InvalidInput) as bad:
        get_project(catalog, "not-a-uuid")
    assert bad.value.code == "bad_request"


@pytest.mark.parametrize("limit", [0, 201, -1])
def test_limit_out_of_range(catalog: Catalog, limit: int) -> None:
    with pytest.raises(InvalidInput, match="limit"):
        list_projects(catalog, limit=limit)


@pytest.mark.parametrize(
    "cursor", ["garbage!!", "e30", encode_cursor("jobs", ["2020-01-01", "x"]), "%%%"]
)
def test_garbage_cursor(catalog: Catalog, cursor: str) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        list_projects(catalog, cursor=cursor)


def test_bad_timezone_and_status(catalog: Catalog) -> None:
    with pytest.raises(InvalidInput, match="timezone"):
        create_project(catalog, "TZ", timezone="Mars/Olympus")
    p = create_project(catalog, "S")
    with pytest.raises(InvalidInput, match="status"):
        update_project(catalog, p.id, status="gone")
    assert get_project(catalog, p.id).status == "active"


def test_projects_by_id_prefix_and_start_of_title(catalog: Catalog) -> None:
    smith = create_project(catalog, "Smith wedding")
    jones = create_project(catalog, "Jones portraits")
    assert resolve_project(catalog, "smith").id == smith.id
    assert resolve_project(catalog, jones.id[:8]).id == jones.id
    create_project(catalog, "Smithson engagement")
    with pytest.raises(InvalidInput, match="several projects"):
        resolve_project(catalog, "Smith")
    assert resolve_project(catalog, "Smith wedding").id == smith.id  # the exact title wins


def test_require_project_is_the_one_existence_check(catalog: Catalog) -> None:
    p = create_project(catalog, "Require")
    assert require_project(catalog, p.id.upper()) == p.id
    assert require_project(catalog, p.id, user_id=catalog.local_user_id) == p.id
    missing = str(uuid.uuid4())
    for ref, user in ((missing, None), (p.id, "someone-else")):
        with pytest.raises(NotFound, match=f"no project with id {ref}"):
            require_project(catalog, ref, user_id=user)
    update_project(catalog, p.id, UpdateProjectRequest(status="deleted"))
    assert require_project(catalog, p.id) == p.id  # it is there, in the bin
    with pytest.raises(NotFound):  # but not the caller's to use any more
        require_project(catalog, p.id, user_id=catalog.local_user_id)
    with pytest.raises(InvalidInput):
        require_project(catalog, "not-a-uuid")
