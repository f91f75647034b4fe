"""Access tokens: short-lived JWTs (HS256, PyJWT) naming the user. The header's ``kid`` says
which key signed a token, so the key can rotate: tokens signed with a key in
``previous_secret_keys`` keep working until they expire, new ones use ``secret_key``."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import jwt

from kilo.clock import new_id, utcnow
from kilo.errors import Unauthorized
from kilo.settings import Settings

ACCESS_TTL = timedelta(minutes=15)
_ALGORITHM = "HS256"
_AUDIENCE = "kilo-api"


def key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def mint_access_token(settings: Settings, user_id: str) -> str:
    key = settings.signing_key()
    now = utcnow()
    claims: dict[str, Any] = {
        "sub": user_id,
        "aud": _AUDIENCE,
        "iat": now,
        "exp": now + ACCESS_TTL,
        "jti": new_id(),
    }
    return jwt.encode(claims, key, algorithm=_ALGORITHM, headers={"kid": key_id(key)})


def read_access_token(settings: Settings, token: str) -> str:
    """The user id a valid, unexpired access token names; :class:`Unauthorized` else."""
    keys = {key_id(k): k for k in [settings.signing_key(), *settings.previous_secret_keys]}
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = keys.get(str(kid))
        if key is None:
            raise Unauthorized("the access token was signed with a key this server does not use")
        claims = jwt.decode(
            token,
            key,
            algorithms=[_ALGORITHM],
            audience=_AUDIENCE,
            options={"require": ["exp", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the access token has expired; refresh it or log in again") from None
    except jwt.PyJWTError:
        raise Unauthorized("the access token is not valid") from None
    return str(claims["sub"])
