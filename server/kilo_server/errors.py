"""One mapping of failures to the contract's ``Error`` schema: kilo's error tree by its
``http_status``, request validation (FastAPI's 422) as 400, unknown routes and methods (a
405 lists in ``Allow`` every method the path serves, from the table
:func:`record_routes` keeps), anything unexpected as a 500 that says nothing about the
server's insides (logged with its traceback under the request id), and the request id
itself (:class:`RequestId`)."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kilo.errors import KiloError, RateLimited
from kilo.models import Error

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Error(
        code=code,
        message=message,
        details=details,
        request_id=getattr(request.state, "request_id", None),
    )
    return JSONResponse(body.dump(), status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors()[:3]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "request"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is not valid"


RouteTable = list[tuple[re.Pattern[str], frozenset[str]]]


def record_routes(app: FastAPI, routes: Iterable[BaseRoute], prefix: str = "") -> None:
    """Note the paths (under ``prefix``) and methods of ``routes`` in the app's route table:
    what a 405's ``Allow`` is made from (FastAPI keeps included routers behind its own
    objects, which say nothing of their paths)."""
    if not hasattr(app.state, "routes"):
        app.state.routes = []
    table: RouteTable = app.state.routes
    for route in routes:
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path and methods:
            table.append((compile_path(prefix + path)[0], frozenset(methods)))


def _allowed_methods(request: Request) -> list[str]:
    table: RouteTable = getattr(request.app.state, "routes", [])
    path = request.scope["path"]
    methods: set[str] = set()
    for pattern, served in table:
        if pattern.match(path):
            methods |= served
    methods.discard("HEAD")
    return sorted(methods)


def _bad_request_status(request: Request) -> int:
    """What a malformed request answers: 400 where the operation documents it; where it
    does not but has a 404 (the contract's GETs), 404: what it names does not exist. (The
    listings that document neither answer 400, a stated deviation.)"""
    documented = getattr(request.scope.get("route"), "responses", None) or {}
    if 400 in documented or "400" in documented or 404 not in documented:
        return 400
    return 404


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KiloError)
    async def kilo_error(request: Request, exc: KiloError) -> JSONResponse:
        status = exc.http_status if exc.http_status < 500 else 500
        if status == 400 and _bad_request_status(request) == 404:  # a made-up cursor
            return error_response(request, 404, "not_found", exc.reason)
        if status >= 500:
            log.error(
                "request %s failed: %s",
                getattr(request.state, "request_id", "?"),
                exc.reason,
                exc_info=exc,
            )
        headers = None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(int((exc.details or {}).get("retryAfter", 60)))}
        message = exc.reason if status < 500 else "the server could not do that"
        return error_response(request, status, exc.code, message, None, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        status = _bad_request_status(request)
        code = "bad_request" if status == 400 else "not_found"
        return error_response(
            request, status, code, _validation_message(exc), {"errors": len(exc.errors())}
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, "error")
        message = str(exc.detail) if exc.status_code != 404 else "no such route"
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # every method the path has, not just the first route's
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return error_response(request, exc.status_code, code, message, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("request %s failed", getattr(request.state, "request_id", "?"), exc_info=exc)
        return error_response(request, 500, "internal", "the server could not do that")


class RequestId:
    """ASGI middleware: every HTTP request gets an id (``request.state.request_id``, the
    ``requestId`` of its errors, the ``X-Request-Id`` header of its response). Plain ASGI,
    not Starlette's BaseHTTPMiddleware: no extra task per request, streams untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = rid

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        await self.app(scope, receive, tagged)
