"""kilo.cull from many threads of one process (a server, a notebook with a UI thread): no
decision is lost and no call fails for what another thread did meanwhile."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from kilo.catalog import Catalog
from kilo.cull import get_rating, list_actions, toggle_reject, toggle_star, undo
from kilo.models import Project
from support.cull_data import CullData, build_cull_project

THREADS = 8


@pytest.fixture
def data(catalog: Catalog, project: Project, shared_photos_dir: Path) -> CullData:
    return build_cull_project(catalog, project.id, shared_photos_dir)


def _hammer(calls: int, work: Callable[[int], None]) -> list[BaseException]:
    """``work(i)`` ``calls`` times on each of THREADS threads started together; the errors."""
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def run() -> None:
        start.wait()
        for i in range(calls):
            try:
                work(i)
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, as a loaded server would
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    return errors


def test_concurrent_toggles_are_never_lost(catalog: Catalog, data: CullData) -> None:
    """Each toggle reads the current value inside its own transaction: 8 threads x 25
    toggles of one photo leave it as 200 flips would, with 200 actions in the log."""
    asset = data.assets["mate_Dune.jpg"]
    errors = _hammer(25, lambda _i: toggle_reject(catalog, asset))
    assert errors == []
    assert get_rating(catalog, asset).rejected is False  # an even number of flips
    assert len(list_actions(catalog, data.project_id, limit=1000)) == THREADS * 25
    no_change = catalog.scalar(
        "SELECT count(*) FROM cull_actions WHERE project_id = ? "
        "AND before_state::VARCHAR = after_state::VARCHAR",
        [data.project_id],
    )
    assert no_change == 0  # a toggle that read a stale value would set what was there


def test_actions_returned_even_when_another_thread_undoes_them(
    catalog: Catalog, data: CullData
) -> None:
    """Half the calls toggle, half undo: every toggle returns the action it logged (no
    'no cull action N' for an action that another thread undid and a third dropped as
    redo history), and every undo returns None or an action."""
    asset = data.assets["people_zidane.jpg"]
    kinds: list[str] = []

    def work(i: int) -> None:
        if i % 2:
            action = undo(catalog, data.project_id)
            assert action is None or action.kind == "starred"
        else:
            action = toggle_star(catalog, asset)
            kinds.append(action.kind)
            assert action.asset_ids == [asset]

    errors = _hammer(30, work)
    assert errors == []
    assert kinds == ["starred"] * (THREADS * 15)
