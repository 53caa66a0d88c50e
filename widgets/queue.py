"""The problem queue: every problem of the folder with its status, filterable with `/`.

Renders a list of `QueueEntry` values the app keeps; the widget holds no problem logic. Only
rows that match the filter are in the table, and the table draws only visible rows, so a
folder of thousands of problems stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input

# status -> (glyph, style); statuses a problem goes through in the queue.
STATUS_STYLES: dict[str, tuple[str, str]] = {
    "new": ("·", "dim"),
    "queued": ("…", "cyan"),
    "solving": ("▶", "bold yellow"),
    "paused": ("‖", "yellow"),
    "solved": ("✓", "green"),  # passes its public examples; not graded (no hidden tests)
    "no answer": ("∅", "magenta"),
    "pass": ("✔", "bold green"),  # graded on hidden tests
    "fail": ("✘", "bold red"),
    "cancelled": ("◌", "dim"),
    "error": ("!", "bold red"),
}


@dataclass(frozen=True, slots=True)
class QueueEntry:
    key: str  # unique in the folder: path, row and id
    problem_id: str
    title: str
    status: str = "new"
    message: str = ""  # the error of a file that did not load, the graded score, ...

    def matches(self, needle: str) -> bool:
        haystack = f"{self.problem_id} {self.title} {self.status} {self.message}".lower()
        return all(word in haystack for word in needle.lower().split())


class ProblemQueue(Vertical):
    ALLOW_MAXIMIZE = True  # the maximize key fills the screen with this pane
    """A filter box over a table of problems."""

    class Highlighted(Message):
        def __init__(self, key: str | None) -> None:
            super().__init__()
            self.key = key

    class Chosen(Message):
        """Enter on a row: solve it."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Problems"
        self._entries: dict[str, QueueEntry] = {}
        self._shown: list[str] = []
        self._filter = ""

    def compose(self) -> ComposeResult:
        box = Input(placeholder="filter: words in id, title or status", id="queue-filter")
        box.display = False  # shown by open_filter (the `/` key)
        box.can_focus = False  # and not focusable until then
        yield box
        table: DataTable[Text | str] = DataTable(id="queue-table", cursor_type="row")
        table.add_column(" ", key="status", width=2)
        table.add_column("id", key="id", width=16)
        table.add_column("title", key="title")
        yield table

    @property
    def table(self) -> DataTable[Text | str]:
        return self.query_one("#queue-table", DataTable)

    @property
    def highlighted_key(self) -> str | None:
        table = self.table
        if not self._shown or table.cursor_row < 0 or table.cursor_row >= len(self._shown):
            return None
        return self._shown[table.cursor_row]

    @property
    def shown_keys(self) -> list[str]:
        return list(self._shown)

    def entry(self, key: str) -> QueueEntry | None:
        return self._entries.get(key)

    def set_entries(self, entries: Sequence[QueueEntry]) -> None:
        """Replace the whole list (keeps the highlighted problem when it is still there)."""
        self._entries = {e.key: e for e in entries}
        self._rebuild()

    def upsert(self, entry: QueueEntry) -> None:
        known = entry.key in self._entries
        self._entries[entry.key] = entry
        if known and entry.key in self._shown and entry.matches(self._filter):
            row = self.table.get_row_index(entry.key)
            glyph, title = self._cells(entry)
            self.table.update_cell_at((row, 0), glyph)
            self.table.update_cell_at((row, 2), title)
        else:
            self._rebuild()

    def remove(self, keys: Sequence[str]) -> None:
        for key in keys:
            self._entries.pop(key, None)
        self._rebuild()

    def open_filter(self) -> None:
        box = self.query_one("#queue-filter", Input)
        box.display = box.can_focus = True
        box.focus()

    def _rebuild(self) -> None:
        table = self.table
        keep = self.highlighted_key
        self._shown = [k for k, e in self._entries.items() if e.matches(self._filter)]
        table.clear()
        for key in self._shown:
            table.add_row(*self._row(self._entries[key]), key=key)
        if keep in self._shown:
            table.move_cursor(row=self._shown.index(keep), animate=False)
        self.post_message(self.Highlighted(self.highlighted_key))

    def _row(self, entry: QueueEntry) -> tuple[Text, str, Text]:
        glyph, title = self._cells(entry)
        return glyph, entry.problem_id, title

    @staticmethod
    def _cells(entry: QueueEntry) -> tuple[Text, Text]:
        glyph, style = STATUS_STYLES.get(entry.status, ("?", ""))
        title = Text(entry.title)
        if entry.message:
            title.append(f"  {entry.message}", style="red" if entry.status == "error" else "dim")
        return Text(glyph, style=style), title

    @on(Input.Changed, "#queue-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._filter = event.value
        self._rebuild()

    @on(Input.Submitted, "#queue-filter")
    def _filter_done(self) -> None:
        box = self.query_one("#queue-filter", Input)
        box.display = box.can_focus = bool(box.value)  # an empty filter hides the box again
        self.table.focus()

    @on(DataTable.RowHighlighted, "#queue-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(self.highlighted_key))

    @on(DataTable.RowSelected, "#queue-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Chosen(event.row_key.value))
