"""Who runs a job: the claim a process writes on the jobs it takes (``host:pid:start``),
and whether that process still runs, so that a job is handed back only when its process
is gone and never while another kilo process on the same library works on it."""

from __future__ import annotations

import os
from pathlib import Path


def worker_id() -> str:
    """This process, as its claims name it."""
    pid = os.getpid()
    return f"{os.uname().nodename}:{pid}:{start_time(pid) or ''}"


def start_time(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, /proc), None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]  # field 22, after the command's parentheses


def claimer_alive(claimed_by: str | None) -> bool:
    """Whether the process named by ``claimed_by`` (``host:pid:start``) still runs; one on
    another machine is believed to (it cannot be asked)."""
    host, _, rest = (claimed_by or "").partition(":")
    pid_text, _, start = rest.partition(":")
    if not pid_text.isdigit():
        return False
    if host != os.uname().nodename:
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not start or start_time(int(pid_text)) in (start, None)  # a reused pid: gone
