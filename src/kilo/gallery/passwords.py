"""Gallery passwords: argon2id hashes (argon2-cffi, from the ``server`` extra: a password
only matters where a gallery is served). Never stored or returned in clear."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from kilo.errors import InvalidInput


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

    try:
        return bool(_hasher().verify(stored or _decoy(), given)) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
