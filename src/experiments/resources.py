"""What this machine offers a run: its memory, as the operating system (and a container limit) say.

In-memory study runs hold every customer at once, so their size parameters are bounded by
:func:`memory_budget`; streamed commands (``experiments simulate``) hold one block per worker and are
bounded by their parameter declarations only.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["MEMORY_SHARE", "gib", "memory_budget", "physical_memory"]

#: Share of the machine's memory one run may plan to use (the rest: the system, the notebook kernel's
#: own libraries, the report).
MEMORY_SHARE = 0.75
_CGROUP_LIMITS = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))


def physical_memory() -> int | None:
    """Bytes of memory this process may use: the machine's physical memory (``os.sysconf``), or a
    container's lower limit; ``None`` where neither can be read."""
    try:
        total: int | None = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        total = None
    for limit_file in _CGROUP_LIMITS:
        try:
            limit = int(limit_file.read_text().strip())
        except (OSError, ValueError):  # absent, unreadable, or "max" (no limit)
            continue
        if limit > 0 and (total is None or limit < total):
            total = limit
    return total if total and total > 0 else None


def memory_budget() -> int | None:
    """Bytes an in-memory run may plan to use (:data:`MEMORY_SHARE` of :func:`physical_memory`)."""
    total = physical_memory()
    return None if total is None else int(total * MEMORY_SHARE)


def gib(n_bytes: int) -> str:
    """``n_bytes`` as GiB with one decimal, for messages."""
    return f"{n_bytes / 2**30:.1f} GiB"
