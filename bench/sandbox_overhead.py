"""What one test costs beyond the program itself: a trivial program (read two numbers, print
their sum) on N tests, through the sandbox's warm worker, against a fresh interpreter per test
and a fresh bubblewrap sandbox plus interpreter per test. One worker, one test at a time, all
three measured in the same run.

    .venv/bin/python bench/sandbox_overhead.py [--tests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.problems.model import TestCase, TestKind
from engine.sandbox import Program, Sandbox
from engine.sandbox.tiers import INTERPRETER_FLAGS, bubblewrap_argv

CODE = "a, b = map(int, input().split())\nprint(a + b)\n"


async def through_sandbox(n: int) -> tuple[float, float]:
    """(ms per test, median ms the child itself took from fork to exit)."""
    tests = [TestCase(f"{i} {i}\n", f"{2 * i}\n", TestKind.STDIN) for i in range(n)]
    async with await Sandbox.create(workers=1) as sandbox:
        await sandbox.warm_up()
        started = time.perf_counter()
        result = await sandbox.run(Program(CODE, TestKind.STDIN), tests)
        elapsed = time.perf_counter() - started
    assert result.passed, result.detail
    return elapsed / n * 1000, statistics.median(t.time_s for t in result.tests) * 1000


def fresh_processes(n: int, argv: list[str]) -> float:
    started = time.perf_counter()
    for i in range(n):
        done = subprocess.run(argv, input=f"{i} {i}\n", capture_output=True, text=True)
        assert done.stdout.strip() == str(2 * i), done.stderr
    return (time.perf_counter() - started) / n * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=200)
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
        ours, child = asyncio.run(through_sandbox(n))
        fresh = fresh_processes(n, plain)
        fresh_isolated = fresh_processes(n, isolated)
    print(f"{n} tests of a trivial program, one at a time")
    print(
        f"sandbox, warm worker (bubblewrap): {ours:7.2f} ms per test "
        f"(the child itself, fork to exit: median {child:.2f} ms)"
    )
    print(f"fresh interpreter per test:        {fresh:7.2f} ms per test  ({fresh / ours:.1f}x)")
    print(
        f"fresh bubblewrap + interpreter:    {fresh_isolated:7.2f} ms per test  "
        f"({fresh_isolated / ours:.1f}x)"
    )


if __name__ == "__main__":
    main()
