"""Evidence without the model: candidates run on many valid inputs made by mutating the public
examples' inputs (`engine.pipeline.mutation`), grouped by behaviour (identical outputs).

No expected output is known for these inputs, so nothing passes or fails on them; what counts is
agreement. Independent candidates that behave identically on many inputs are more likely right
than a candidate that behaves like no other (the intuition behind CodeT and S*'s clusters), so
selection weighs a candidate by the size of its behaviour group. Inputs on which most candidates
crash are probably invalid (a mutation broke a constraint the statement states) and are
dropped, never counted against anyone.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine import events as ev
from engine.pipeline.context import Candidate, Outcome, Run
from engine.pipeline.execution import run_outputs
from engine.pipeline.mutation import mutate_inputs
from engine.pipeline.outputs import canonical
from engine.pipeline.statement_examples import functional_input, statement_examples
from engine.problems.model import TestCase, TestKind


def mutated_inputs(run: Run, n: int) -> list[str]:
    """Up to `n` new valid-looking inputs made from the public examples' inputs."""
    kind = run.generated_kind
    if kind is None or n <= 0:
        return []
    seeds = [t.case.input for t in run.tests_of("public") if t.case.kind is kind]
    if kind is TestKind.FUNCTIONAL:  # assert-style examples still show the call's arguments
        view = run.view
        examples = statement_examples(view.statement, view.starter_code, view.func_name)
        seeds += [args for args in map(functional_input, examples) if args is not None]
    known = set(seeds)
    return [text for text in mutate_inputs(kind, seeds, count=n, seed=0) if text not in known]


async def behaviour_groups(
    run: Run, pool: Sequence[Candidate], inputs: Sequence[str]
) -> list[list[Candidate]]:
    """Run `pool` on `inputs`, group the candidates by identical behaviour, record each one's
    group on the run (`run.behaviour`, 0 the largest) and emit the clusters. Largest group first."""
    kind = run.generated_kind
    distinct = list({c.code.strip(): c for c in pool}.values())
    if kind is None or len(pool) < 2 or len(distinct) < 2 or not inputs:
        return []
    tests = [
        await run.add_test(
            "differential", TestCase(text, "", kind, "mutation"), "mutated example input",
            prefix="m",
        )
        for text in inputs
    ]
    outputs = await run_outputs(run, pool, tests)
    usable = [
        index
        for index in range(len(tests))
        if sum(outputs[c.id][index].passed for c in pool) * 2 > len(pool)  # most ran cleanly
    ]
    if not usable:
        return []
    groups: dict[tuple[str, ...], list[Candidate]] = {}
    for candidate in pool:
        signature = tuple(behaviour(kind, outputs[candidate.id][i]) for i in usable)
        groups.setdefault(signature, []).append(candidate)
    clusters = sorted(groups.values(), key=len, reverse=True)
    for number, cluster in enumerate(clusters):
        for candidate in cluster:
            run.behaviour[candidate.id] = number
    await run.emit(
        ev.CandidatesClustered,
        clusters=tuple(tuple(c.id for c in cluster) for cluster in clusters),
        inputs=tuple(tests[i].id for i in usable),
    )
    return clusters


def behaviour(kind: TestKind, outcome: Outcome) -> str:
    """What a run did, as a key: its canonical output, or its verdict when it did not finish."""
    return canonical(kind, outcome.got) if outcome.passed else f"<{outcome.verdict.value}>"

