"""Gallery passwords: argon2id hashes (argon2-cffi, from the ``server`` extra: a password
only matters where a gallery is served). Never stored or returned in clear.

A check costs 64 MiB and a few cores' worth of hashing for ~0.1 s, so at most one check per
core runs at a time (the others wait their turn): many tries at once, even from many
addresses that each stay within their rate limits, queue instead of taking the server's
memory. How many tries an address or a link gets is the HTTP adapter's rate limits'
business (:mod:`kilo_server.routes.share`)."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any

from kilo.errors import InvalidInput

_CHECKS = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))


@lru_cache(maxsize=1)
def _hasher() -> Any:
    try:
        from argon2 import PasswordHasher
    except ImportError:
        raise InvalidInput(
            "password-protected galleries need argon2-cffi: pip install 'kilo[server]'"
        ) from None
    return PasswordHasher()


def hash_password(password: str) -> str:
    return str(_hasher().hash(password))


@lru_cache(maxsize=1)
def _decoy() -> str:
    return hash_password("kilo: no password here")


def check_password(stored: str | None, given: str) -> bool:
    """Whether ``given`` matches ``stored``. Costs one argon2 verification either way (a
    decoy hash when there is nothing to check), so a missing gallery answers in the time a
    wrong password does."""
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher, against = _hasher(), stored or _decoy()
    with _CHECKS:
        try:
            return bool(hasher.verify(against, given)) and stored is not None
        except (VerificationError, InvalidHashError):
            return False
