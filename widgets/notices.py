"""A task's errors and warnings where a person sees them: a short line for the queue row and
the status bar, and the whole list (step, message, in order) for the log a key opens."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from engine.state import Notice, TaskState
from widgets.text import printable

_STYLE = {"error": "bold red", "warning": "yellow"}


def counts(state: TaskState) -> str:
    """"2 errors · 1 warning", or "" when there are none."""
    parts = []
    for number, word in ((len(state.errors), "error"), (len(state.warnings), "warning")):
        if number:
            parts.append(f"{number} {word}{'s' if number > 1 else ''}")
    return " · ".join(parts)


def summary(state: TaskState | None) -> str:
    """For the queue row, which is narrow: the step of the newest notice, and how many more.
    The status bar and the log (`!`) say the rest."""
    if state is None or not state.notices:
        return ""
    newest = state.notices[-1]
    more = len(state.notices) - 1
    return f"{newest.level} in {newest.where}" + (f" +{more}" if more else "")


def newest(state: TaskState) -> str:
    """For the status bar: the newest notice's step and message, on one line."""
    if not state.notices:
        return ""
    notice = state.notices[-1]
    message = notice.message.removeprefix(f"{notice.where}: ")  # a step named twice
    return f"{notice.where}: {_one_line(message)}"


def notice_text(notice: Notice) -> Text:
    return Text.assemble(
        (f"#{notice.seq:<5} ", "dim"),
        (f"{notice.level:<8}", _STYLE.get(notice.level, "")),
        (f"{printable(notice.where):<13} ", "bold"),
        printable(notice.message),
    )


def _one_line(message: str) -> str:
    return printable(" ".join(message.split()))


class NoticeLog(Static):
    """Every error and warning of one task, oldest first."""

    def show(self, state: TaskState | None) -> None:
        notices = state.notices if state is not None else ()
        if not notices:
            self.update(Text("No errors or warnings for this task.", style="dim"))
            return
        self.update(Text("\n").join(notice_text(n) for n in notices))
