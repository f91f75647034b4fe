"""Naming an executor: what ``KILO_EXECUTOR`` (or ``--executor``) may say, parsed (the
settings check it with this, before any pool exists)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kilo.errors import InvalidInput

__all__ = ["DASK_LOCAL", "DASK_PORT", "LOCAL", "ExecutorSpec", "parse_executor"]

LOCAL = "local"
DASK_LOCAL = "dask:local"
DASK_PORT = 8786


@dataclass(frozen=True, slots=True)
class ExecutorSpec:
    kind: Literal["local", "dask"]
    #: the scheduler's address (``tcp://host:port``); None with ``dask:local``
    address: str | None = None

    def __str__(self) -> str:
        if self.kind == "local":
            return LOCAL
        return DASK_LOCAL if self.address is None else self.address


def parse_executor(text: str | None) -> ExecutorSpec:
    """The executor a setting names; a one-line :class:`InvalidInput` for anything else."""
    value = (text or LOCAL).strip()
    if value.lower() == LOCAL:
        return ExecutorSpec("local")
    if value.lower() in (DASK_LOCAL, "dask://local", "dask"):
        return ExecutorSpec("dask")
    for scheme in ("dask://", "tcp://", "tls://"):
        if value.startswith(scheme):
            rest = value[len(scheme) :].rstrip("/")
            host, _, port = rest.rpartition(":") if ":" in rest else (rest, "", str(DASK_PORT))
            if host and port.isdigit() and 0 < int(port) < 65536 and "/" not in host:
                wire = "tls" if scheme == "tls://" else "tcp"
                return ExecutorSpec("dask", f"{wire}://{host}:{port}")
            break
    raise InvalidInput(
        f"unknown executor {value!r}: use local, dask:local or dask://host:{DASK_PORT}"
    )
