"""On real LiveCodeBench problems, the sandbox's warm fork server judges reference programs as a
plain fresh `python` process does: a real judge, not an in-process emulation."""

from __future__ import annotations

import asyncio
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.problems import load
from engine.problems.model import Problem, TestCase, TestKind
from engine.sandbox import Program, Sandbox, SandboxLimits
from engine.sandbox._server import PRELUDE_RECURSION_LIMIT, PRELUDE_SOURCE
from engine.sandbox.compare import outputs_match, values_match

pytestmark = [pytest.mark.data, pytest.mark.timeout(600)]

PROBLEMS = 60  # the first ones of the ATLAS set: stdin and functional, all run in seconds
GENEROUS = 20.0  # seconds per test: timing is not what this compares
MARKER = "\x00plain-result\x00"


def plain_process_passes(problem: Problem, code: str, test: TestCase) -> bool:
    """A fresh interpreter with LiveCodeBench's prelude, the program on real stdin."""
    script = PRELUDE_SOURCE + f"sys.setrecursionlimit({PRELUDE_RECURSION_LIMIT})\n" + code
    if problem.test_kind is TestKind.FUNCTIONAL:
        script += (
            "\nimport json as _j, sys as _s\n"
            "_a = [_j.loads(_l) for _l in _s.stdin.read().split('\\n') if _l.strip()]\n"
            f"_f = getattr(Solution(), {problem.func_name!r}) if 'Solution' in globals() "
            f"else globals()[{problem.func_name!r}]\n"
            "_v = _f(*_a)\n_v = list(_v) if isinstance(_v, tuple) else _v\n"
            f"_s.stdout.write({MARKER!r} + _j.dumps(_v))\n"
        )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            input=test.input,
            capture_output=True,
            text=True,
            timeout=GENEROUS,
        )
    except subprocess.TimeoutExpired:
        return False
    if done.returncode != 0:
        return False
    if problem.test_kind is TestKind.STDIN:
        return outputs_match(test.expected, done.stdout)
    if MARKER not in done.stdout:
        return False
    got = json.loads(done.stdout.rsplit(MARKER, 1)[1])
    return values_match(json.loads(test.expected), got)


async def test_sandbox_agrees_with_a_plain_process(shared_data: Path) -> None:
    folder = shared_data / "livecodebench"
    problems = load(folder / "lcb_atlas599_public.jsonl.gz").problems[:PROBLEMS]
    with gzip.open(folder / "lcb_v5_880_references.jsonl.gz", "rt", encoding="utf-8") as f:
        codes = {row["question_id"]: row["o1_preview_code"] for row in map(json.loads, f)}
    pairs = [(p, codes[p.id]) for p in problems if p.id in codes]
    assert len(pairs) == PROBLEMS
    kinds = {p.test_kind for p, _ in pairs}
    assert kinds == {TestKind.STDIN, TestKind.FUNCTIONAL}

    limits = SandboxLimits(wall_s=GENEROUS)
    async with await Sandbox.create() as sandbox:
        runs = await asyncio.gather(
            *(
                sandbox.run(Program(code, p.test_kind, p.func_name), p.public_tests, limits)
                for p, code in pairs
            )
        )
    ours = {p.id: [t.passed for t in run.tests] for (p, _), run in zip(pairs, runs, strict=True)}
    plain = {
        p.id: [plain_process_passes(p, code, test) for test in p.public_tests] for p, code in pairs
    }
    assert ours == plain
    # Not vacuous: both passes and failures are in the sample.
    flat = [passed for verdicts in ours.values() for passed in verdicts]
    assert any(flat) and not all(flat)
