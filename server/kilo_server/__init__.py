"""The HTTP adapter: ``create_app(settings)`` serves ``../shared/openapi.yaml`` under ``/v1``.

Routes only parse, check who is asking, call the library (the same functions as the CLI)
and return its models; errors become the contract's ``Error`` in one place
(:mod:`kilo_server.errors`). The server process is the catalog's one writer: requests run on
FastAPI's thread pool against one open catalog, and a worker thread runs the job queue
(ingest processing, clustering, exports, edit.apply) so no request waits for it. A server
killed mid-job hands the job back on the next start.

Extensions the contract lacks live under ``/v1/x-kilo/`` (token refresh and logout, signed
file downloads, the browser studio's cull view and sign-in). The studio's web app itself is
served at ``/`` (:mod:`kilo_server.webapp`).

Every ``/v1`` response says ``X-Content-Type-Options: nosniff`` and, unless it sets its own,
a Content-Security-Policy that gives whatever a browser renders from it no script and an
opaque origin (:class:`SecureHeaders`); every JSON answer (private data, a visitor's token)
is ``Cache-Control: no-store``. Images keep their own caching.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kilo.catalog import open_catalog
from kilo.settings import Settings, load_settings
from kilo_server.deps import KnownUsers, current_user, no_unknown_query
from kilo_server.errors import RequestId, install_error_handlers, record_routes
from kilo_server.gallery_page import VisitorCookie
from kilo_server.limits import BodyLimit, RateLimiter
from kilo_server.webapp import WebApp

__all__ = ["API_PREFIX", "create_app"]

log = logging.getLogger(__name__)
API_PREFIX = "/v1"


SHARED_LOOK_S = 2.0
DOCS_URL = f"{API_PREFIX}/docs"
#: the policy of every API response that sets none: nothing loads, nothing runs, no origin
API_CSP = b"default-src 'none'; sandbox; frame-ancestors 'none'"


class SecureHeaders:
    """ASGI middleware for ``/v1`` (plain ASGI: streams untouched): ``nosniff`` on every
    response, :data:`API_CSP` where the route set no policy, and ``no-store`` (in place of
    any other caching) on every JSON answer. The interactive docs page keeps its own rules
    (it runs Swagger's script)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(API_PREFIX + "/") or path.startswith(DOCS_URL):
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = secure_headers(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, secured)


def secure_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A response's headers with :class:`SecureHeaders`' rules applied."""
    names = {name.lower() for name, _ in headers}
    kind = next((v for n, v in headers if n.lower() == b"content-type"), b"").lower()
    out = list(headers)
    if b"x-content-type-options" not in names:
        out.append((b"x-content-type-options", b"nosniff"))
    if b"content-security-policy" not in names:
        out.append((b"content-security-policy", API_CSP))
    media = kind.split(b";")[0].strip()
    if media == b"application/json" or media.endswith(b"+json"):
        out = [(n, v) for n, v in out if n.lower() != b"cache-control"]
        out.append((b"cache-control", b"no-store"))
    return out


def _run_jobs_until(settings: Settings, app: FastAPI, stop: threading.Event) -> None:
    """The server's job worker: drain the queue; then analyze (signals, clusters, winners)
    the projects whose uploads are processed, as ``kilo analyze`` does after an ingest; look
    again every half second (every 2 s while another kilo process has the library: each look
    takes the file from it). A project whose analysis left photos failing is tried again
    only when its set of waiting photos changes; one that another kilo process works on (a
    `kilo ingest` in a terminal) is left to it."""
    from kilo.analyze import projects_to_analyze
    from kilo.ingest import process_project
    from kilo.jobs import run_jobs
    from kilo.jobs.reservations import projects_busy_elsewhere

    catalog = app.state.catalog
    tried: dict[str, frozenset[str]] = {}
    while not stop.is_set():
        alone = catalog.holds_file  # no other kilo process took the library meanwhile
        try:
            run_jobs(catalog, should_stop=stop.is_set)
            if settings.auto_analyze:
                busy = projects_busy_elsewhere(catalog)
                for pid, waiting in projects_to_analyze(catalog).items():
                    if stop.is_set() or tried.get(pid) == waiting or pid in busy:
                        continue
                    tried[pid] = waiting
                    process_project(catalog, pid, should_stop=stop.is_set)
        except Exception:
            log.exception("the job worker failed; it starts again")
        stop.wait(0.5 if alone else SHARED_LOOK_S)


def create_app(settings: Settings | None = None, *, run_jobs: bool = True) -> FastAPI:
    """The kilo HTTP API over the catalog of ``settings`` (default: from the environment).
    ``run_jobs`` False leaves queued jobs to another process (tests, a read-only replica)."""
    settings = settings or load_settings()
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import asyncio

        from kilo_server.realtime import Broadcaster
        from kilo_server.uploads import clean_upload_staging

        app.state.catalog = open_catalog(settings)
        clean_upload_staging(settings)  # what a server killed mid-PUT left (no live PUT's)
        app.state.shutdown = asyncio.Event()
        app.state.broadcaster = Broadcaster(app.state.catalog)
        await app.state.broadcaster.start()
        worker = None
        if run_jobs:
            worker = threading.Thread(
                target=_run_jobs_until, args=(settings, app, stop), name="kilo-jobs", daemon=True
            )
            worker.start()
        try:
            yield
        finally:
            app.state.shutdown.set()
            await app.state.broadcaster.stop()
            stop.set()
            if worker is not None:
                worker.join(timeout=30)
            app.state.catalog.close()

    app = FastAPI(
        dependencies=[Depends(no_unknown_query)],
        title="KILO Photography Platform API",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=DOCS_URL,
        redoc_url=None,
        # one schema per model, its fields (the models' wrap serializer would otherwise
        # describe every answer as an empty object: clients generate their types from this)
        separate_input_output_schemas=False,
    )
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_min)
    app.state.known_users = KnownUsers()
    install_error_handlers(app)
    _include_routes(app)
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(VisitorCookie)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(SecureHeaders)
    app.add_middleware(WebApp, settings=settings)
    app.add_middleware(RequestId)

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _include_routes(app: FastAPI) -> None:
    from kilo_server import files, gallery_page, realtime
    from kilo_server.routes import (
        assets,
        auth,
        clusters,
        cull,
        edits,
        exports,
        galleries,
        jobs,
        projects,
        search,
        share,
        studio,
        uploads,
    )

    gate = [Depends(current_user)]

    def include(router: APIRouter, prefix: str = API_PREFIX, gated: bool = True) -> None:
        app.include_router(router, prefix=prefix, dependencies=gate if gated else None)
        record_routes(app, router.routes, prefix)

    include(auth.router, gated=False)
    include(files.router, gated=False)  # signed URLs: their own gate
    include(uploads.signed, gated=False)
    include(share.router, gated=False)  # a gallery's own gate and limits
    include(gallery_page.router, prefix="", gated=False)  # the client's page, /g/{shareSlug}
    include(studio.public, gated=False)  # kilo open's one-time link; health
    for module in (
        projects,
        assets,
        uploads,
        clusters,
        edits,
        search,
        exports,
        galleries,
        jobs,
        realtime,
        cull,
        studio,
    ):
        include(module.router)
    include(clusters.culling)
    record_routes(app, app.router.routes)  # the app's own: its description, the docs


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The app's own description: validation errors are answered as 400 (the contract's
    BadRequest), so FastAPI's 422 entries are left out; paths are relative to the server
    URL ``/v1`` as in the contract."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        routes=app.routes,
        separate_input_output_schemas=app.separate_input_output_schemas,
    )
    paths: dict[str, Any] = {}
    for path, ops in schema.get("paths", {}).items():
        for op in ops.values():
            op.get("responses", {}).pop("422", None)
        paths[path.removeprefix(API_PREFIX) or "/"] = ops
    schema["paths"] = paths
    schema["servers"] = [{"url": API_PREFIX}]
    for name in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)
    app.openapi_schema = schema
    return schema
