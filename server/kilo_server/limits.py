"""Limits: request bodies capped before they are read whole, and per-client rate limits for
the routes anyone can reach (/auth, /share).

A :class:`RateLimiter` counts each key's hits in 5-second cells: the current cell and the 12
before it (60 to 65 s). A hit is let through while that count is under the limit, so no key
gets more than its limit in any 60 s (a refused key may wait up to 5 s longer than an exact
window would make it). A key's cells are a fixed-size ring, and the keys live in an LRU map
of at most ``max_keys``: a hit reads and writes its own key only (no walk over the others,
whatever their number), and a new key past the cap pushes out the key unused the longest.
Forgetting a key gives it a fresh budget, never a refusal: to reset its own count a client
must stay silent while ``max_keys`` other keys are used (the public routes charge an
address-wide budget first, so one address cannot churn keys fast), which an attacker with
that many addresses has no need to do.

Keys are client addresses (:func:`client_key`): an IPv6 address counts as its /64, the
block one subscriber gets, so a client cannot pick a new address per request. Budgets are
per address, so an attacker exhausts only their own: the real user elsewhere is never
refused for someone else's requests (on /auth the one per-address budget; on /share see
:mod:`kilo_server.routes.share` and :class:`WrongTries`).
"""

from __future__ import annotations

import ipaddress
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kilo.errors import RateLimited
from kilo.settings import Settings
from kilo_server.deps import client_address

CELL_S = 5.0
CELLS = 13  # the current cell and the 12 before it: a window of 60 to 65 s
MAX_KEYS = 50_000


class _Cells:
    """One key's hits per cell: ``counts[c % CELLS]`` for the cells ``last - 12 .. last``."""

    __slots__ = ("counts", "last")

    def __init__(self, cell: int) -> None:
        self.last = cell
        self.counts = [0] * CELLS

    def move_to(self, cell: int) -> None:
        """Empty the cells that fell out of the window by ``cell``."""
        gap = cell - self.last
        if gap <= 0:
            return
        for c in range(self.last + 1, self.last + 1 + min(gap, CELLS)):
            self.counts[c % CELLS] = 0
        self.last = cell

    def total(self) -> int:
        return sum(self.counts)

    def free_at(self, below: int) -> float:
        """When (clock seconds) the count falls under ``below`` as the oldest cells leave."""
        left = self.total()
        for c in range(self.last - CELLS + 1, self.last + 1):
            left -= self.counts[c % CELLS]
            if left < below:
                return (c + CELLS) * CELL_S
        return (self.last + CELLS) * CELL_S

    def take_back(self) -> None:
        """Forget the newest hit."""
        for c in range(self.last, self.last - CELLS, -1):
            if self.counts[c % CELLS]:
                self.counts[c % CELLS] -= 1
                return


