"""Expected outputs computed by running a problem's reference solution (MBPP+).

MBPP+ ships inputs only; its expected outputs are what the reference returns. Loading stays
pure and fast, so the loader marks such tests (origin "reference", expected "") and this module
fills them in just before grading: the reference runs once in the sandbox, unjudged, and its
return values are cached per problem for the rest of the process. A test the reference itself
cannot pass (it raises or times out) is dropped and counted in the result's `extra`.
"""

from __future__ import annotations

import dataclasses
import hashlib

from engine.grading.runner import TestRunner
from engine.problems.mbpp import NEEDS_REFERENCE
from engine.problems.model import Problem, TestCase
from engine.sandbox.types import Program, SandboxLimits, Verdict

# (problem id, source, reference hash) -> expected output per test (None: reference failed)
_CACHE: dict[tuple[str, str, str], tuple[str | None, ...]] = {}


def needs_reference(problem: Problem) -> bool:
    return any(
        t.origin == NEEDS_REFERENCE and not t.expected
        for t in problem.public_tests + problem.hidden_tests
    )


async def with_reference_outputs(
    problem: Problem, sandbox: TestRunner, limits: SandboxLimits | None = None
) -> tuple[Problem, int]:
    """The problem with every reference-marked test's expected output filled in, and how many
    tests were dropped because the reference failed on them."""
    if not needs_reference(problem):
        return problem, 0
    if not problem.references:
        raise ValueError(f"{problem.id}: tests need a reference solution and there is none")
    reference = problem.references[0]
    tests = problem.public_tests + problem.hidden_tests
    key = (problem.id, f"{problem.source.path}:{problem.source.row}",
           hashlib.sha256(reference.encode()).hexdigest())
    if key not in _CACHE:
        program = Program(code=reference, kind=problem.test_kind, func_name=problem.func_name,
                          test_setup=problem.test_setup, atol=problem.atol)
        run = await sandbox.run(program, tests, limits, compare=False)
        _CACHE[key] = tuple(
            r.got if r.verdict is Verdict.AC else None for r in run.tests
        ) + (None,) * (len(tests) - len(run.tests))
    outputs = _CACHE[key]
    n_public = len(problem.public_tests)
    filled: list[TestCase | None] = [
        dataclasses.replace(t, expected=out) if out is not None else None
        for t, out in zip(tests, outputs, strict=True)
    ]
    public = tuple(t for t in filled[:n_public] if t is not None)
    hidden = tuple(t for t in filled[n_public:] if t is not None)
    dropped = len(tests) - len(public) - len(hidden)
    return dataclasses.replace(problem, public_tests=public, hidden_tests=hidden), dropped
