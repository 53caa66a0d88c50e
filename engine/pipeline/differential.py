"""S* differential testing: inputs that tell candidates apart, behaviour clusters, and the model
as adjudicator between disagreeing clusters.

The model proposes inputs likely to split the candidates; every candidate runs on them (no
expected output: outputs are only compared with each other); candidates with identical outputs
on every input form a cluster. Where clusters disagree on an input, the model is shown the input
and the distinct outputs and names the correct one; that input with the chosen output becomes a
test (origin: adjudicated), so selection and repair weigh it like any kept self-test.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine import events as ev
from engine.pipeline.context import Candidate, KnownTest, Outcome, Run
from engine.pipeline.evidence import behaviour
from engine.pipeline.execution import evaluate, run_outputs
from engine.pipeline.generation import generate
from engine.pipeline.outputs import canonical, chosen_output, clean_input, input_blocks
from engine.pipeline.problem_text import call_shape, input_format, problem_block
from engine.problems.model import TestCase, TestKind

MAX_PROGRAMS_SHOWN = 4
MAX_OUTPUT_CHARS = 1500


async def differential(run: Run, pool: Sequence[Candidate]) -> list[KnownTest]:
    """Cluster `pool` by behaviour and adjudicate; returns the adjudicated tests it added."""
    kind = run.generated_kind
    distinct = list({c.code.strip(): c for c in pool}.values())
    if kind is None or len(distinct) < 2 or not await run.can_spend("differential"):
        return []
    generation = await generate(
        run,
        template="differential_inputs",
        purpose="differential",
        step="differential",
        temperature=0.7,
        problem=problem_block(run.view),
        programs=_programs(distinct[:MAX_PROGRAMS_SHOWN]),
        input_format=input_format(run.view),
        n=run.config.n_differential_inputs,
    )
    proposed = input_blocks(generation.text, **call_shape(run.view))
    cleaned = (clean_input(kind, text) for text in proposed)
    blocks = [text for text in cleaned if text is not None][: run.config.n_differential_inputs]
    inputs = [
        await run.add_test(
            "differential", TestCase(text, "", kind, "differential"), "S* input", prefix="d"
        )
        for text in blocks
    ]
    if not inputs:
        return []
    outputs = await run_outputs(run, pool, inputs)
    clusters = _clusters(kind, pool, outputs)
    await run.emit(
        ev.CandidatesClustered,
        clusters=tuple(tuple(c.id for c in cluster) for cluster in clusters),
        inputs=tuple(t.id for t in inputs),
    )
    if not run.config.adjudicate or len(clusters) < 2:
        return []
    return await _adjudicate(run, kind, inputs, clusters, outputs)


def _clusters(
    kind: TestKind, pool: Sequence[Candidate], outputs: dict[str, list[Outcome]]
) -> list[list[Candidate]]:
    """Candidates grouped by identical behaviour, largest group first."""
    groups: dict[tuple[str, ...], list[Candidate]] = {}
    for candidate in pool:
        signature = tuple(behaviour(kind, o) for o in outputs[candidate.id])
        groups.setdefault(signature, []).append(candidate)
    return sorted(groups.values(), key=len, reverse=True)


async def _adjudicate(
    run: Run,
    kind: TestKind,
    inputs: list[KnownTest],
    clusters: list[list[Candidate]],
    outputs: dict[str, list[Outcome]],
) -> list[KnownTest]:
    adjudicated: list[KnownTest] = []
    for index, test in enumerate(inputs):
        if len(adjudicated) >= run.config.max_adjudications:
            break
        if not await run.can_spend("adjudicate"):
            break
        # The distinct clean outputs on this input, with the clusters that produced each.
        options: dict[str, tuple[str, list[str]]] = {}
        for cluster in clusters:
            outcome = outputs[cluster[0].id][index]
            if outcome.passed:
                key = canonical(kind, outcome.got)
                options.setdefault(key, (outcome.got, []))[1].extend(c.id for c in cluster)
        if len(options) < 2:
            continue  # every clean program agrees here: nothing to decide
        shown = list(options.values())
        generation = await generate(
            run,
            template="adjudicate",
            purpose="adjudicate",
            step="adjudicate",
            temperature=0.0,
            problem=problem_block(run.view),
            input=test.case.input.rstrip(),
            outputs=_outputs_text(shown),
        )
        choice = chosen_output(
            generation.text,
            [got for got, _ in shown],
            test_input=test.case.input,
            **call_shape(run.view),
        )
        if choice is None or not 1 <= choice <= len(shown):
            continue  # the model could not decide: this input decides nothing
        got, producers = shown[choice - 1]
        # The same witness rule as self-tests: the model's choice is one witness, each distinct
        # program that produced the output another.
        programs = {run.candidates[cid].code.strip() for cid in producers}
        witnesses = 1 + len(programs)
        if witnesses < run.config.selftest_min_witnesses:
            continue
        case = TestCase(test.case.input, got, kind, origin="adjudicated")
        origin = (
            f"adjudicated by the model: output of {', '.join(producers)} on {test.id} "
            f"({witnesses} witnesses)"
        )
        adjudicated.append(await run.add_test("self", case, origin, prefix="a"))
    await evaluate(run, list(run.candidates.values()), adjudicated)
    return adjudicated


def _programs(candidates: Sequence[Candidate]) -> str:
    return "\n\n".join(
        f"Program {i}:\n```python\n{c.code.rstrip()}\n```" for i, c in enumerate(candidates, 1)
    )


def _outputs_text(shown: list[tuple[str, list[str]]]) -> str:
    parts = []
    for number, (got, producers) in enumerate(shown, 1):
        text = got if len(got) <= MAX_OUTPUT_CHARS else got[:MAX_OUTPUT_CHARS] + "\n... (cut)"
        parts.append(
            f"Output {number} (from {len(producers)} program(s)):\n```\n{text.rstrip()}\n```"
        )
    return "\n\n".join(parts)
