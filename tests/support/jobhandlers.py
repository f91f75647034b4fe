"""Job handlers used by the job-queue tests (importable by worker processes)."""

from __future__ import annotations

import os
import time
from typing import Any

from kilo.catalog import Catalog
from kilo.jobs import HANDLER_PATHS, JobHandler, JobRow, register_handler


class Square(JobHandler):
    """Pooled: squares ``payload.n`` in a worker; fails while ``payload.fail_until`` > attempt."""

    type = "test.square"
    pooled = True

    def prepare(self, catalog: Catalog, job: JobRow) -> Any:
        return {**job.payload, "attempt": job.attempts}

    def compute(self, payload: Any) -> Any:
        if payload.get("always_fail"):
            raise ValueError(f"cannot square {payload['n']}")
        if payload["attempt"] <= payload.get("fail_until", 0):
            raise RuntimeError(f"flaky on attempt {payload['attempt']}")
        time.sleep(payload.get("sleep", 0))
        return {"square": payload["n"] ** 2, "pid": os.getpid()}

    def apply(self, catalog: Catalog, job: JobRow, result: Any) -> None:
        catalog.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [f"square:{job.payload['n']}", str(result["square"])],
        )


SQUARE = register_handler(Square())
HANDLER_PATHS["test.square"] = "support.jobhandlers:SQUARE"
