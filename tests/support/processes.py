"""Looking at the host's processes from tests: what a candidate may have left behind."""

from __future__ import annotations

import os
from pathlib import Path


def host_processes_with(token: str) -> list[int]:
    """Live host processes (other than this one) whose command line holds `token`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if token.encode() in cmdline and int(entry) != os.getpid():
                found.append(int(entry))
    return found
