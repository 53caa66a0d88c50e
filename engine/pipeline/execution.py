"""Running candidates on tests in the sandbox, with one TestRun event per candidate and test.

`evaluate` compares outputs with the expected ones (public, self and user tests);
`run_outputs` only runs and captures outputs (differential inputs, and self-test inputs before
their expected outputs are trusted). Candidates run concurrently; the sandbox bounds how many
processes that starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from engine import events as ev
from engine.pipeline.context import Candidate, KnownTest, Outcome, Run
from engine.problems.model import TestKind
from engine.sandbox.types import RunResult, Verdict

MAX_GOT_CHARS = 4000  # what an event keeps of a program's output


async def evaluate(
    run: Run, candidates: Sequence[Candidate], tests: Sequence[KnownTest]
) -> None:
    """Run every candidate on every test, comparing outputs; record and emit the outcomes."""
    await _run_all(run, candidates, tests, compare=True)


async def evaluate_missing(
    run: Run, candidates: Sequence[Candidate], tests: Sequence[KnownTest]
) -> None:
    """Like `evaluate`, for only the (candidate, test) pairs that have not run yet."""
    jobs = []
    for candidate in candidates:
        missing = [t for t in tests if (candidate.id, t.id) not in run.outcomes]
        if missing:
            jobs.append(_run_one(run, candidate, missing, True, False))
    await asyncio.gather(*jobs)


async def run_outputs(
    run: Run, candidates: Sequence[Candidate], tests: Sequence[KnownTest], *, quiet: bool = False
) -> dict[str, list[Outcome]]:
    """Run every candidate on every test's input without comparing; the outcomes in test order.
    These are not recorded as passes or failures (no expected output is trusted yet). `quiet`:
    no TestRun events (the caller reports the outcomes itself once it knows what they mean)."""
    return await _run_all(run, candidates, tests, compare=False, quiet=quiet)


async def _run_all(
    run: Run,
    candidates: Sequence[Candidate],
    tests: Sequence[KnownTest],
    *,
    compare: bool,
    quiet: bool = False,
) -> dict[str, list[Outcome]]:
    if not candidates or not tests:
        return {c.id: [] for c in candidates}
    results = await asyncio.gather(*(_run_one(run, c, tests, compare, quiet) for c in candidates))
    return {c.id: outcomes for c, outcomes in zip(candidates, results, strict=True)}


async def _run_one(
    run: Run, candidate: Candidate, tests: Sequence[KnownTest], compare: bool, quiet: bool
) -> list[Outcome]:
    by_kind: dict[TestKind, list[KnownTest]] = {}
    for test in tests:
        by_kind.setdefault(test.case.kind, []).append(test)
    outcomes: dict[str, Outcome] = {}
    for kind, group in by_kind.items():
        result: RunResult = await run.sandbox.run(
            run.program(candidate.code, kind),
            [t.case for t in group],
            run.limits,
            compare=compare,
        )
        for index, test in enumerate(group):
            if index < len(result.tests):
                tr = result.tests[index]
                time_s, detail = tr.time_s, tr.detail or tr.stderr_tail[-500:]
                outcome = Outcome(tr.verdict, tr.got, detail)
            else:  # not run: the program did not compile, or the run stopped early
                time_s, detail = 0.0, result.detail or "not run"
                verdict = result.verdict if not result.passed else Verdict.RE
                outcome = Outcome(verdict, "", detail)
            outcomes[test.id] = outcome
            if compare:
                run.outcomes[(candidate.id, test.id)] = outcome
            if quiet:
                continue
            await run.emit(
                ev.TestRun,
                candidate_id=candidate.id,
                test_id=test.id,
                verdict=outcome.verdict.value,
                got=outcome.got[:MAX_GOT_CHARS],
                expected=test.case.expected if compare else None,
                time_s=time_s,
                detail=detail,
            )
    return [outcomes[t.id] for t in tests]
