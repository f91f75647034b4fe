"""The 100% loupe over HTTP on its own threads (kilo_server.loupe_pool): a RAW's loupe is
rendered once and kept (the second request reads the kept file), it is made on the loupe's
threads, it is served while every thread of the server's shared pool is taken (the previews
of a prefetching cull screen), and the newest request waiting for a loupe thread runs first."""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from support.api import EXAMPLES
from support.dng import mosaic_dng


def _raw_and_jpeg(client: TestClient, tmp_path: Path) -> tuple[Any, str, str]:
    """(the catalog, a RAW frame without an embedded preview, a JPEG frame) of one project."""
    from kilo.ingest import ingest
    from kilo.projects import create_project

    with Image.open(EXAMPLES / "cv_leuvenA.jpg") as im:
        raw = tmp_path / "frame.dng"
        raw.write_bytes(mosaic_dng(im.convert("RGB")))
    catalog = client.app.state.catalog  # type: ignore[attr-defined]
    project = create_project(catalog, "Loupe", owner_user_id=catalog.local_user_id)
    report = ingest(catalog, project.id, [raw, EXAMPLES / "cv_aloeL.jpg"])
    assert report.failed == 0
    raw_id, jpeg_id = report.asset_ids
    return catalog, raw_id, jpeg_id


def _get(client: TestClient, url: str) -> Any:
    return client.get(url.removeprefix("/v1"))


def test_a_raw_loupe_is_rendered_once_on_the_loupe_threads_and_kept(
    client: TestClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from kilo_server.files import studio_frame_urls

    catalog, raw_id, _ = _raw_and_jpeg(client, tmp_path)
    loupe = studio_frame_urls(catalog)[0](raw_id)[2]
    with caplog.at_level(logging.INFO, logger="kilo.cull.loupe"):
        first, second = _get(client, loupe), _get(client, loupe)
    assert first.status_code == second.status_code == 200
    assert first.headers["content-type"] == "image/jpeg"
    assert first.headers["x-content-type-options"] == "nosniff"
    assert second.content == first.content
    made = [r for r in caplog.records if r.getMessage().startswith("loupe of")]
    assert len(made) == 1, [r.getMessage() for r in made]  # the second read the kept file
    assert "render" in made[0].getMessage()  # this RAW has no full-size embedded preview
    assert str(made[0].threadName).startswith("kilo-loupe")  # not a thread of the shared pool


def test_a_loupe_is_served_while_every_thread_of_the_shared_pool_is_taken(
    client: TestClient, tmp_path: Path
) -> None:
    from anyio import to_thread

    from kilo_server.files import studio_frame_urls

    catalog, raw_id, jpeg_id = _raw_and_jpeg(client, tmp_path)
    urls = studio_frame_urls(catalog)[0]
    done: list[tuple[str, int]] = []

    def fetch(name: str, url: str) -> None:
        done.append((name, _get(client, url).status_code))

    # every token of the server's shared thread pool taken, as by that many slow previews
    shared = client.portal.call(to_thread.current_default_thread_limiter)  # type: ignore[union-attr]
    holders = [object() for _ in range(int(shared.total_tokens))]
    for holder in holders:
        client.portal.call(shared.acquire_on_behalf_of, holder)  # type: ignore[union-attr]
    preview = threading.Thread(target=fetch, args=("preview", urls(jpeg_id)[1]), daemon=True)
    loupe = threading.Thread(target=fetch, args=("loupe", urls(raw_id)[2]), daemon=True)
    try:
        preview.start()
        loupe.start()
        loupe.join(timeout=120)
        assert done == [("loupe", 200)]  # the preview still waits for a shared thread
    finally:
        for holder in holders:
            client.portal.call(shared.release_on_behalf_of, holder)  # type: ignore[union-attr]
    preview.join(timeout=120)
    assert done == [("loupe", 200), ("preview", 200)]


def test_the_newest_loupe_request_runs_first_and_a_dropped_one_never() -> None:
    from kilo_server.loupe_pool import NewestFirst

    pool = NewestFirst(1, "test-loupe")
    ran: list[str] = []
    busy, free = threading.Event(), threading.Event()

    def first() -> str:
        busy.set()
        free.wait(60)
        return "first"

    head = pool.submit(first)
    assert busy.wait(60)  # the only thread is taken: the rest wait, in the order asked

    def run(name: str) -> str:
        ran.append(name)
        return name

    later = [pool.submit(functools.partial(run, n)) for n in ("a", "b", "c", "d")]
    assert later[1].cancel()  # "b" asked for, then dropped (its request went away)
    assert pool.waiting() == 4
    free.set()
    assert [f.result(60) for f in (later[0], later[2], later[3])] == ["a", "c", "d"]
    assert head.result(60) == "first"
    assert ran == ["d", "c", "a"]  # the newest first; the dropped one not at all
