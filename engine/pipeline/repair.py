"""PR-CoT repair: a failing candidate, its failing tests and a perspective go to the model, which
reasons and returns a repaired program; each repair is checked in the sandbox.

Only tests the solver may see are shown: public examples, kept self-tests (and adjudicated S*
tests) and a person's tests; never hidden ones, which the run does not have. Iterations are
bounded; perspectives are taken in turn; after each iteration the better of the parent and the
child (by tests passed, then energy) is the one repaired next. A person can pause before each
iteration (gate "repair N") and skip it or stop.
"""

from __future__ import annotations

from engine import events as ev
from engine.pipeline.context import Candidate, KnownTest, Run, TestSource
from engine.pipeline.energy import score_energy
from engine.pipeline.execution import evaluate_missing
from engine.pipeline.gates import numbered
from engine.pipeline.generation import code_from, generate
from engine.pipeline.problem_text import answer_format, problem_block
from engine.pipeline.steering import checkpoint
from engine.problems.model import TestKind

REPAIR_SOURCES: tuple[TestSource, ...] = ("public", "self", "user")
MAX_FAILURES_SHOWN = 4
MAX_TEXT_CHARS = 800
REPAIR_TEMPERATURE = 0.4


async def repair(run: Run, start: Candidate) -> Candidate:
    """Repair `start` until it passes every known test or the iterations run out; returns the
    best candidate of the chain."""
    parent = start
    for iteration in range(1, run.config.repair_iterations + 1):
        failing = run.failing(parent.id, REPAIR_SOURCES)
        if not failing or not await run.can_spend(f"repair {iteration}"):
            break
        perspective = run.config.perspectives[(iteration - 1) % len(run.config.perspectives)]
        action = await checkpoint(
            run, numbered("repair", iteration), f"{parent.id} fails {len(failing)} test(s)"
        )
        if action == "skip":
            continue
        run.step = f"repair {iteration}"
        generation = await generate(
            run,
            template="repair",
            purpose="repair",
            step="repair",
            temperature=REPAIR_TEMPERATURE,
            problem=problem_block(run.view),
            code=parent.code.rstrip(),
            failures=_failures(run, parent, failing),
            perspective=perspective,
            answer_format=answer_format(run.view),
        )
        code = await code_from(run, generation)
        child = None
        if code is not None:
            child = await run.add_candidate(
                code,
                origin="repair",
                phase="repair",
                stream_id=generation.stream_id,
                parent_id=parent.id,
                label=f"repair {iteration} ({_short(perspective)})",
            )
            await evaluate_missing(run, [child], run.tests_of(*REPAIR_SOURCES))
            await score_energy(run, [child])
        await run.emit(
            ev.RepairIteration,
            iteration=iteration,
            perspective=perspective,
            parent_id=parent.id,
            child_id=child.id if child else None,
            reasoning=(generation.result.thinking or generation.text)[:20000],
            stream_id=generation.stream_id,
            failing_tests=tuple(t.id for t in failing),
        )
        if child is not None and _better(run, child, parent):
            parent = child
    return parent


def _better(run: Run, child: Candidate, parent: Candidate) -> bool:
    child_passed, _ = run.tally(child.id, REPAIR_SOURCES)
    parent_passed, _ = run.tally(parent.id, REPAIR_SOURCES)
    if child_passed != parent_passed:
        return child_passed > parent_passed
    return child.energy < parent.energy


def _failures(run: Run, candidate: Candidate, failing: list[KnownTest]) -> str:
    lines = []
    for test in failing[:MAX_FAILURES_SHOWN]:
        outcome = run.outcomes[(candidate.id, test.id)]
        if test.case.kind is TestKind.ASSERT:
            lines.append(
                f"- {test.source} test {test.id}: verdict {outcome.verdict.value}\n"
                f"  test code:\n```python\n{_cap(test.case.input)}\n```\n"
                f"  error: {_cap(outcome.detail) or '(none reported)'}"
            )
            continue
        lines.append(
            f"- {test.source} test {test.id}: verdict {outcome.verdict.value}\n"
            f"  input:\n```\n{_cap(test.case.input)}\n```\n"
            f"  expected:\n```\n{_cap(test.case.expected)}\n```\n"
            f"  got:\n```\n{_cap(outcome.got)}\n```"
        )
    if len(failing) > MAX_FAILURES_SHOWN:
        lines.append(f"... and {len(failing) - MAX_FAILURES_SHOWN} more failing test(s)")
    return "\n".join(lines)


def _cap(text: str) -> str:
    text = text.rstrip()
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS] + "\n... (cut)"


def _short(perspective: str) -> str:
    return perspective.split(":")[0].lower()
