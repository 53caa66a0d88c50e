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
    continued_io_tests,
    fenced,
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
        SELFTEST: continued_io_tests(("2 2", "4")),
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


# --- a fixed event log: deterministic pictures (snapshots) without a model or a sandbox ------

DEMO_T0 = 1_700_000_000.0


def demo_events(task_id: str = "demo") -> list[Any]:
    """A complete condition-full task on sum-two, every field fixed (times included)."""
    from engine import events as ev

    log: list[ev.Event] = []

    def add(cls: type[ev.Event], **fields: Any) -> None:
        seq = len(log) + 1
        log.append(cls(task_id=task_id, seq=seq, at=DEMO_T0 + seq * 0.25, **fields))

    def generate(stream: str, purpose: str, thinking: str, answer: str) -> None:
        add(ev.GenerationStarted, stream_id=stream, purpose=purpose, template=purpose,
            template_version="1", prompt=f"[atlas:{purpose}] ...", temperature=0.6)
        for word in thinking.split(" "):
            add(ev.TokenDelta, stream_id=stream, text=word + " ", channel="thinking")
        add(ev.TokenDelta, stream_id=stream, text=answer, channel="answer", tokens=12)
        add(ev.GenerationFinished, stream_id=stream, prompt_tokens=120, completion_tokens=40,
            thinking_tokens=len(thinking.split(" ")), elapsed_s=2.0, tokens_per_s=20.0)

    add(ev.TaskStarted, title="Sum of two", condition="full", model="demo-14b-q4.gguf",
        backend="llama.cpp", sandbox_tier="bubblewrap")
    add(ev.PhaseStarted, phase="probe")
    generate("g1", "probe", "Two numbers; subtract them?", fenced(WRONG))
    add(ev.CandidateCreated, candidate_id="c1", origin="probe", code=WRONG, stream_id="g1",
        label="probe")
    add(ev.PhaseFinished, phase="probe", elapsed_s=2.0)
    add(ev.TestAdded, test_id="e1", kind="public", input="1 2\n", expected="3\n",
        origin="statement")
    add(ev.TestRun, candidate_id="c1", test_id="e1", verdict="WA", got="-1\n",
        expected="3\n", time_s=0.02, detail="line 1: -1 != 3")
    add(ev.PhaseStarted, phase="plan")
    add(ev.CandidateCreated, candidate_id="c2", origin="plan", code=WRONG_REPAIR,
        label="plan 1", plan_id="p1")
    add(ev.CandidateCreated, candidate_id="c3", origin="plan", code=RIGHT, label="plan 2",
        plan_id="p2")
    add(ev.PhaseFinished, phase="plan", elapsed_s=4.0)
    add(ev.TestRun, candidate_id="c2", test_id="e1", verdict="WA", got="2\n",
        expected="3\n", time_s=0.02)
    add(ev.TestRun, candidate_id="c3", test_id="e1", verdict="AC", got="3\n",
        expected="3\n", time_s=0.02)
    add(ev.TestAdded, test_id="s1", kind="self", input="2 2\n", expected="4\n",
        origin="agreement 2/2")
    add(ev.TestsGenerated, kept=("s1",))
    for candidate, verdict, got in (("c1", "WA", "0\n"), ("c2", "AC", "4\n"),
                                    ("c3", "AC", "4\n")):
        add(ev.TestRun, candidate_id=candidate, test_id="s1", verdict=verdict, got=got,
            expected="4\n", time_s=0.02)
    add(ev.PhaseStarted, phase="select")
    for candidate, energy, probability in (("c1", 4.2, 0.12), ("c2", 2.9, 0.35),
                                           ("c3", 1.1, 0.81)):
        add(ev.EnergyScored, candidate_id=candidate, energy=energy,
            pass_probability=probability, lens="lens:demo")
    add(ev.CandidatesClustered, clusters=(("c1",), ("c2",), ("c3",)))
    add(ev.PhaseFinished, phase="select", elapsed_s=1.0)
    add(ev.PhaseStarted, phase="repair")
    generate("g2", "repair", THINK_2, fenced(RIGHT))
    add(ev.CandidateCreated, candidate_id="c4", origin="repair", code=RIGHT, parent_id="c1",
        stream_id="g2", label="repair 1 (edge cases)")
    add(ev.TestRun, candidate_id="c4", test_id="e1", verdict="AC", got="3\n",
        expected="3\n", time_s=0.02)
    add(ev.RepairIteration, iteration=1, perspective="Edge cases", parent_id="c1",
        child_id="c4", reasoning=THINK_2, stream_id="g2", failing_tests=("e1",))
    add(ev.PhaseFinished, phase="repair", elapsed_s=2.0)
    add(ev.CandidateSelected, candidate_id="c3", reason="lowest energy among passing")
    add(ev.AnswerSubmitted, candidate_id="c3", code=RIGHT, phase="plan")
    add(ev.Graded, candidate_id="c3", verdict="AC", passed=3, total=3, oracle_any_pass=True)
    add(ev.TaskFinished, status="submitted", elapsed_s=11.5)
    return log