class RateLimiter:
    """At most ``per_minute`` hits per key in any 60 s; at most ``max_keys`` keys kept."""

    def __init__(
        self,
        per_minute: int,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.max_keys = max_keys
        self._clock = clock
        self._windows: OrderedDict[str, _Cells] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._windows)

    def _cells(self, key: str, now: float) -> _Cells:
        """``key``'s cells moved to ``now``, made the most recently used (call locked)."""
        cell = int(now // CELL_S)
        cells = self._windows.get(key)
        if cells is None:
            cells = self._windows[key] = _Cells(cell)
            if len(self._windows) > self.max_keys:
                self._windows.popitem(last=False)  # the least recently used key
        else:
            self._windows.move_to_end(key)
            cells.move_to(cell)
        return cells

    def hit(self, key: str) -> None:
        """Count a hit of ``key``, or refuse it (:class:`RateLimited`, nothing counted)."""
        now = self._clock()
        with self._lock:
            cells = self._cells(key, now)
            if cells.total() >= self.per_minute:
                raise _refusal(cells.free_at(self.per_minute) - now)
            cells.counts[cells.last % CELLS] += 1

    def add(self, key: str) -> int:
        """Count a hit of ``key`` whatever the limit; the count before it."""
        with self._lock:
            cells = self._cells(key, self._clock())
            before = cells.total()
            cells.counts[cells.last % CELLS] += 1
            return before

    def count(self, key: str) -> int:
        """``key``'s hits in the window (0 for a key not kept)."""
        with self._lock:
            cells = self._windows.get(key)
            if cells is None:
                return 0
            cells.move_to(int(self._clock() // CELL_S))
            return cells.total()

    def take_back(self, key: str) -> None:
        """Forget ``key``'s newest hit (a try that turned out right)."""
        with self._lock:
            cells = self._windows.get(key)
            if cells is not None:
                cells.take_back()

    def wait_s(self, key: str, below: int) -> float:
        """Seconds until ``key``'s count is under ``below`` (0 when it is)."""
        now = self._clock()
        with self._lock:
            cells = self._windows.get(key)
            if cells is None:
                return 0.0
            cells.move_to(int(now // CELL_S))
            return 0.0 if cells.total() < below else cells.free_at(below) - now


def _refusal(wait_s: float) -> RateLimited:
    retry = max(1, math.ceil(wait_s))
    return RateLimited("too many requests; wait and try again", details={"retryAfter": retry})


class WrongTries:
    """Tries of a secret (a gallery's password) from all addresses, budgeted so that an
    attacker cannot lock the right client out. A try is counted before it is checked (so
    tries sent together are counted one by one), against its target and against (target,
    address); a right one is taken back, so only wrong ones stay. While the target has
    ``per_minute`` tries counted in the window, an address with a try counted on it is
    refused before the check (429, no argon2 work), and an address with none is still
    checked. So once the budget is spent an attack from many addresses gets one try per
    address a minute (each address's own limits still apply), and the right client from an
    address of its own always gets in. What this cannot tell apart is an attacker and the
    client behind one address (a shared NAT), or a client who mistyped during an attack:
    they wait until their wrong try is a minute old."""

    def __init__(self, per_minute: int, *, max_keys: int = MAX_KEYS) -> None:
        self.per_minute = per_minute
        self._target = RateLimiter(per_minute, max_keys=max_keys)
        self._mine = RateLimiter(per_minute, max_keys=max_keys)
        self._lock = threading.Lock()

    def admit(self, target: str, address: str) -> None:
        """Count a try, or refuse it (:class:`RateLimited`)."""
        mine = f"{target}|{address}"
        with self._lock:
            if self._target.count(target) >= self.per_minute and self._mine.count(mine):
                wait = min(self._target.wait_s(target, self.per_minute), self._mine.wait_s(mine, 1))
                raise _refusal(wait)
            self._target.add(target)
            self._mine.add(mine)

    def forgive(self, target: str, address: str) -> None:
        """The try was right: it does not count."""
        with self._lock:
            self._target.take_back(target)
            self._mine.take_back(f"{target}|{address}")


def client_key(request: Request) -> str:
    """The client's address as a rate-limit key: an IPv6 address as its /64."""
    address = client_address(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def rate_limit(request: Request) -> None:
    """Dependency of /auth: one limit per client address (an attacker spends their own)."""
    request.app.state.rate_limiter.hit(client_key(request))


class BodyLimit:
    """ASGI middleware: a body over the limit is refused by its Content-Length, or as it
    streams past the limit (413), so no request makes the server hold more than the limit.
    Uploads (``/v1/x-kilo/uploads/``) have their own, larger limit."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.json_limit = settings.max_body_mb * 1024 * 1024
        self.upload_limit = settings.max_upload_mb * 1024 * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = str(scope.get("path", "")).startswith("/v1/x-kilo/uploads/")
        limit = self.upload_limit if upload else self.json_limit
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _refuse(send, limit)
            return
        seen = 0
        over = False
        replaced = False

        async def limited() -> Message:
            nonlocal seen, over
            if over:
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # stop reading: the app sees a cut body, the client a 413
                    over = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def watch(message: Message) -> None:
            nonlocal replaced
            if over and message["type"] == "http.response.start":
                replaced = True
                await _refuse(send, limit)
                return
            if not replaced:
                await send(message)

        await self.app(scope, limited, watch)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "code": "payload_too_large",
            "message": f"the request body is over {limit // (1024 * 1024)} MB",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
