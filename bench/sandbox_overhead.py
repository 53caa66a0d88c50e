"""What one test costs beyond the program itself: a trivial program (read two numbers, print
their sum) on N tests, through the sandbox's warm worker, against a fresh interpreter per test
and a fresh bubblewrap sandbox plus interpreter per test. One worker, one test at a time, all
measured in the same run.

The warm worker is measured twice, in alternating rounds: as it runs (candidates under a uid
of their own, issue 13) and with that protection off (candidates share the worker's uid, as
before), so the figure shows what the protection costs per test.

    .venv/bin/python bench/sandbox_overhead.py [--tests 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.problems.model import TestCase, TestKind
from engine.sandbox import Program, Sandbox
from engine.sandbox.tiers import INTERPRETER_FLAGS, Probe, bubblewrap_argv, probe

CODE = "a, b = map(int, input().split())\nprint(a + b)\n"


@dataclasses.dataclass
class Warm:
    """One warm worker's figures over all rounds."""

    per_test_ms: list[float] = dataclasses.field(default_factory=list)
    child_ms: list[float] = dataclasses.field(default_factory=list)


async def one_round(sandbox: Sandbox, n: int, into: Warm) -> None:
    tests = [TestCase(f"{i} {i}\n", f"{2 * i}\n", TestKind.STDIN) for i in range(n)]
    started = time.perf_counter()
    result = await sandbox.run(Program(CODE, TestKind.STDIN), tests)
    elapsed = time.perf_counter() - started
    assert result.passed, result.detail
    into.per_test_ms.append(elapsed / n * 1000)
    into.child_ms.extend(t.time_s * 1000 for t in result.tests)


async def through_sandbox(n: int, rounds: int) -> dict[str, Warm]:
    """The warm worker with candidates under their own uid ("on") and sharing the worker's
    ("off"), alternating which goes first in each round."""
    found = probe()
    kinds: dict[str, Probe] = {"on": found}
    if found.private_uids:
        kinds["off"] = dataclasses.replace(found, private_uids=False)
    figures = {kind: Warm() for kind in kinds}
    boxes = {kind: Sandbox(found_kind, workers=1) for kind, found_kind in kinds.items()}
    try:
        for box in boxes.values():
            await box.warm_up()
            await one_round(box, 20, Warm())  # the first tests warm the caches
        order = list(boxes)
        for _ in range(rounds):
            for kind in order:
                await one_round(boxes[kind], n, figures[kind])
            order.reverse()
    finally:
        for box in boxes.values():
            await box.close()
    return figures


def fresh_processes(n: int, argv: list[str]) -> float:
    started = time.perf_counter()
    for i in range(n):
        done = subprocess.run(argv, input=f"{i} {i}\n", capture_output=True, text=True)
        assert done.stdout.strip() == str(2 * i), done.stderr
    return (time.perf_counter() - started) / n * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5, help="alternating warm-worker rounds")
    args = parser.parse_args()
    n = args.tests
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "solution.py"
        script.write_text(CODE)
        plain = [sys.executable, *INTERPRETER_FLAGS, str(script)]
        inside = "/atlas/solution.py"
        isolated = bubblewrap_argv(
            [sys.executable, *INTERPRETER_FLAGS, inside],
            as_root=os.geteuid() == 0,
            extra_ro_binds=[(str(script), inside)],
        )
        warm = asyncio.run(through_sandbox(n, args.rounds))
        fresh = fresh_processes(n, plain)
        fresh_isolated = fresh_processes(n, isolated)
    ours = statistics.median(warm["on"].per_test_ms)
    print(f"{n} tests of a trivial program, one at a time; warm worker: median of {args.rounds}")
    print(f"tier: {probe().tier}, candidates under a uid of their own: {probe().private_uids}")
    for kind, label in (("on", "own uid (now)"), ("off", "worker's uid (before)")):
        if kind not in warm:
            print("warm worker, worker's uid (before): not measured (no second uid here)")
            continue
        figures = warm[kind]
        per_test = statistics.median(figures.per_test_ms)
        spread = f"{min(figures.per_test_ms):.2f}-{max(figures.per_test_ms):.2f}"
        print(
            f"warm worker, {label:22} {per_test:7.2f} ms per test (rounds {spread}; "
            f"the child, fork to exit: median {statistics.median(figures.child_ms):.2f} ms)"
        )
    print(f"fresh interpreter per test:        {fresh:7.2f} ms per test  ({fresh / ours:.1f}x)")
    print(
        f"fresh bubblewrap + interpreter:    {fresh_isolated:7.2f} ms per test  "
        f"({fresh_isolated / ours:.1f}x)"
    )


if __name__ == "__main__":
    main()
