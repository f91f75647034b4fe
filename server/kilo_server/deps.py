"""What routes depend on: the catalog of the running server, the signed-in user (the one
gate every non-public route sits behind), ownership checks of path ids, client addresses."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from kilo.access import Owned, check_owner
from kilo.catalog import Catalog
from kilo.clock import parse_uuid
from kilo.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from kilo_server.auth import get_user, read_studio_session
from kilo_server.tokens import read_access_token

_bearer = HTTPBearer(auto_error=False, description="An access token from /auth/verify.")


async def get_catalog(request: Request) -> Catalog:  # async: no thread hop for a lookup
    catalog: Catalog = request.app.state.catalog
    return catalog


CatalogDep = Annotated[Catalog, Depends(get_catalog)]


@dataclass(frozen=True)
class Caller:
    """The signed-in user of a request, with the catalog the request works on."""

    user_id: str
    catalog: Catalog
    #: signed in by the studio's cookie (not a bearer token)
    by_cookie: bool = False
    #: a studio session ``kilo open`` made for the local user from loopback
    local_session: bool = False

    def owns(self, kind: Owned, value: UUID | str) -> str:
        """The id ``value`` when this user owns it; NotFound (as if it did not exist) else."""
        return check_owner(self.catalog, self.user_id, kind, str(value))

    def owns_or_bad_request(self, kind: Owned, value: UUID | str) -> str:
        """:meth:`owns` for operations whose contract has no 404: what is not this user's
        is a bad request (400), with the same words."""
        try:
            return self.owns(kind, value)
        except NotFound as exc:
            raise InvalidInput(exc.reason) from None

    def owns_pending(self, asset_id: str, project_id: str) -> str:
        """A prepared upload of this user's project ``project_id`` (not listed as an asset
        until finalized); a bad request otherwise (the contract has no 404 there)."""
        row = self.catalog.table("assets").get(parse_uuid(asset_id, "asset id"), ("project_id",))
        if row is None or row["project_id"] != project_id:
            raise InvalidInput(f"no upload with id {asset_id} in this project")
        return asset_id


class KnownUsers:
    """Users recently found in the catalog, so that a burst of requests with one token asks
    the catalog once (and the gate needs no thread): an entry is believed for ``ttl_s``."""

    def __init__(self, ttl_s: float = 60.0) -> None:
        self.ttl_s = ttl_s
        self._seen: dict[str, float] = {}

    def recent(self, user_id: str) -> bool:
        seen = self._seen.get(user_id)
        return seen is not None and time.monotonic() - seen < self.ttl_s

    def add(self, user_id: str) -> None:
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[user_id] = time.monotonic()


#: the studio session's cookie (HttpOnly, SameSite=Strict, Path=/)
STUDIO_COOKIE = "kilo_studio"
#: the header a cookie-signed request must send with an unsafe method (a page of another
#: site can make a browser send the cookie with a form post, never with this header)
STUDIO_HEADER = "x-kilo-studio"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def current_user(
    request: Request,
    catalog: CatalogDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The gate: a valid access token of an existing user, or the studio's session cookie
    (with ``X-Kilo-Studio: 1`` on unsafe methods); 401 else (403 for a cookie-signed unsafe
    request without the header)."""
    if credentials is None:
        cookie = request.cookies.get(STUDIO_COOKIE)
        if cookie:
            return await _cookie_caller(request, catalog, cookie)
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("sign in: send Authorization: Bearer <access token>")
    user_id = read_access_token(catalog.settings, credentials.credentials)  # no I/O
    known: KnownUsers = request.app.state.known_users
    if not known.recent(user_id):
        if await run_in_threadpool(get_user, catalog, user_id) is None:
            raise Unauthorized("the access token names no user of this server")
        known.add(user_id)
    return Caller(user_id, catalog)


async def _cookie_caller(request: Request, catalog: Catalog, cookie: str) -> Caller:
    session = await run_in_threadpool(read_studio_session, catalog, cookie)
    if session is None:
        raise Unauthorized("the studio session has ended; sign in again (kilo open)")
    if request.method not in SAFE_METHODS and request.headers.get(STUDIO_HEADER) != "1":
        raise Forbidden("a request signed by the studio's cookie must send X-Kilo-Studio: 1")
    user_id, local = session
    return Caller(user_id, catalog, by_cookie=True, local_session=local)


CallerDep = Annotated[Caller, Depends(current_user)]


def client_address(request: Request) -> str:
    """The client's address; X-Forwarded-For is believed only from a configured proxy."""
    peer = request.client.host if request.client else "unknown"
    proxies = request.app.state.catalog.settings.trusted_proxies
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and peer in proxies:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        for hop in reversed(hops):  # the nearest hop not one of our proxies
            if hop not in proxies:
                return hop
    return peer


async def no_unknown_query(request: Request) -> None:
    """Refuse query parameters the route does not declare (a misspelt filter would
    otherwise be ignored silently and return everything)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not request.query_params:
        return
    known = {p.alias or p.name for p in _all_query_params(dependant)}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": "unknown query parameter",
                    "type": "extra_forbidden",
                }
                for name in unknown[:3]
            ]
        )


def _all_query_params(dependant: Any) -> list[Any]:
    params = list(dependant.query_params)
    for sub in dependant.dependencies:
        params += _all_query_params(sub)
    return params
