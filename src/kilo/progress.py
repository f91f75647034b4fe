"""Progress reporting and per-item results shared by every long-running operation.

The core never prints. Long work takes ``progress: ProgressCallback | None`` and calls it with
:class:`Progress` snapshots; front ends draw bars from them. Batches return one
:class:`ItemResult` per item, so one bad file never stops a run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

ItemStatus = Literal["ok", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class Progress:
    """A snapshot of a running operation."""

    stage: str
    done: int
    total: int | None = None
    item: str | None = None
    status: ItemStatus | None = None
    message: str | None = None
    bytes_done: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


ProgressCallback = Callable[[Progress], None]


def report(progress: ProgressCallback | None, snapshot: Progress) -> None:
    """Call ``progress`` if given. A failing callback must not break the work."""
    if progress is None:
        return
    with contextlib.suppress(Exception):  # a front end's bug never stops a batch
        progress(snapshot)


class ItemResult(BaseModel):
    """Outcome of one item of a batch: ok, skipped (with why) or failed (with why)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    item: str
    status: ItemStatus
    reason: str | None = None
    asset_id: str | None = None
    extra: dict[str, object] = Field(default_factory=dict)
