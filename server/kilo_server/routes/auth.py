"""Auth: passwordless login (a code by e-mail) and, as extensions, token refresh and logout."""

from __future__ import annotations

import logging
import threading

from fastapi import APIRouter, Depends, Request, Response

from kilo.catalog import Catalog
from kilo.errors import Forbidden, InvalidInput
from kilo.models import (
    KiloModel,
    LoginStartRequest,
    LoginStartResponse,
    LoginVerifyRequest,
    LoginVerifyResponse,
)
from kilo_server.auth import (
    Deliver,
    end_studio_session,
    get_user,
    issue_refresh_token,
    revoke_refresh_token,
    rotate_refresh_token,
    start_login,
    verify_login,
)
from kilo_server.deps import STUDIO_COOKIE, STUDIO_HEADER, CatalogDep
from kilo_server.limits import rate_limit
from kilo_server.mail import send_mail
from kilo_server.routes import errors
from kilo_server.tokens import mint_access_token

log = logging.getLogger(__name__)
router = APIRouter(tags=["Auth"], dependencies=[Depends(rate_limit)])


def _deliver(catalog: Catalog) -> Deliver:
    settings = catalog.settings

    def send(email: str, code: str) -> None:
        if settings.dev_login_codes:
            log.warning("dev login code for %s: %s", email, code)
        if not settings.smtp_host:
            if not settings.dev_login_codes:
                log.error("login code for %s not sent: no SMTP server configured", email)
            return

        def run() -> None:
            try:
                send_mail(
                    settings,
                    email,
                    f"Your kilo code: {code}",
                    f"Your kilo sign-in code is {code}.\n\nIt works once, for 10 minutes."
                    "\nIf you did not ask for it, ignore this message.\n",
                )
            except Exception:
                log.exception("sending the login code to %s failed", email)

        # sent on a thread: the answer never waits for the SMTP server, so it takes the same
        # time whether a code goes out or not
        threading.Thread(target=run, name="kilo-mail", daemon=True).start()

    return send


@router.post("/auth/login", response_model=LoginStartResponse, responses=errors(400, 429))
def login(body: LoginStartRequest, catalog: CatalogDep) -> LoginStartResponse:
    """Start passwordless login: a 6-digit code goes to the e-mail address."""
    return start_login(catalog, body, _deliver(catalog))


def _tokens(catalog: Catalog, user_id: str, refresh: str) -> LoginVerifyResponse:
    user = get_user(catalog, user_id)
    assert user is not None
    return LoginVerifyResponse(
        access_token=mint_access_token(catalog.settings, user_id), refresh_token=refresh, user=user
    )


@router.post("/auth/verify", response_model=LoginVerifyResponse, responses=errors(400, 401, 429))
def verify(body: LoginVerifyRequest, catalog: CatalogDep) -> LoginVerifyResponse:
    """Check the code; mint an access token (15 min) and a refresh token."""
    user = verify_login(catalog, body)
    return _tokens(catalog, user.id, issue_refresh_token(catalog, user.id))


class RefreshRequest(KiloModel):
    refresh_token: str


@router.post(
    "/x-kilo/auth/refresh", response_model=LoginVerifyResponse, responses=errors(400, 401, 429)
)
def refresh(body: RefreshRequest, catalog: CatalogDep) -> LoginVerifyResponse:
    """Extension: a new access token and a new refresh token for a live refresh token (which
    stops working)."""
    user_id, new = rotate_refresh_token(catalog, body.refresh_token)
    return _tokens(catalog, user_id, new)


class LogoutResponse(KiloModel):
    ok: bool


@router.post("/x-kilo/auth/logout", response_model=LogoutResponse, responses=errors(400, 403, 429))
def logout(
    request: Request,
    response: Response,
    catalog: CatalogDep,
    body: RefreshRequest | None = None,
) -> LogoutResponse:
    """Extension: the refresh token stops working; with the studio's cookie (and its
    ``X-Kilo-Studio: 1`` header) the studio session ends and the cookie is cleared."""
    cookie = request.cookies.get(STUDIO_COOKIE)
    if body is None and not cookie:
        raise InvalidInput("send {refreshToken}, or the studio's session cookie")
    if cookie and request.headers.get(STUDIO_HEADER) != "1":
        raise Forbidden("a request signed by the studio's cookie must send X-Kilo-Studio: 1")
    if body is not None:
        revoke_refresh_token(catalog, body.refresh_token)
    if cookie:
        end_studio_session(catalog, cookie)
        response.delete_cookie(STUDIO_COOKIE, path="/", httponly=True, samesite="strict")
    return LogoutResponse(ok=True)
