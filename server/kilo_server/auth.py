"""Passwordless login and refresh tokens, kept in the catalog.

A login is a challenge: a 6-digit code sent to an e-mail address, kept only as an HMAC of
the server's key (a leaked catalog does not give the codes away, and 10**6 codes cannot be
tried offline without the key), valid for 10 minutes, used once, burnt after 5 wrong tries,
compared in constant time. A try is read, counted and spent in one transaction, so tries
sent together cannot outrun the count. Known and unknown addresses take the same path and
get the same answer; only whether the code is sent differs (``open_signup`` off: unknown
addresses get a challenge nobody can answer). Refresh tokens are 256 random bits stored as
their SHA-256, rotated on every use; presenting one that was already rotated revokes all of
that user's tokens (it was stolen, or the client is confused: either way, log in again).

Access tokens (JWT) are minted by :mod:`kilo_server.tokens`, which owns PyJWT.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from kilo.catalog import Catalog
from kilo.catalog.users_repo import find_user, get_user_row, insert_user, user_exists
from kilo.clock import from_catalog, new_id, utcnow
from kilo.errors import InvalidInput, Unauthorized
from kilo.models import LoginStartRequest, LoginStartResponse, LoginVerifyRequest, User

__all__ = [
    "CODE_TTL",
    "MAX_CODE_ATTEMPTS",
    "OPEN_TOKEN_TTL",
    "REFRESH_TTL",
    "STUDIO_SESSION_TTL",
    "consume_open_token",
    "end_studio_session",
    "get_user",
    "issue_refresh_token",
    "mint_open_token",
    "read_studio_session",
    "revoke_refresh_token",
    "rotate_refresh_token",
    "start_login",
    "start_studio_session",
    "verify_login",
]

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
MAX_CODE_ATTEMPTS = 5
REFRESH_TTL = timedelta(days=30)
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_BAD_CODE = "the code is wrong, used or expired; ask for a new one"

#: Called with (email, code) when a code is to be sent.
Deliver = Callable[[str, str], None]


def _normalize_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInput("email is not an e-mail address")
    local, _, domain = email.partition("@")
    return f"{local}@{domain.lower()}"


def _code_hash(catalog: Catalog, challenge_id: str, code: str) -> str:
    key = catalog.settings.signing_key().encode()
    return hmac.new(key, f"login:{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_login(
    catalog: Catalog, request: LoginStartRequest, deliver: Deliver
) -> LoginStartResponse:
    """Create a challenge for ``request.email`` and hand its code to ``deliver`` (when the
    address may log in). The answer is the same for every address."""
    email = _normalize_email(request.email)
    challenge_id = new_id()
    code = f"{secrets.randbelow(10**6):06d}"
    now = utcnow()
    known = user_exists(catalog, email)
    catalog.execute(
        "INSERT INTO login_challenges (id, email, code_hash, delivery, attempts, expires_at, "
        "created_at) VALUES (?, ?, ?, 'email_code', 0, ?, ?)",
        [challenge_id, email, _code_hash(catalog, challenge_id, code), now + CODE_TTL, now],
    )
    if known or catalog.settings.open_signup:
        deliver(email, code)
    return LoginStartResponse(challenge_id=challenge_id, delivery="email_code")


def verify_login(catalog: Catalog, request: LoginVerifyRequest) -> User:
    """The user a correct code logs in (created on first login when sign-up is open).
    Anything else raises :class:`Unauthorized` with one message for every cause.

    The challenge is read, its try counted and the code used in one transaction (which
    holds the catalog's lock), so tries sent together are counted one after another: the
    code gets in only as one of the first :data:`MAX_CODE_ATTEMPTS` tries, once. A try on a
    challenge that is used, burnt or expired is not counted (``attempts`` never passes the
    limit)."""
    challenge_id, code = request.challenge_id[:64], request.code.strip()
    with catalog.transaction():
        row = catalog.fetchdict(
            "SELECT id, email, code_hash, attempts, expires_at, consumed_at "
            "FROM login_challenges WHERE id = ?",
            [challenge_id],
        )
        # hash even when there is no challenge, so a wrong id costs what a wrong code does
        given = _code_hash(catalog, str(row["id"]) if row else "none", code)
        user = _try_code(catalog, row, given) if row is not None else None
    if user is None:
        raise Unauthorized(_BAD_CODE)
    return user


def _try_code(catalog: Catalog, row: dict[str, Any], given: str) -> User | None:
    """One try of the challenge ``row`` (read in the caller's transaction): counted while
    the challenge lives; the user when ``given`` is its code's hash."""
    live = (
        row["consumed_at"] is None
        and int(row["attempts"]) < MAX_CODE_ATTEMPTS
        and _expires(row) > utcnow()
    )
    right = hmac.compare_digest(given, str(row["code_hash"]))  # constant time, always run
    if not live:
        return None
    # conditional, as a second guard: a challenge that is no longer live stays as it is
    still = "consumed_at IS NULL AND attempts < ?"
    if not right:
        catalog.execute(
            f"UPDATE login_challenges SET attempts = attempts + 1 WHERE id = ? AND {still}",
            [row["id"], MAX_CODE_ATTEMPTS],
        )
        return None
    used = catalog.fetchone(
        f"UPDATE login_challenges SET consumed_at = ? WHERE id = ? AND {still} RETURNING id",
        [utcnow(), row["id"], MAX_CODE_ATTEMPTS],
    )
    return _user_for(catalog, str(row["email"])) if used else None


def _expires(row: dict[str, Any]) -> datetime:
    when = from_catalog(row["expires_at"])
    assert when is not None  # NOT NULL column
    return when


def _user_for(catalog: Catalog, email: str) -> User | None:
    row = find_user(catalog, email)
    if row is None:
        if not catalog.settings.open_signup:
            return None
        uid = new_id()
        insert_user(catalog, uid, email, email.partition("@")[0])
        log.info("new user %s", uid)
        row = get_user_row(catalog, uid)
    assert row is not None
    return _user_model(row)


def _user_model(row: dict[str, object]) -> User:
    return User(
        id=str(row["id"]),
        email=str(row["email"]),
        display_name=str(row["display_name"]),
        created_at=from_catalog(row["created_at"]),  # type: ignore[arg-type]
    )


def get_user(catalog: Catalog, user_id: str) -> User | None:
    """The user with ``user_id``, None when there is none."""
    row = get_user_row(catalog, user_id)
    return _user_model(row) if row else None


def issue_refresh_token(catalog: Catalog, user_id: str) -> str:
    """A new refresh token for ``user_id`` (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    catalog.execute(
        "INSERT INTO refresh_tokens (id, user_id, token_hash, expires_at, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [new_id(), user_id, _token_hash(token), now + REFRESH_TTL, now],
    )
    return token


def rotate_refresh_token(catalog: Catalog, token: str) -> tuple[str, str]:
    """(user id, a new refresh token) for a live ``token``, which stops working. A token
    presented again after its rotation revokes every token of its user. Read and rotated in
    one transaction: of many requests with one token, one rotates it and the rest are
    repeats."""
    with catalog.transaction():
        row = catalog.fetchdict(
            "SELECT id, user_id, expires_at, revoked_at FROM refresh_tokens WHERE token_hash = ?",
            [_token_hash(token)],
        )
        if row is None or _expires(row) <= utcnow():
            raise Unauthorized("the refresh token is not valid; log in again")
        if row["revoked_at"] is not None:
            catalog.execute(
                "UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE user_id = ?",
                [utcnow(), row["user_id"]],
            )
            log.warning(
                "a rotated refresh token was used again: user %s logged out", row["user_id"]
            )
            revoked = True
        else:
            # one rotation per token, also as a statement: only a live row is revoked here
            rotated = catalog.fetchone(
                "UPDATE refresh_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL "
                "RETURNING id",
                [utcnow(), row["id"]],
            )
            if rotated is None:
                raise Unauthorized("the refresh token is not valid; log in again")
            revoked = False
            new = issue_refresh_token(catalog, str(row["user_id"]))
    if revoked:
        raise Unauthorized("the refresh token is not valid; log in again")
    return str(row["user_id"]), new


def revoke_refresh_token(catalog: Catalog, token: str) -> None:
    """Log out: ``token`` stops working (unknown tokens are ignored)."""
    catalog.execute(
        "UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE token_hash = ?",
        [utcnow(), _token_hash(token)],
    )


# -- the browser studio: `kilo open`'s one-time links and cookie sessions -------------------
OPEN_TOKEN_TTL = timedelta(seconds=60)
STUDIO_SESSION_TTL = timedelta(days=7)
_OPEN = "studio_open"


def mint_open_token(catalog: Catalog, user_id: str) -> str:
    """A one-time sign-in token for ``user_id`` (``kilo open``): 32 random bytes, only its
    SHA-256 kept, good for :data:`OPEN_TOKEN_TTL`, used once (:func:`consume_open_token`)."""
    row = get_user_row(catalog, user_id)
    if row is None:
        raise InvalidInput("no such user")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    catalog.execute(
        "INSERT INTO login_challenges (id, email, code_hash, delivery, attempts, expires_at, "
        "created_at) VALUES (?, ?, ?, ?, 0, ?, ?)",
        [new_id(), row["email"], _token_hash(token), _OPEN, now + OPEN_TOKEN_TTL, now],
    )
    return token


def consume_open_token(catalog: Catalog, token: str) -> str | None:
    """The user id a live one-time token signs in, using it up; None for a token that is
    unknown, used or expired. One conditional UPDATE in a transaction: of many requests
    with one token, exactly one gets the user."""
    with catalog.transaction():
        used = catalog.fetchone(
            "UPDATE login_challenges SET consumed_at = ? WHERE code_hash = ? AND delivery = ? "
            "AND consumed_at IS NULL AND expires_at > ? RETURNING email",
            [utcnow(), _token_hash(token[:200]), _OPEN, utcnow()],
        )
        row = find_user(catalog, str(used[0])) if used else None
    return None if row is None else str(row["id"])


def start_studio_session(catalog: Catalog, user_id: str, *, local: bool) -> str:
    """A new studio session of ``user_id`` (the cookie's value; its hash is kept);
    ``local``: made by ``kilo open`` for the local user from a loopback request."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    catalog.execute(
        "INSERT INTO studio_sessions (token_hash, user_id, local, expires_at, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [_token_hash(token), user_id, local, now + STUDIO_SESSION_TTL, now],
    )
    return token


def read_studio_session(catalog: Catalog, token: str) -> tuple[str, bool] | None:
    """(user id, local) of a live studio session, None else."""
    row = catalog.fetchone(
        "SELECT user_id, local FROM studio_sessions WHERE token_hash = ? "
        "AND revoked_at IS NULL AND expires_at > ?",
        [_token_hash(token[:200]), utcnow()],
    )
    return None if row is None else (str(row[0]), bool(row[1]))


def end_studio_session(catalog: Catalog, token: str) -> None:
    """Log out of a studio session (unknown tokens are ignored)."""
    catalog.execute(
        "UPDATE studio_sessions SET revoked_at = coalesce(revoked_at, ?) WHERE token_hash = ?",
        [utcnow(), _token_hash(token[:200])],
    )
