"""``GET /v1/realtime``: Server-Sent Events of a project (sse-starlette).

One poller per server reads new rows of the catalog's event log every 20 ms (every 0.5 s while
another kilo process has the library: each read takes the file back from it) and hands each
to the queues of the clients following that project; a client's queue is bounded, and a
client too slow to keep up is disconnected (it reconnects with ``Last-Event-ID`` and gets
what it missed from the log) instead of slowing anyone else. On connect, the events after
``Last-Event-ID`` (header) or ``lastEventId`` (query) are replayed first. A comment line
every 15 s keeps proxies from closing an idle stream; shutdown ends every stream.

Each event is ``event: <type>`` (job.progress, job.done, cluster.updated, asset.updated,
export.updated, and the log's other types: job.queued, job.failed ...), ``data:`` its JSON,
``id:`` its id in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request
from sse_starlette.sse import EventSourceResponse

from kilo.catalog import Catalog
from kilo.errors import NotFound
from kilo.text import redact_paths
from kilo_server.deps import CallerDep
from kilo_server.events import Event, latest_event_id, read_events
from kilo_server.routes import errors

log = logging.getLogger(__name__)
router = APIRouter(tags=["Realtime"])
RING_SIZE = 10_000
POLL_S = 0.02  # while anyone listens: one indexed read of the log's tail
SHARED_POLL_S = 0.5  # ... while another kilo process has the library (each read takes it back)
IDLE_POLL_S = 0.5  # nobody listens: only the position is kept
SHARED_IDLE_POLL_S = 2.0


class Broadcaster:
    """The newest events of the log in memory, for every stream to read at its own pace.

    One poller appends what the log gained (every 20 ms while anyone listens) and wakes
    the streams; each stream keeps its own position and reads from the ring, or from the
    log when it has fallen behind the ring (a reconnect with an old id, a very slow
    client). Nobody waits for anybody else."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.ring: deque[Event] = deque(maxlen=RING_SIZE)
        self.floor = 0  # every event above this id is in the ring
        self.last = 0
        self.listeners = 0
        self.closed = False
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.last = self.floor = await asyncio.to_thread(latest_event_id, self.catalog)
        self._task = asyncio.create_task(self._poll(), name="kilo-realtime")

    async def stop(self) -> None:
        self.closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        async with self._changed:
            self._changed.notify_all()

    async def _poll(self) -> None:
        while True:
            alone = self.catalog.holds_file  # nobody took the library since the last read
            try:
                await self._read_new()
            except Exception:
                log.exception("reading the event log failed; trying again")
            if not self.listeners:
                await asyncio.sleep(IDLE_POLL_S if alone else SHARED_IDLE_POLL_S)
            else:
                await asyncio.sleep(POLL_S if alone else SHARED_POLL_S)

    async def _read_new(self) -> None:
        if not self.listeners:  # nobody listens: keep only the position
            self.last = self.floor = await asyncio.to_thread(latest_event_id, self.catalog)
            self.ring.clear()
            return
        events = await asyncio.to_thread(read_events, self.catalog, after=self.last)
        if not events:
            return
        for event in events:
            if len(self.ring) == self.ring.maxlen:
                self.floor = self.ring[0].id
            self.ring.append(event)
        self.last = events[-1].id
        async with self._changed:
            self._changed.notify_all()

    def since(self, after: int, project_id: str) -> list[Event] | None:
        """The project's events above ``after`` from the ring; None when the ring no longer
        reaches back that far."""
        if after < self.floor:
            return None
        newer = []
        for event in reversed(self.ring):  # newest first: only what came after is read
            if event.id <= after:
                break
            if event.project_id == project_id:
                newer.append(event)
        newer.reverse()
        return newer

    async def wait_after(self, after: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.last > after or self.closed)

    async def follow(self, project_id: str, after: int) -> AsyncIterator[Event]:
        """The project's events above ``after`` (default: from now on), as they come."""
        self.listeners += 1
        try:
            sent = after if after else self.last
            while not self.closed:
                top = self.last  # the ring holds everything up to here
                batch = self.since(sent, project_id)
                if batch is None:  # fallen behind the ring: read on in the log
                    batch = await asyncio.to_thread(
                        read_events, self.catalog, after=sent, project_id=project_id, limit=1000
                    )
                    for event in batch:
                        yield event
                    sent = batch[-1].id if batch else max(sent, self.floor)
                    continue
                for event in batch:
                    yield event
                sent = max(sent, top)
                await self.wait_after(sent)
        finally:
            self.listeners -= 1


def _sse(event: Event) -> dict[str, Any]:
    data = event.data
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        data = {**data, "error": redact_paths(data["error"])}  # no server path over HTTP
    text = json.dumps(data, separators=(",", ":"), default=str)
    return {"event": event.type, "id": str(event.id), "data": text}


def _after(value: str | None) -> int:
    try:
        return max(0, int(value)) if value else 0
    except ValueError:
        return 0


@router.get(
    "/realtime",
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "SSE stream",
        },
        **errors(401),
    },
    response_class=EventSourceResponse,
)
async def realtime(
    request: Request,
    caller: CallerDep,
    project_id: Annotated[UUID, Query(alias="projectId")],
    last_event_id: Annotated[str | None, Query(alias="lastEventId")] = None,
    last_event_header: Annotated[
        str | None, Header(alias="Last-Event-ID", include_in_schema=False)
    ] = None,
) -> EventSourceResponse:
    """Server-Sent Events of one project: replayed from the last id seen, then live."""
    broadcaster: Broadcaster = request.app.state.broadcaster
    try:
        pid: str | None = await asyncio.to_thread(caller.owns, "projects", project_id)
    except NotFound:  # the contract has no 404: a stranger's project streams nothing
        pid = None
    after = _after(last_event_header or last_event_id)

    async def stream() -> AsyncIterator[dict[str, Any]]:
        if pid is None:
            await request.app.state.shutdown.wait()
            return
        async for event in broadcaster.follow(pid, after):
            yield _sse(event)

    return EventSourceResponse(stream(), ping=15, send_timeout=30)
