"""The engine's own time per task for condition D, with the model answering instantly.

Usage: .venv/bin/python bench/engine_overhead.py [--tasks 20] [--no-gguf]

A scripted model (engine.llm.scripted, no sleeping) answers every prompt of a condition D run
that takes every D step: the probe fails the example, PlanSearch draws 3 plans, DivSampling 2
more, two self-test generations, one PR-CoT repair that fixes the answer. Each answer carries a
~400-token thinking block, so the token-delta path (batching, events, fold, store) is exercised
as with a real model. The real sandbox runs every candidate.

Time is split per task, measured in the same run:
- model: time spent inside the backend's stream (the scripted model's own parsing);
- sandbox: wall time during which at least one sandbox run was in flight (runs overlap);
- engine: the rest of the wall time: prompts, events, selection, the fold and SQLite appends.
Two ways of running: `solve` alone (events into a list) and `run_task` as the CLI runs it (fold,
SQLite store, grading: grading's sandbox time is counted as sandbox). Beside it, one real
llama.cpp call (128 tokens on the tiny random GGUF the tests write), the cheapest model call
there is: a real 14B model takes seconds for one answer.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from engine import events as ev
from engine.llm.batch import stream_each
from engine.llm.scripted import ScriptedBackend
from engine.pipeline.config import PipelineConfig
from engine.pipeline.runner import solve
from engine.problems.model import Problem, TestCase, TestKind
from engine.sandbox import Sandbox
from engine.store import Store
from engine.task import run_task

ROOT = Path(__file__).resolve().parent.parent

PROBLEM = Problem(
    id="to-be-strongest",
    title="To be the strongest",
    statement=(
        "N people have scores P_1 ... P_N. Print the minimum non-negative x such that "
        "P_1 + x > P_i for every i != 1.\n\nInput: N on the first line, the scores on the "
        "second.\nConstraints: 1 <= N <= 100, 1 <= P_i <= 100."
    ),
    test_kind=TestKind.STDIN,
    public_tests=(
        TestCase("4\n5 15 2 10\n", "11\n", TestKind.STDIN, origin="statement"),
        TestCase("3\n100 100 100\n", "1\n", TestKind.STDIN, origin="statement"),
    ),
    hidden_tests=(
        TestCase("1\n60\n", "0\n", TestKind.STDIN),
        TestCase("4\n15 5 2 10\n", "0\n", TestKind.STDIN),
    ),
)
WRONG = "n = int(input())\np = list(map(int, input().split()))\nprint(max(p) - p[0])\n"
CRASHES_ON_ONE = (
    "n = int(input())\np = list(map(int, input().split()))\nprint(max(0, max(p[1:]) - p[0] + 1))\n"
)
RIGHT = (
    "n = int(input())\np = list(map(int, input().split()))\n"
    "print(max(0, max(p[1:], default=0) - p[0] + 1))\n"
)
THINKING = "<think>" + " ".join(f"step{i} consider the scores" for i in range(100)) + "</think>\n"


def _fenced(code: str) -> str:
    return f"{THINKING}Here it is.\n```python\n{code}```\n"


SCRIPT = {
    "[atlas:probe]": _fenced(WRONG),
    "[atlas:constraints]": THINKING
    + "## Constraint set 1\nMax of others.\n## Constraint set 2\nSort.\n## Constraint set 3\nScan.",
    "[atlas:plan]": THINKING + "Take the maximum of the others, add one, clamp at zero.",
    "[atlas:implement]": _fenced(CRASHES_ON_ONE),
    "[atlas:diversity]": _fenced(CRASHES_ON_ONE),
    "[atlas:selftest]": THINKING + "```input\n1\n60\n```\n```output\n0\n```\n"
    "```input\n2\n5 5\n```\n```output\n1\n```",
    "[atlas:repair]": _fenced(RIGHT),
}


class Intervals:
    """Busy intervals of one kind of work; `covered` is their union's length."""

    def __init__(self) -> None:
        self.spans: list[tuple[float, float]] = []

    def add(self, start: float, end: float) -> None:
        self.spans.append((start, end))

    def covered(self, other: Intervals | None = None) -> float:
        spans = sorted(self.spans + (other.spans if other else []))
        total, current_start, current_end = 0.0, None, None
        for start, end in spans:
            if current_end is None or start > current_end:
                if current_end is not None and current_start is not None:
                    total += current_end - current_start
                current_start, current_end = start, end
            else:
                current_end = max(current_end, end)
        if current_end is not None and current_start is not None:
            total += current_end - current_start
        return total


