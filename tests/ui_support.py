"""Helpers for the workbench tests: a small problem folder, a scripted model whose answers go
through the real pipeline (probe and plans wrong, two repairs, the second right), the screen as
text, and waiting on the app without timed assertions."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from support.pipeline_scenarios import (
    CONSTRAINTS,
    DIVERSITY,
    IMPLEMENT,
    PLAN,
    PROBE,
    REPAIR,
    SELFTEST,
    fenced,
    io_tests,
)
from textual.app import App
from textual.pilot import Pilot

from engine.llm.scripted import ScriptedBackend

SUM_MD = """\
---
id: sum-two
---
# Sum of two
Read two integers, print their sum.

## Example
Input
```
1 2
```
Output
```
3
```
"""
SUM_HIDDEN = '{"input": "5 7\\n", "output": "12\\n"}\n{"input": "-1 1\\n", "output": "0\\n"}\n'

MAX_MD = """\
# Largest
Read a line of integers, print the largest.

## Example
Input
```
3 9 4
```
Output
```
9
```
"""

WRONG = "a, b = map(int, input().split())\nprint(a - b)\n"
WRONG_REPAIR = "a, b = map(int, input().split())\nprint(a * b)\n"
RIGHT = "a, b = map(int, input().split())\nprint(a + b)\n"
THINK_1 = "Maybe the product is meant."
THINK_2 = "The statement says sum, so add."


def script() -> dict[str, Any]:
    """Condition D on sum-two: every first draft subtracts; repair 1 multiplies (still wrong),
    repair 2 adds (right)."""
    return {
        PROBE: fenced(WRONG),
        CONSTRAINTS: "## Constraint set 1\nAdd.\n## Constraint set 2\nSubtract.",
        PLAN: "Combine the two numbers.",
        IMPLEMENT: fenced(WRONG),
        DIVERSITY: fenced(WRONG),
        SELFTEST: io_tests(("2 2", "4")),
        REPAIR: [f"<think>{THINK_1}</think>" + fenced(WRONG_REPAIR),
                 f"<think>{THINK_2}</think>" + fenced(RIGHT)],
    }


def scripted_backend() -> ScriptedBackend:
    return ScriptedBackend(script())


def make_folder(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "sum.md").write_text(SUM_MD)
    (root / "sum.tests.jsonl").write_text(SUM_HIDDEN)
    (root / "max.md").write_text(MAX_MD)
    return root


def screen_text(app: App[Any]) -> str:
    """What the terminal shows, as plain text."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False,
                      safe_box=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens))
    return console.export_text()


async def wait_until(pilot: Pilot[Any], predicate: Callable[[], bool], what: str,
                     *, steps: int = 3000) -> None:
    """Let the app run until `predicate()` holds. The bound is on steps, not on time: a hang
    fails here with a message (and pytest-timeout guards the whole test)."""
    for _ in range(steps):
        if predicate():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"never happened: {what}")
