"""The browser studio's sign-in (``/v1/x-kilo/``): ``kilo open``'s one-time link becomes a
session cookie, ``/x-kilo/me`` says who is signed in, ``/x-kilo/health`` which library a
running server serves (so ``kilo open`` finds its own).

The session is an ``HttpOnly``, ``SameSite=Strict``, ``Path=/`` cookie (no script reads
it; no other site's page sends it); the API's gate takes it as it takes a bearer token,
and wants ``X-Kilo-Studio: 1`` on every unsafe method signed by it (:mod:`kilo_server.deps`).
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from kilo.errors import Unauthorized
from kilo.models import KiloModel, User
from kilo_server.auth import STUDIO_SESSION_TTL, consume_open_token, get_user, start_studio_session
from kilo_server.deps import STUDIO_COOKIE, CallerDep, CatalogDep, client_address
from kilo_server.limits import rate_limit
from kilo_server.routes import errors

router = APIRouter(tags=["Studio"])
public = APIRouter(tags=["Studio"])
LOOPBACK = frozenset({"127.0.0.1", "::1"})


def safe_next(value: str | None) -> str:
    """Where a sign-in may send the browser: a path of this site (``/…``, no scheme, no
    host, no ``//`` or ``/\\`` that a browser reads as another host, no control
    characters); ``/`` for anything else."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 0x21 or c in "\\\x7f" for c in value) or len(value) > 2000:
        return "/"
    return value


@public.get(
    "/x-kilo/auth/open",
    status_code=303,
    responses={303: {"description": "Signed in; on to `next`."}, **errors(400, 401, 429)},
    response_class=RedirectResponse,
    dependencies=[Depends(rate_limit)],
)
def auth_open(
    request: Request,
    catalog: CatalogDep,
    token: Annotated[str, Query(min_length=16, max_length=200)],
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> RedirectResponse:
    """Extension: sign in with ``kilo open``'s one-time link (60 s, used once): sets the
    studio session cookie and redirects (303) to ``next`` (a path of this site, else
    ``/``)."""
    user_id = consume_open_token(catalog, token)
    if user_id is None:
        raise Unauthorized("this sign-in link is used or expired; run kilo open again")
    local = user_id == catalog.local_user_id and client_address(request) in LOOPBACK
    session = start_studio_session(catalog, user_id, local=local)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        STUDIO_COOKIE,
        session,
        max_age=int(STUDIO_SESSION_TTL.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


class Health(KiloModel):
    ok: bool
    #: which library this server serves (a digest of its catalog's path)
    library: str
    version: str


def library_digest(path: str) -> str:
    """The digest ``/x-kilo/health`` names a library by (its catalog's resolved path)."""
    return hashlib.sha256(path.encode()).hexdigest()[:16]


@public.get("/x-kilo/health", response_model=Health)
def health(catalog: CatalogDep) -> Health:
    """Extension: the server is up; which library it serves (as a digest)."""
    from kilo import __version__

    path = str(catalog.settings.catalog_path.resolve())
    return Health(ok=True, library=library_digest(path), version=__version__)


class Me(KiloModel):
    user: User
    #: signed in by the studio's cookie (else a bearer token)
    studio_session: bool
    #: the photographer at this machine (``kilo open``): may ingest local folders
    local: bool


@router.get("/x-kilo/me", response_model=Me, responses=errors(401))
def me(caller: CallerDep) -> Me:
    """Extension: who is signed in (the app's user)."""
    user = get_user(caller.catalog, caller.user_id)
    if user is None:
        raise Unauthorized("the session names no user of this server")
    return Me(user=user, studio_session=caller.by_cookie, local=caller.local_session)
