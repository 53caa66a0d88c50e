"""The repair chain-of-thought pane: a generation's reasoning, thinking and answer told apart.

Large growing text is drawn the way toolong draws logs: the widget keeps wrapped lines and
renders only the rows on screen (Textual's line API), so a frame costs the same at 100 tokens
or 100,000. New text is appended by wrapping only the tail; nothing is re-rendered per token.
The pane scrolls itself (a line offset, or following the end) instead of being a ScrollView:
a ScrollView's growing virtual size asks for a layout pass of the whole screen on every frame,
which measured as the largest cost while tokens stream (bench/ui_stream.py).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import MouseScrollDown, MouseScrollUp
from textual.strip import Strip
from textual.widget import Widget

from widgets.text import printable

_STYLES = {
    "title": Style(bold=True, reverse=True),
    "thinking": Style(dim=True, italic=True),
    "answer": Style(),
    "note": Style(dim=True),
}


@dataclass(frozen=True, slots=True)
class ReasoningView:
    """What the pane shows: a source (a stream or a repair iteration) and its texts."""

    source: str  # e.g. "s12" or "iteration 2": a new source starts a new page
    title: str
    thinking: str
    answer: str
    live: bool = False


class ReasoningPane(Widget, can_focus=True):
    ALLOW_MAXIMIZE = True  # the maximize key fills the screen with this pane
    DEFAULT_CSS = """
    ReasoningPane { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "scroll_lines(-1)", "Up", show=False),
        Binding("down", "scroll_lines(1)", "Down", show=False),
        Binding("pageup", "scroll_lines(-20)", "Page up", show=False),
        Binding("pagedown", "scroll_lines(20)", "Page down", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "Follow", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Reasoning"
        self._source: str | None = None
        self._title = ""
        self._thinking = ""  # text already laid out, per channel
        self._answer = ""
        self._lines: list[tuple[str, str]] = []  # (style key, wrapped line)
        self._open: dict[str, int] = {}  # channel -> index of its last, still open line
        self._wrap_width = 0
        self._thinking_seen = False  # an answer after thinking gets a separator line
        self._top: int | None = None  # first line shown; None: follow the end

    @property
    def source(self) -> str | None:
        return self._source

    @property
    def line_count(self) -> int:
        return len(self._lines)

    @property
    def plain_text(self) -> str:
        return "\n".join(text for _, text in self._lines)

    def show(self, view: ReasoningView | None) -> None:
        if view is None:
            if self._source is not None:
                self._reset(None, "")
                self._relayout()
            return
        grows = (
            view.source == self._source
            and view.thinking.startswith(self._thinking)
            and view.answer.startswith(self._answer)
            and (not self._answer or len(view.thinking) == len(self._thinking))
        )
        if not grows:
            self._reset(view.source, view.title)
            self._lines.append(("title", view.title))
            self._top = None if view.live else 0  # live: follow the end; past: from the top
        elif view.thinking == self._thinking and view.answer == self._answer:
            if view.title != self._title:  # e.g. "streaming" -> "412 tokens"
                self._title = view.title
                self._lines[0] = ("title", view.title)
                self.refresh()
            return
        follow = self._top is None
        self._thinking_seen = bool(self._thinking or view.thinking)
        self._append("thinking", view.thinking[len(self._thinking):])
        self._append("answer", view.answer[len(self._answer):])
        self._thinking, self._answer = view.thinking, view.answer
        self._relayout(follow)

    def _reset(self, source: str | None, title: str) -> None:
        self._source, self._title = source, title
        self._thinking = self._answer = ""
        self._lines = []
        self._open = {}

    def _append(self, channel: str, text: str) -> None:
        if not text:
            return
        width = self._width()
        pieces = printable(text).split("\n")
        index = self._open.get(channel)
        if index is not None and index == len(self._lines) - 1:
            # continue the channel's open line: re-wrap just that line plus the new piece
            _, head = self._lines.pop()
            pieces[0] = head + pieces[0]
        elif channel == "answer" and self._thinking_seen:
            self._lines.append(("note", "── answer ──"))
        for number, piece in enumerate(pieces):
            wrapped = textwrap.wrap(piece, width, drop_whitespace=False,
                                    replace_whitespace=False) or [""]
            self._lines.extend((channel, line) for line in wrapped)
            if number == len(pieces) - 1:
                self._open[channel] = len(self._lines) - 1

    def _width(self) -> int:
        width = max(self.content_region.width, 20)
        self._wrap_width = width
        return width

    def _relayout(self, follow: bool = True) -> None:
        if follow:
            self._top = None
        self.refresh()  # a repaint of this pane only

    @property
    def first_line(self) -> int:
        height = max(self.content_region.height, 1)
        last_page = max(len(self._lines) - height, 0)
        return last_page if self._top is None else min(self._top, last_page)

    @property
    def following(self) -> bool:
        return self._top is None

    def action_scroll_lines(self, delta: int) -> None:
        height = max(self.content_region.height, 1)
        top = self.first_line + delta
        self._top = None if top >= len(self._lines) - height else max(top, 0)
        self.refresh()

    def action_scroll_home(self) -> None:
        self._top = 0
        self.refresh()

    def action_scroll_end(self) -> None:
        self._top = None
        self.refresh()

    def on_mouse_scroll_down(self, event: MouseScrollDown) -> None:
        event.stop()
        self.action_scroll_lines(3)

    def on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        event.stop()
        self.action_scroll_lines(-3)

    def on_resize(self) -> None:
        previous = self._wrap_width
        if self._width() == previous or self._source is None:
            self._relayout(follow=False)
            return
        # a new width: lay the whole text out again (once per resize, never per token)
        source, title, thinking, answer = self._source, self._title, self._thinking, self._answer
        self._reset(source, title)
        self._lines.append(("title", title))
        self._thinking_seen = bool(thinking)
        self._append("thinking", thinking)
        self._append("answer", answer)
        self._thinking, self._answer = thinking, answer
        self._relayout(follow=False)

    def render_line(self, y: int) -> Strip:
        index = self.first_line + y
        width = self.content_region.width
        base = self.rich_style
        if index >= len(self._lines):
            return Strip.blank(width, base)
        key, text = self._lines[index]
        style = base + _STYLES[key]
        return Strip([Segment(set_cell_size(text, width), style)], width)
