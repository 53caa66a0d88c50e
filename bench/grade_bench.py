"""Grading speed: our warm fork-server sandbox against a naive grader, side by side in one run.

Grades the o1-preview reference programs of the 599 ATLAS-set LiveCodeBench problems on their
public tests, twice: with `engine.sandbox.Sandbox` (isolated, one warm interpreter per worker,
a fork per test) and with a naive grader that starts a fresh interpreter per test (no
isolation at all, which only flatters it). Same per-test timeout, same number of workers,
same comparison rules; the verdicts of the two are compared too.

    .venv/bin/python bench/grade_bench.py [--data ../shared/data] [--workers 2] [--timeout 6]
                                          [--model o1_preview] [--limit N] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import platform
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from engine.problems import load
from engine.problems.model import Problem, TestCase, TestKind
from engine.sandbox import Program, Sandbox, SandboxLimits
from engine.sandbox._server import PRELUDE_RECURSION_LIMIT, PRELUDE_SOURCE
from engine.sandbox.compare import compare_outputs, compare_values
from engine.sandbox.tiers import INTERPRETER_FLAGS, bubblewrap_argv

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
RESULT_MARKER = "\x00atlas-naive-result\x00"


def read_references(path: Path, model: str) -> dict[str, tuple[str, bool]]:
    """question_id -> (code, official verdict on public+private tests)."""
    references = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            code = row.get(f"{model}_code")
            if code:
                official = str(row.get(f"{model}_official_pass")) == "True"
                references[row["question_id"]] = (code, official)
    return references


# ---- ours ------------------------------------------------------------------------------------


async def grade_ours(
    jobs: list[tuple[Problem, str]], workers: int, timeout: float
) -> tuple[dict[str, str], float]:
    """Verdicts, and the seconds the candidate programs themselves ran (summed over tests)."""
    limits = SandboxLimits(wall_s=timeout)
    in_programs = 0.0
    async with await Sandbox.create(workers=workers) as sandbox:

        async def one(problem: Problem, code: str) -> tuple[str, str]:
            nonlocal in_programs
            program = Program(code, problem.test_kind, func_name=problem.func_name)
            result = await sandbox.run(
                program, problem.public_tests, limits, stop_on_first_failure=True
            )
            in_programs += sum(t.time_s for t in result.tests)
            return problem.id, str(result.verdict)

        verdicts = dict(await asyncio.gather(*(one(p, c) for p, c in jobs)))
    return verdicts, in_programs


# ---- naive: a fresh interpreter per test ---------------------------------------------------


def naive_script(problem: Problem, code: str) -> str:
    prelude = PRELUDE_SOURCE + f"sys.setrecursionlimit({PRELUDE_RECURSION_LIMIT})\n"
    if problem.test_kind is TestKind.STDIN:
        return prelude + code
    return (
        prelude
        + code
        + "\n\nimport json as _json, sys as _sys\n"
        + "_args = [_json.loads(_l) for _l in _sys.stdin.read().split('\\n')]\n"
        + f"_name = {problem.func_name!r}\n"
        + "_target = getattr(Solution(), _name) if 'Solution' in globals() else globals()[_name]\n"
        + "_value = _target(*_args)\n"
        + "_value = list(_value) if isinstance(_value, tuple) else _value\n"
        + f"_sys.stdout.write({RESULT_MARKER!r} + _json.dumps(_value))\n"
    )


def naive_argv(script: Path, isolated: bool) -> list[str]:
    """A fresh interpreter; with `isolated`, inside a fresh bubblewrap sandbox as well."""
    if not isolated:
        return [sys.executable, "-I", "-B", str(script)]
    inside = "/atlas/solution.py"
    inner = [sys.executable, *INTERPRETER_FLAGS, inside]
    return bubblewrap_argv(inner, as_root=os.geteuid() == 0, extra_ro_binds=[(str(script), inside)])


async def naive_test(
    script: Path, test: TestCase, kind: TestKind, timeout: float, isolated: bool = False
) -> str:
    process = await asyncio.create_subprocess_exec(
        *naive_argv(script, isolated),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=script.parent,
        start_new_session=True,
    )
    try:
        stdout, _ = await asyncio.wait_for(process.communicate(test.input.encode()), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the program and anything it started
        await process.wait()
        return "TLE"
    if process.returncode != 0:
        return "RE"
    text = stdout.decode("utf-8", errors="replace")
    if kind is TestKind.STDIN:
        return "AC" if compare_outputs(test.expected, text)[0] else "WA"
    if RESULT_MARKER not in text:
        return "RE"
    returned = text.rsplit(RESULT_MARKER, 1)[1]
    return "AC" if compare_values(test.expected, returned)[0] else "WA"


async def grade_naive(
    jobs: list[tuple[Problem, str]], workers: int, timeout: float, isolated: bool = False
) -> dict[str, str]:
    slots = asyncio.Semaphore(workers)
    with tempfile.TemporaryDirectory(prefix="naive-grader-") as tmp:

        async def one(index: int, problem: Problem, code: str) -> tuple[str, str]:
            folder = Path(tmp) / str(index)
            folder.mkdir()
            script = folder / "solution.py"
            script.write_text(naive_script(problem, code), encoding="utf-8")
            for test in problem.public_tests:
                async with slots:
                    verdict = await naive_test(script, test, problem.test_kind, timeout, isolated)
                if verdict != "AC":
                    return problem.id, verdict
            return problem.id, "AC"

        return dict(await asyncio.gather(*(one(i, p, c) for i, (p, c) in enumerate(jobs))))


# ---- the run -----------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores visible, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=6.0)
    parser.add_argument("--model", default="o1_preview", choices=["o1_preview", "o1_mini"])
    parser.add_argument("--limit", type=int, default=None, help="first N problems only")
    parser.add_argument("--json", type=Path, default=None, help="write per-task verdicts here")
    parser.add_argument(
        "--naive-isolated",
        action="store_true",
        help="also time the naive grader with a fresh bubblewrap sandbox per test",
    )
    args = parser.parse_args()

    lcb = args.data / "livecodebench"
    loaded = load(lcb / "lcb_atlas599_public.jsonl.gz")
    if loaded.errors:
        for error in loaded.errors:
            print(f"could not load: {error}", file=sys.stderr)
    references = read_references(lcb / "lcb_v5_880_references.jsonl.gz", args.model)
    jobs = [(p, references[p.id][0]) for p in loaded.problems if p.id in references]
    if args.limit:
        jobs = jobs[: args.limit]
    n_tests = sum(len(p.public_tests) for p, _ in jobs)
    print(
        f"{len(jobs)} problems, {n_tests} public tests, {args.model} references, "
        f"{args.workers} workers, {args.timeout:g} s per test"
    )

    started = time.perf_counter()
    ours, in_programs = asyncio.run(grade_ours(jobs, args.workers, args.timeout))
    ours_s = time.perf_counter() - started
    print(f"ours  (sandbox, warm fork server): {ours_s:7.1f} s  {dict(Counter(ours.values()))}")
    print(
        f"      of which the programs themselves ran {in_programs:.1f} s over {args.workers} "
        f"workers (>= {in_programs / args.workers:.1f} s of wall time)"
    )

    started = time.perf_counter()
    naive = asyncio.run(grade_naive(jobs, args.workers, args.timeout))
    naive_s = time.perf_counter() - started
    print(f"naive (fresh interpreter per test): {naive_s:6.1f} s  {dict(Counter(naive.values()))}")
    print(f"ratio naive/ours: {naive_s / ours_s:.2f}x")

    if args.naive_isolated:
        started = time.perf_counter()
        isolated = asyncio.run(grade_naive(jobs, args.workers, args.timeout, isolated=True))
        isolated_s = time.perf_counter() - started
        print(
            f"naive isolated (fresh bubblewrap + interpreter per test): {isolated_s:6.1f} s  "
            f"{dict(Counter(isolated.values()))}"
        )
        print(f"ratio naive isolated/ours: {isolated_s / ours_s:.2f}x")

    disagree = sorted(pid for pid in ours if (ours[pid] == "AC") != (naive[pid] == "AC"))
    print(f"pass/fail disagreements between ours and naive: {len(disagree)} {disagree[:20]}")
    official_pass_but_ours_fail = sorted(
        pid for pid in ours if references[pid][1] and ours[pid] != "AC"
    )
    print(
        f"officially passing (public+private) but failing public tests here: "
        f"{len(official_pass_but_ours_fail)} {official_pass_but_ours_fail[:20]}"
    )
    print(f"tier: {asyncio.run(_tier())}; machine: {machine()}")
    if args.json:
        rows = {
            pid: {"ours": ours[pid], "naive": naive[pid], "official_pass": references[pid][1]}
            for pid in ours
        }
        args.json.write_text(
            json.dumps({"ours_s": ours_s, "naive_s": naive_s, "tasks": rows}, indent=1)
        )


async def _tier() -> str:
    async with await Sandbox.create(workers=1) as sandbox:
        return str(sandbox.tier)


if __name__ == "__main__":
    main()
