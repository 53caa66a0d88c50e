"""GPU memory for the status bar, when a GPU is there to ask (NVIDIA's `nvidia-smi`).

Asked from a worker thread every few seconds, never from the event loop; where there is no
`nvidia-smi` (a CPU machine, Apple silicon) the status bar simply shows no GPU figure.
"""

from __future__ import annotations

import shutil
import subprocess

QUERY = ("nvidia-smi", "--query-gpu=memory.used,memory.total", "--format=csv,noheader,nounits")


def available() -> bool:
    return shutil.which("nvidia-smi") is not None


def parse(output: str) -> str | None:
    """'9120, 16376' per GPU (MiB) -> '8.9/16.0 GiB' (summed over GPUs); None if unreadable."""
    used = total = 0.0
    for line in output.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 2:
            return None
        try:
            used, total = used + float(parts[0]), total + float(parts[1])
        except ValueError:
            return None
    return f"{used / 1024:.1f}/{total / 1024:.1f} GiB" if total else None


def read() -> str | None:
    try:
        done = subprocess.run(QUERY, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse(done.stdout) if done.returncode == 0 else None
