"""What CPUs this process may use: every hardware thread (for processes such as sandbox workers)
and every core counted once (for llama.cpp's decoding threads)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

SYSFS_CPUS = Path("/sys/devices/system/cpu")


def available_cores() -> int:
    """Hardware threads this process may run on (its affinity, else the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def physical_cores(cpus: Iterable[int] | None = None, sysfs: Path = SYSFS_CPUS) -> int | None:
    """Cores among `cpus` (default: this process's), a core's hardware threads counted once, as
    llama.cpp's own programs count them for decoding threads; None where the topology cannot be
    read (not Linux)."""
    if cpus is None:
        try:
            cpus = os.sched_getaffinity(0)
        except (AttributeError, OSError):
            return None
    cores: set[str] = set()
    for cpu in cpus:
        try:
            siblings = (sysfs / f"cpu{cpu}" / "topology" / "thread_siblings_list").read_text()
        except OSError:
            return None
        cores.add(siblings.strip())
    return len(cores) or None