class TimedSandbox:
    def __init__(self, inner: Sandbox, busy: Intervals) -> None:
        self._inner = inner
        self._busy = busy
        self.tier = inner.tier

    async def run(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await self._inner.run(*args, **kwargs)
        finally:
            self._busy.add(start, time.perf_counter())


class TimedBackend:
    def __init__(self, inner: ScriptedBackend, busy: Intervals) -> None:
        self._inner = inner
        self._busy = busy
        self.info = inner.info

    async def stream(self, prompt: Any, params: Any, *, budget: Any = None) -> AsyncIterator[Any]:
        items = self._inner.stream(prompt, params, budget=budget).__aiter__()
        while True:
            start = time.perf_counter()
            try:
                item = await items.__anext__()
            except StopAsyncIteration:
                self._busy.add(start, time.perf_counter())
                return
            self._busy.add(start, time.perf_counter())
            yield item

    def stream_many(self, requests: Any) -> Any:
        return stream_each(self.stream, requests)

    def render_chat(self, messages: Any, *, add_generation_prompt: bool = True) -> str:
        return self._inner.render_chat(messages, add_generation_prompt=add_generation_prompt)

    async def embed(self, text: str) -> list[float]:
        start = time.perf_counter()
        try:
            return await self._inner.embed(text)
        finally:
            self._busy.add(start, time.perf_counter())

    async def close(self) -> None:
        await self._inner.close()


async def one_task(sandbox: Sandbox, mode: str, store: Store | None) -> dict[str, float]:
    model, box = Intervals(), Intervals()
    backend = TimedBackend(ScriptedBackend(SCRIPT), model)
    timed_box = TimedSandbox(sandbox, box)
    # Every D step, as measured before early exit: scripted answers are whole answers.
    config = PipelineConfig.preset("D", early_exit=False, only_when_undecided=False,
                                   answer_prefill=False)
    events: list[ev.Event] = []
    start = time.perf_counter()
    if mode == "solve":
        outcome = await solve(PROBLEM.view(), backend, timed_box, config, events.append)
        assert outcome.phase == "repair", outcome  # every D step ran
    else:
        result = await run_task(PROBLEM, backend, timed_box, config, store=store,
                                emit=events.append, oracle=False)
        assert result.verdict == "AC" and result.submission is not None
    wall = time.perf_counter() - start
    both = model.covered(box)
    return {
        "wall_ms": wall * 1e3,
        "model_ms": model.covered() * 1e3,
        "sandbox_ms": box.covered() * 1e3,
        "engine_ms": (wall - both) * 1e3,
        "events": float(len(events)),
    }


async def tiny_gguf_call_ms() -> float | None:
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from support.tiny_gguf import write_tiny_gguf

        from engine.llm.base import SamplingParams
        from engine.llm.llamacpp import LlamaCppBackend, LlamaCppConfig
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = write_tiny_gguf(Path(folder) / "tiny.gguf")
        async with await LlamaCppBackend.open(path, LlamaCppConfig(n_ctx=2048)) as backend:
            params = SamplingParams(max_tokens=128, temperature=0.7, seed=1)
            prompt = "Write a program that reads two numbers and prints their sum."
            await backend.generate(prompt, params)  # warm
            start = time.perf_counter()
            result = await backend.generate(prompt, params)
            elapsed = time.perf_counter() - start
            print(f"tiny GGUF call: {result.completion_tokens} tokens in {elapsed * 1e3:.1f} ms")
            return elapsed * 1e3


def summarize(name: str, rows: list[dict[str, float]]) -> dict[str, float]:
    keys = ("wall_ms", "model_ms", "sandbox_ms", "engine_ms", "events")
    median = {k: statistics.median(r[k] for r in rows) for k in keys}
    print(
        f"{name:9s} median per task: wall {median['wall_ms']:8.1f} ms | model (scripted) "
        f"{median['model_ms']:7.1f} | sandbox {median['sandbox_ms']:7.1f} | engine "
        f"{median['engine_ms']:7.1f} ms | {median['events']:.0f} events "
        f"({median['engine_ms'] * 1e3 / median['events']:.0f} µs/event)"
    )
    return median


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--no-gguf", action="store_true")
    args = parser.parse_args()
    print(f"{platform.machine()} {platform.processor() or ''} cores={os.cpu_count()} "
          f"python {platform.python_version()} load {os.getloadavg()[0]:.1f}")
    async with await Sandbox.create() as sandbox:
        await sandbox.warm_up()
        print(f"sandbox tier: {sandbox.tier.value}, workers {sandbox.workers}")
        await one_task(sandbox, "solve", None)  # warm: imports, templates, workers
        solo = [await one_task(sandbox, "solve", None) for _ in range(args.tasks)]
        with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "b.sqlite") as store:
            tasked = [await one_task(sandbox, "run_task", store) for _ in range(args.tasks)]
    a = summarize("solve", solo)
    b = summarize("run_task", tasked)
    call = None if args.no_gguf else await tiny_gguf_call_ms()
    if call:
        print(f"engine time per task / one tiny-GGUF call: solve {a['engine_ms'] / call:.2f}x, "
              f"run_task {b['engine_ms'] / call:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
