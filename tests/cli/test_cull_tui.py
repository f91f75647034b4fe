"""The culling screen, driven headless by textual's pilot: keys change a real catalog."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from kilo.catalog import Catalog
from kilo.cull import get_rating
from kilo.models import Project
from kilo_cli.tui.cull import CullApp
from support.cull_data import CullData, build_cull_project

Script = Callable[[CullApp, object], Awaitable[None]]


def _drive(app: CullApp, script: Script) -> None:
    async def main() -> None:
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.pause()
            await script(app, pilot)

    asyncio.run(main())


def _cluster(catalog: Catalog, cid: str) -> tuple[bool, str | None, str | None]:
    row = catalog.fetchone(
        "SELECT reviewed, winner_asset_id, winner_source FROM clusters WHERE id = ?", [cid]
    )
    assert row is not None
    return bool(row[0]), row[1], row[2]


@pytest.fixture
def data(catalog: Catalog, project: Project, shared_photos_dir: Path) -> CullData:
    return build_cull_project(catalog, project.id, shared_photos_dir)


@pytest.mark.slow  # about 20 keys, each a catalog write plus a redraw
def test_keys_pick_reject_rate_star_and_undo(catalog: Catalog, data: CullData) -> None:
    first, second = data.clusters[0], data.clusters[1]
    other = data.members[first][1]  # not the suggested winner

    async def script(app: CullApp, pilot: object) -> None:
        press = pilot.press  # type: ignore[attr-defined]
        assert app.stack is not None and app.stack.cluster_id == first
        await press("right")
        assert app.frame is not None and app.frame.asset_id == other
        await press("f")  # pick this frame as the winner, mark reviewed, advance
        assert _cluster(catalog, first) == (True, other, "user")
        assert get_rating(catalog, other).picked is True
        assert app.stack.cluster_id == second  # auto-advanced to the next open stack
        current = app.frame.asset_id
        await press("d")
        assert get_rating(catalog, current).rejected is True
        await press("d")
        assert get_rating(catalog, current).rejected is False
        await press("3", "s")
        r = get_rating(catalog, current)
        assert r.rating == 3 and r.starred is True
        await press("D")  # reject the whole stack
        assert all(get_rating(catalog, a).rejected for a in data.members[second])
        assert _cluster(catalog, second)[0] is True
        await press("z")  # undo the stack reject
        assert not any(get_rating(catalog, a).rejected for a in data.members[second])
        assert _cluster(catalog, second)[0] is False
        assert app.stack.cluster_id == second  # the cursor goes back to what was undone
        await press("Z")  # redo
        assert all(get_rating(catalog, a).rejected for a in data.members[second])
        for _ in range(4):  # redo, star, rate, reject/unreject... back to the first pick
            await press("z")
        await press("z", "z")
        assert _cluster(catalog, first) == (False, data.members[first][0], "auto")
        assert get_rating(catalog, other).picked is None

    _drive(CullApp(catalog, data.project_id, images=False), script)


def test_overlay_compare_and_navigation(catalog: Catalog, data: CullData) -> None:
    async def script(app: CullApp, pilot: object) -> None:
        press = pilot.press  # type: ignore[attr-defined]
        help_box = app.query_one("#help")
        assert not help_box.has_class("shown")
        await press("question_mark")
        assert help_box.has_class("shown")
        await press("question_mark")
        assert not help_box.has_class("shown")
        await press("c")
        assert app.query_one("#viewer").has_class("compare")
        await press("down", "down")
        assert app.stack_index == 2
        await press("up")
        assert app.stack_index == 1
        chips = str(app.query_one("#chips").render())
        assert "Sharpest frame" in chips  # the suggested winner's reasons (max 3)
        stacks = str(app.query_one("#stack-list").render())
        assert "moment" in stacks and "80%" in stacks

    _drive(CullApp(catalog, data.project_id, images=True), script)


def test_fallback_filmstrip_when_ai_not_ready(
    catalog: Catalog, project: Project, shared_photos_dir: Path
) -> None:
    data = build_cull_project(catalog, project.id, shared_photos_dir, clusters=False)
    names = list(data.assets)

    async def script(app: CullApp, pilot: object) -> None:
        press = pilot.press  # type: ignore[attr-defined]
        assert not app.queue.ai_ready and len(app.queue.stacks) == 1
        assert app.stack is not None and app.stack.kind == "filmstrip"
        assert [f.filename for f in app.stack.frames] == names  # capture order
        assert "AI not ready" in str(app.query_one("#header").render())
        assert " b0." in str(app.query_one("#filmstrip").render())  # blur scores
        await press("f")  # pick, then the next frame
        assert get_rating(catalog, data.assets[names[0]]).picked is True
        assert app.frame is not None and app.frame.filename == names[1]
        await press("D")  # no cluster to reject: nothing changes
        assert get_rating(catalog, data.assets[names[1]]).rejected is None
        await press("z")
        assert get_rating(catalog, data.assets[names[0]]).picked is None

    _drive(CullApp(catalog, data.project_id, images=False), script)


def test_frames_made_ready_while_the_screen_is_open_appear_in_place(
    catalog: Catalog, project: Project, shared_photos_dir: Path
) -> None:
    """An ingest still running: a frame it makes ready shows up without a restart, and the
    screen stays on the frame the photographer is looking at."""
    from kilo.clock import new_id

    data = build_cull_project(catalog, project.id, shared_photos_dir, clusters=False)
    names = list(data.assets)
    late = new_id()

    async def script(app: CullApp, pilot: object) -> None:
        press = pilot.press  # type: ignore[attr-defined]
        await press("right")
        looking_at = app.frame.asset_id if app.frame else None
        assert len(app.stack.frames) == len(names) if app.stack else False
        with catalog.transaction():  # what an ingest in another process commits
            catalog.execute(
                "CREATE TEMP TABLE late AS SELECT * FROM assets WHERE id = ?",
                [data.assets[names[-1]]],
            )
            catalog.execute(
                "UPDATE late SET id = ?, filename = 'late.jpg', "
                "captured_at = captured_at + INTERVAL 1 HOUR",
                [late],
            )
            catalog.execute("INSERT INTO assets SELECT * FROM late")
            catalog.execute("DROP TABLE late")
        app.refresh_queue()  # what the screen's timer does every REFRESH_S
        assert app.stack is not None and app.stack.frames[-1].filename == "late.jpg"
        assert app.frame is not None and app.frame.asset_id == looking_at

    _drive(CullApp(catalog, data.project_id, images=False), script)


def test_at_80_by_24_compare_is_labelled_rejects_differ_from_picks_and_hints_fit(
    catalog: Catalog, data: CullData
) -> None:
    async def script() -> None:
        app = CullApp(catalog, data.project_id, images=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert app.query_one("#stacks").has_class("narrow")
            await pilot.press("D")  # reject the whole stack: not a pick
            await pilot.pause()
            lines = str(app.query_one("#stack-list").render()).splitlines()
            assert lines[1].lstrip().startswith("✗"), lines  # under the moment's heading
            await pilot.press("up", "f")  # pick the winner of the next one
            await pilot.pause()
            screen = app.export_screenshot()
            footer = screen.replace("&#160;", " ")
            assert "keys" in footer and "quit" in footer  # cut last would be cut first
            stack = app.stack
            assert stack is not None and stack.winner_asset_id
            while app.frame is not None and app.frame.asset_id == stack.winner_asset_id:
                await pilot.press("right")
                await pilot.pause()
            chips = str(app.query_one("#chips").render())
            winner = next(f for f in stack.frames if f.asset_id == stack.winner_asset_id)
            assert f"suggested winner: {winner.filename}" in chips, chips
            await pilot.press("c")
            await pilot.pause()
            stack, frame = app.stack, app.frame
            assert stack is not None and frame is not None
            label_a = str(app.query_one("#label-a").render())
            label_b = str(app.query_one("#label-b").render())
            assert frame.filename in label_a
            other = next(f for f in stack.frames if f.asset_id != frame.asset_id)
            assert other.filename in label_b
            assert not app.query_one("#stacks").display  # the photos get the whole width

    asyncio.run(script())
