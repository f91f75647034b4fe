"""Limits: request bodies capped before they are read whole, and a per-client rate limit
(a sliding window of the last minute) for the routes anyone can reach (/auth, /share)."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kilo.api.deps import client_address
from kilo.errors import RateLimited
from kilo.settings import Settings


class RateLimiter:
    """At most ``per_minute`` hits per key in any 60 s."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and now - hits[0] >= 60.0:
                hits.popleft()
            if len(hits) >= self.per_minute:
                retry = max(1, int(60.0 - (now - hits[0])) + 1)
                raise RateLimited("too many requests; wait and try again",
                                  details={"retryAfter": retry})  # fmt: skip
            hits.append(now)
            if len(self._hits) > 100_000:  # forget idle clients rather than grow forever
                for k in [k for k, v in self._hits.items() if not v][:50_000]:
                    del self._hits[k]


def rate_limit(request: Request) -> None:
    """Dependency of the public routes: one shared limit per client address."""
    request.app.state.rate_limiter.hit(client_address(request))


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
