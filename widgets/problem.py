"""The problem pane: the statement as Markdown, the starter code and the public examples."""

from __future__ import annotations

from pathlib import Path

from textual.containers import VerticalScroll
from textual.widgets import Markdown

from engine.problems.model import LoadError, ProblemView

_MAX_EXAMPLE_CHARS = 2000  # a huge example is cut in the pane, never in the engine


def problem_markdown(view: ProblemView) -> str:
    statement = view.statement.strip()
    heading = [] if statement.startswith("# ") else [f"# {view.title}", ""]
    parts = [*heading, statement, ""]
    if view.starter_code.strip():
        parts += ["## Starter code", "", "```python", view.starter_code.rstrip(), "```", ""]
    limits = f"{view.limits.time_s:g} s, {view.limits.memory_mb} MB"
    where = Path(view.source.path).name + ("" if view.source.row is None
                                          else f" row {view.source.row + 1}")
    parts += [f"*{view.test_kind.value} tests · limits {limits} · {where}*", ""]
    if view.public_tests:
        parts += ["## Public examples", ""]
        for number, test in enumerate(view.public_tests, 1):
            parts += [f"**Example {number}** (from {test.origin})", "", "Input:", ""]
            parts += [_fence(test.input), ""]
            if test.expected:
                parts += ["Expected:", "", _fence(test.expected), ""]
    else:
        parts += ["*No public examples.*", ""]
    return "\n".join(parts)


def error_markdown(error: LoadError) -> str:
    return f"# Could not load this problem\n\n`{error.path}`\n\n{error.message}\n"


def _fence(text: str) -> str:
    if len(text) > _MAX_EXAMPLE_CHARS:
        text = text[:_MAX_EXAMPLE_CHARS] + f"\n… ({len(text) - _MAX_EXAMPLE_CHARS} more chars)"
    fence = "````" if "```" in text else "```"
    return f"{fence}\n{text.rstrip()}\n{fence}"


class ProblemPane(VerticalScroll):
    ALLOW_MAXIMIZE = True  # the maximize key fills the screen with this pane
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Problem"
        self._shown: object = None

    def compose(self):  # type: ignore[no-untyped-def]
        yield Markdown("*Choose a problem in the queue.*", id="problem-md")

    def show(self, item: ProblemView | LoadError | None) -> None:
        if item is self._shown:
            return  # the same object: nothing to redraw
        self._shown = item
        markdown = self.query_one("#problem-md", Markdown)
        if item is None:
            markdown.update("*Choose a problem in the queue.*")
        elif isinstance(item, LoadError):
            markdown.update(error_markdown(item))
        else:
            markdown.update(problem_markdown(item))
        self.scroll_home(animate=False)
