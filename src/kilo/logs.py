"""Where kilo's log goes when someone asks for it. Every core module logs to
``logging.getLogger(__name__)``; a failure that becomes a one-line reason (a quarantined
photo, a failed job) is logged at DEBUG with its traceback. Nothing is shown unless a front
end calls :func:`log_to_stderr` (``kilo -v``, ``KILO_LOG=debug``); worker processes follow
``KILO_LOG`` from the environment they are given, so their tracebacks show too."""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["ENV_VAR", "level_from_env", "log_to_stderr"]

ENV_VAR = "KILO_LOG"
_FORMAT = "%(levelname)s %(name)s [%(process)d]: %(message)s"


def level_from_env() -> int | None:
    """The level named by ``KILO_LOG`` (debug, info, warning, error), None when unset or
    unknown."""
    name = os.environ.get(ENV_VAR, "").strip().upper()
    level = logging.getLevelName(name) if name else None
    return level if isinstance(level, int) else None


def log_to_stderr(level: int, names: tuple[str, ...] = ("kilo",)) -> None:
    """Send the loggers ``names`` (``kilo``: the whole library) at ``level`` and above to
    stderr (one handler each, however often this is called), and name the level in
    ``KILO_LOG`` so worker processes started later do the same."""
    for name in names:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if not any(getattr(h, "_kilo", False) for h in logger.handlers):
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter(_FORMAT))
            handler._kilo = True  # type: ignore[attr-defined]
            logger.addHandler(handler)
    os.environ[ENV_VAR] = logging.getLevelName(level).lower()
