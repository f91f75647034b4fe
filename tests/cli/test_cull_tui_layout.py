"""The culling screen's layout on real photos (issue 32, the terminal): arrow keys move between
stacks from the first key, the stack list follows the current stack, frames keep their
aspect ratio (the face strip's: tests/cull/test_cull_faces.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kilo.catalog import Catalog
from kilo.cull import pick_winner
from kilo.models import Project
from kilo_cli.tui.cull import CullApp
from support.cull_data import CullData, add_asset, add_cluster, build_cull_project

#: one photo a moment after the standard fixture's: the stack list outgrows a small screen
LATER = [
    "mate_Storm.jpg",
    "mate_Wood.jpg",
    "mate_RainDrops.jpg",
    "mate_TwoWings.jpg",
    "mate_Blinds.jpg",
    "mate_YellowFlower.jpg",
]
LAST_BURST = ["cv_aloeL.jpg", "cv_aloeR.jpg"]


@pytest.fixture
def long_list(catalog: Catalog, project: Project, shared_photos_dir: Path) -> CullData:
    data = build_cull_project(catalog, project.id, shared_photos_dir)
    day = datetime(2024, 6, 1, 12, 0, 0)
    for i, name in enumerate(LATER):  # moment titles differ by their hour
        when = day + timedelta(days=i, hours=i)
        aid = add_asset(catalog, project.id, shared_photos_dir / name, when)
        moment = add_cluster(catalog, project.id, "moment", [aid], start=when, confidence=None)
        if i == 0:  # as long as a real one ("21 Jul 2015, 16:17 · 2 photos"): wider than the list
            catalog.execute(
                "UPDATE clusters SET title = ? WHERE id = ?",
                [f"{when:%d %b %Y, %H:%M} · a long afternoon by the sea", moment],
            )
    start = day + timedelta(days=len(LATER), hours=len(LATER))
    ids = [add_asset(catalog, project.id, shared_photos_dir / n, start) for n in LAST_BURST]
    moment = add_cluster(catalog, project.id, "moment", ids, start=start, confidence=None)
    last = add_cluster(
        catalog, project.id, "burst", ids, start=start, winner=ids[0], parent_id=moment
    )
    data.clusters.append(last)
    data.members[last] = ids
    return data


def _current_line_in_sight(app: CullApp) -> bool:
    """The current stack's line is highlighted and inside the list's visible rows."""
    stacks = app.query_one("#stacks")
    text = app._stack_list()
    line = text.plain.splitlines()[app._current_line]
    spans = [s for s in text.spans if "reverse" in str(s.style)]
    assert len(spans) == 1 and text.plain[spans[0].start : spans[0].end].rstrip("\n") == line
    top = stacks.scroll_offset.y
    return top <= app._current_line < top + stacks.scrollable_content_region.height


def test_arrows_move_between_stacks_on_a_fresh_open_and_the_list_follows(
    catalog: Catalog, long_list: CullData
) -> None:
    async def script() -> None:
        app = CullApp(catalog, long_list.project_id, images=False)
        async with app.run_test(size=(80, 14)) as pilot:
            await pilot.pause()
            stacks = app.query_one("#stacks")
            assert stacks.max_scroll_y > 0  # the list does not fit: it could scroll
            rows = app._stack_list().plain.count("\n")
            assert app.query_one("#stack-list").virtual_size.height <= rows + 1  # none wraps
            assert app.stack_index == 0
            await pilot.press("down")  # the very first key
            await pilot.pause()
            assert app.stack_index == 1 and stacks.scroll_offset.y == 0
            await pilot.press("up", "up")  # wraps to the last stack, at the list's end
            await pilot.pause()
            assert app.stack is not None and app.stack.cluster_id == long_list.clusters[-1]
            assert stacks.scroll_offset.y > 0 and _current_line_in_sight(app)
            # every stack before it decided but the second: F jumps back up the list
            for cid in long_list.clusters[2:-1]:
                pick_winner(catalog, cid, long_list.members[cid][0], user_id=app.user_id)
            pick_winner(
                catalog,
                long_list.clusters[0],
                long_list.members[long_list.clusters[0]][0],
                user_id=app.user_id,
            )
            await pilot.press("f")
            await pilot.pause()
            assert app.stack is not None and app.stack.cluster_id == long_list.clusters[1]
            assert _current_line_in_sight(app)
            await pilot.press("up")  # to the last stack again, then Shift+D jumps back up
            await pilot.pause()
            assert app.stack.cluster_id == long_list.clusters[0]
            await pilot.press("up")  # the last stack (decided by F above)
            await pilot.pause()
            assert stacks.scroll_offset.y > 0 and _current_line_in_sight(app)
            await pilot.press("D")
            await pilot.pause()
            assert app.stack is not None and app.stack.cluster_id == long_list.clusters[1]
            assert _current_line_in_sight(app)

    asyncio.run(script())


def _shown_aspect(app: CullApp, selector: str) -> float:
    """Width / height of what the image widget covers, in the terminal's pixels."""
    from textual_image._terminal import get_cell_size

    cell = get_cell_size()
    size = app.query_one(selector).content_size
    return (size.width * cell.width) / (size.height * cell.height)


@pytest.mark.parametrize(("width", "height"), [(120, 40), (80, 24)])
def test_frames_keep_their_aspect_ratio_a_portrait_shows_portrait(
    catalog: Catalog, project: Project, shared_photos_dir: Path, width: int, height: int
) -> None:
    start = datetime(2024, 5, 1, 10, 0, 0)
    ids = {
        name: add_asset(catalog, project.id, shared_photos_dir / name, start + timedelta(hours=i))
        for i, name in enumerate(["arrow.heic", "mate_Blinds.jpg"])
    }

    async def script() -> None:
        app = CullApp(catalog, project.id, images=True)
        if not app.images:
            pytest.skip("textual-image cannot size this terminal")
        async with app.run_test(size=(width, height)) as pilot:
            await pilot.pause()
            for name, aid in ids.items():
                while app.frame is None or app.frame.asset_id != aid:
                    await pilot.press("right")
                await pilot.pause()
                image = app._pixels_of(aid)
                assert image is not None
                true = image.width / image.height
                shown = _shown_aspect(app, "#frame-a")
                # a cell is a whole number of pixels: allow one cell of rounding
                assert abs(shown - true) / true < 0.15, (name, shown, true)
                pane = app.query_one("#pane-a").content_size
                frame = app.query_one("#frame-a").content_size
                assert frame.width <= pane.width and frame.height <= pane.height
            assert _shown_aspect(app, "#frame-a") > 1  # the landscape one, last
            await pilot.press("left")
            await pilot.pause()
            assert _shown_aspect(app, "#frame-a") < 1  # arrow.heic: portrait

    asyncio.run(script())
