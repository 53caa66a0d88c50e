"""From what the workbench holds to what its panes show: pure functions, no widgets touched.

The queue row's status has one writer, the solver (`SolveQueue`'s status callback, recorded
in `WorkbenchBase.status_of`); whether a solving task waits at a step gate is read from its
folded state here, never written back.
"""

from __future__ import annotations

from pathlib import Path

from atlas_tui.config import Config
from atlas_tui.folder import Item
from engine.llm.base import Backend
from engine.state import TaskState
from widgets.notices import summary as notice_summary
from widgets.queue import QueueEntry

NEW = ("new", "")


def row_status(recorded: tuple[str, str], state: TaskState | None) -> tuple[str, str]:
    """The status the row shows: the solver's, with "paused" while its task waits at a gate."""
    status, message = recorded
    if status == "solving" and state is not None and state.gate is not None \
            and not state.finished:
        return "paused", message
    return status, message


def queue_entry(item: Item, recorded: tuple[str, str], state: TaskState | None) -> QueueEntry:
    if item.error is not None:
        return QueueEntry(item.key, item.problem_id, item.title, "error", item.error.message)
    status, message = row_status(recorded, state)
    return QueueEntry(item.key, item.problem_id, item.title, status, message,
                      notice_summary(state))


def row_changed(shown: QueueEntry | None, now: QueueEntry) -> bool:
    """Whether a live task's new state changes its row (status or notices), so the queue is
    redrawn only then and not on every frame."""
    return shown is None or (shown.status, shown.notice) != (now.status, now.notice)


def model_label(backend: Backend | None, config: Config, *, scripted: bool) -> str:
    if backend is not None:
        return str(backend.info.model)
    if scripted:
        return "model on first solve"
    if config.base_url:
        return config.base_url
    return Path(config.model).name if config.model else "no model"
