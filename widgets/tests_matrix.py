"""Self-test results: tests (public, self-generated, a person's, differential; with where each
expected output came from) against candidates, a verdict per cell, and the input, expected
and got of the highlighted cell."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from engine.state import Cell, TaskState, TestState
from widgets.text import printable

VERDICT_STYLES = {"AC": "green", "WA": "red", "TLE": "yellow", "MLE": "yellow", "RE": "red",
                  "CE": "magenta", "OLE": "yellow"}
_PREVIEW = 400  # characters of input/expected/got shown for a cell


def verdict_text(cell: Cell | None) -> Text:
    if cell is None:
        return Text("·", style="dim")
    return Text(cell.verdict, style=VERDICT_STYLES.get(cell.verdict, ""))


def _clip(text: str | None) -> str:
    if text is None:
        return "(none: differential input)"
    text = printable(text)
    return text if len(text) <= _PREVIEW else text[:_PREVIEW] + f"… (+{len(text) - _PREVIEW})"


def cell_detail(test: TestState, candidate_id: str, cell: Cell | None) -> Group:
    kept = "" if test.kept is None else (" · kept" if test.kept else " · discarded")
    head = Text.assemble((f"{test.test_id}", "bold"), f" ({test.kind}, expected from "
                         f"{test.origin}{kept}) × ", (candidate_id, "bold"))
    if cell is not None:
        head.append("  ")
        head.append_text(verdict_text(cell))
        head.append(f" in {cell.time_s:.2f}s")
    parts: list[Text] = [head, Text("input:", style="dim"), Text(_clip(test.input))]
    expected = cell.expected if cell and cell.expected is not None else test.expected
    parts += [Text("expected:", style="dim"), Text(_clip(expected))]
    if cell is not None:
        parts += [Text("got:", style="dim"), Text(_clip(cell.got))]
        if cell.detail:
            parts.append(Text(cell.detail, style="red"))
    return Group(*parts)


class TestMatrix(Vertical):
    ALLOW_MAXIMIZE = True  # the maximize key fills the screen with this pane
    __test__ = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Tests"
        self._state: TaskState | None = None
        self._drawn_key: object = None
        self._tests: list[str] = []
        self._candidates: list[str] = []
        self._detail_key: object = None

    def compose(self) -> ComposeResult:
        yield DataTable(id="matrix-table", cursor_type="cell", zebra_stripes=False)
        with VerticalScroll(id="matrix-detail-scroll"):
            yield Static("", id="matrix-detail")

    @property
    def table(self) -> DataTable[Text | str]:
        return self.query_one("#matrix-table", DataTable)

    def show(self, state: TaskState | None) -> None:
        self._state = state
        key = (state.task_id, state.tests, state.matrix, tuple(state.candidates)) if state else None
        if key == self._drawn_key:
            return
        self._drawn_key = key
        table = self.table
        row, column = table.cursor_coordinate
        table.clear(columns=True)
        if state is None:
            self._tests, self._candidates = [], []
            self.query_one("#matrix-detail", Static).update("")
            return
        self._tests = list(state.tests)
        self._candidates = list(state.candidates)
        table.add_column("test", key="test", width=6)
        table.add_column("from", key="origin", width=18)  # in full below the table
        for candidate_id in self._candidates:
            table.add_column(candidate_id, key=candidate_id, width=max(3, len(candidate_id)))
        for test in state.tests.values():
            name = Text(test.test_id, style="dim strike" if test.kept is False else "")
            origin = Text(f"{test.kind}: {test.origin}", style="dim")
            cells = [verdict_text(state.cell(cid, test.test_id)) for cid in self._candidates]
            table.add_row(name, origin, *cells, key=test.test_id)
        if self._tests:
            table.move_cursor(row=min(row, len(self._tests) - 1),
                              column=max(column, 2) if self._candidates else 0, animate=False)
        self._show_detail(table.cursor_coordinate.row, table.cursor_coordinate.column)

    def _show_detail(self, row: int, column: int) -> None:
        state = self._state
        if state is None or not self._tests or row >= len(self._tests):
            self._detail(None, Text("No tests yet.", style="dim"))
            return
        test = state.tests[self._tests[row]]
        if column < 2 or column - 2 >= len(self._candidates):
            self._detail((test,), cell_detail(test, "(no candidate)", None))
            return
        candidate_id = self._candidates[column - 2]
        cell = state.cell(candidate_id, test.test_id)
        self._detail((test, candidate_id, cell), cell_detail(test, candidate_id, cell))

    def _detail(self, key: object, content: Group | Text) -> None:
        if key != self._detail_key or key is None:  # unchanged: no redraw, no layout pass
            self._detail_key = key
            self.query_one("#matrix-detail", Static).update(content)

    @on(DataTable.CellHighlighted, "#matrix-table")
    def _cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        event.stop()
        self._show_detail(event.coordinate.row, event.coordinate.column)
