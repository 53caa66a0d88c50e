"""The notices log (`!`): every error and warning of the task shown, with its step."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from engine.state import TaskState
from widgets.notices import NoticeLog, counts


class NoticesScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    NoticesScreen { align: center middle; }
    #notices-body { width: 90%; height: 80%; border: round $error; background: $surface;
                    padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,exclamation_mark", "dismiss", "Close", id="notices_close"),
    ]

    def __init__(self, state: TaskState | None, title: str) -> None:
        super().__init__()
        self._state = state
        self._title = title

    def compose(self) -> ComposeResult:
        found = counts(self._state) if self._state is not None else ""
        with VerticalScroll(id="notices-body"):
            yield Static(Text.assemble((f"Errors and warnings · {self._title}", "bold"),
                                       (f"  {found}" if found else "", "dim")))
            yield NoticeLog(id="notice-log")

    def on_mount(self) -> None:
        self.query_one(NoticeLog).show(self._state)
