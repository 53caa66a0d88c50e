"""Reading a benchmark run's store from tests while another process may still be writing it."""

from __future__ import annotations

from pathlib import Path

from engine.store import Store


def attempts(path: Path) -> dict[str, list[tuple[str, int, str, int]]]:
    """problem id -> its attempts as (task id, attempt, status, events); {} until the store
    file and its schema exist."""
    try:
        with Store(path, readonly=True) as store:
            out: dict[str, list[tuple[str, int, str, int]]] = {}
            for t in store.tasks():
                out.setdefault(t.problem_id, []).append((t.task_id, t.attempt, t.status,
                                                         t.last_seq))
            return out
    except Exception:
        return {}
