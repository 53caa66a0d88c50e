"""Self-tests: the model writes test inputs with expected outputs; an expected output is kept
only when it is consistent.

A model's hand-worked expected output is often wrong, and a wrong test would steer selection
and repair the wrong way. So each proposed expected output needs witnesses: every independent
generation that wrote the same output for the same input counts once, and every distinct
candidate program whose output on that input matches counts once. A test is kept when its
expected output has at least `selftest_min_witnesses`, and it records who agreed; the rest are
discarded with the reason. Kept tests are then run on every candidate (CodeT-style agreement in
selection uses them too).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine import events as ev
from engine.pipeline.context import Candidate, KnownTest, Outcome, Run
from engine.pipeline.execution import evaluate, run_outputs
from engine.pipeline.generation import Ask, Generation, generate_many
from engine.pipeline.outputs import (
    canonical,
    clean_expected,
    clean_input,
    input_key,
    io_pairs,
    same_output,
)
from engine.pipeline.problem_text import (
    call_shape,
    input_format,
    problem_block,
    test_format,
    test_prefill,
)
from engine.problems.model import TestCase, TestKind

SELFTEST_TEMPERATURE = 0.7  # repeated generations must be independent to count as witnesses


@dataclass(slots=True)
class Proposal:
    """One input, and the expected outputs proposed for it with the generations that wrote
    each (keyed by canonical form)."""

    input: str
    expected: dict[str, str] = field(default_factory=dict)  # canonical -> as written
    writers: dict[str, set[int]] = field(default_factory=dict)  # canonical -> generations


async def selftests(run: Run, candidates: list[Candidate]) -> list[KnownTest]:
    kind = run.generated_kind
    if kind is None:
        await run.emit(
            ev.TestsGenerated, kept=(), reason="no self-tests: the problem names no function"
        )
        return []
    if not await run.can_spend("selftest"):
        return []
    proposals: dict[str, Proposal] = {}
    malformed = 0
    ask = Ask(
        template="selftest",
        purpose="selftest",
        step="selftest",
        temperature=SELFTEST_TEMPERATURE,
        prefill=test_prefill(run.view),
        variables={
            "problem": problem_block(run.view),
            "test_format": test_format(run.view),
            "n": run.config.n_selftests,
        },
    )
    wanted = run.config.selftest_generations
    size = max(1, run.config.batch_draws)
    generations: list[Generation] = []
    for first in range(0, wanted, size):
        if first and not await run.can_spend("selftest"):
            break
        generations += await generate_many(run, [ask] * min(size, wanted - first))
    for generation_number, generation in enumerate(generations):
        for raw_input, raw_expected in io_pairs(generation.text, **call_shape(run.view)):
            test_input = clean_input(kind, raw_input)
            expected = clean_expected(kind, raw_expected)
            if test_input is None or expected is None:
                malformed += 1
                continue
            proposal = proposals.setdefault(input_key(test_input), Proposal(test_input))
            key = canonical(kind, expected)
            proposal.expected.setdefault(key, expected)
            proposal.writers.setdefault(key, set()).add(generation_number)

    # Distinct programs only: two identical candidates are one witness, not two.
    programs = list({c.code.strip(): c for c in candidates}.values())
    probes = [
        KnownTest(f"probe-{i}", "self", TestCase(p.input, "", kind, "self-test"), "probe")
        for i, p in enumerate(proposals.values())
    ]
    outputs = await run_outputs(run, programs, probes, quiet=True)

    kept: list[KnownTest] = []
    discarded: list[str] = []
    reasons: list[str] = []
    for index, proposal in enumerate(proposals.values()):
        test_id = run.next_id("s")
        best_key, witnesses, agreeing = _best_expected(
            run, kind, proposal, programs, outputs, index
        )
        writers = len(proposal.writers[best_key])
        origin = _origin(writers, agreeing)
        if witnesses >= run.config.selftest_min_witnesses:
            case = TestCase(proposal.input, proposal.expected[best_key], kind, origin="self-test")
            kept.append(await run.add_test("self", case, origin, test_id=test_id))
        else:
            discarded.append(test_id)
            reasons.append(
                f"{test_id}: expected {proposal.expected[best_key].strip()[:60]!r} has "
                f"{witnesses} witness(es) ({origin}), needs {run.config.selftest_min_witnesses}"
            )
    if not proposals:
        reasons.append("the model wrote no usable test")
    if malformed:
        reasons.append(f"{malformed} malformed test(s) dropped ({input_format(run.view)})")
    await run.emit(
        ev.TestsGenerated,
        kept=tuple(t.id for t in kept),
        discarded=tuple(discarded),
        reason="; ".join(reasons),
    )
    await evaluate(run, candidates, kept)
    return kept


def _best_expected(
    run: Run,
    kind: TestKind,
    proposal: Proposal,
    programs: list[Candidate],
    outputs: dict[str, list[Outcome]],
    index: int,
) -> tuple[str, int, list[str]]:
    """The proposed expected output with the most witnesses: (its key, count, agreeing ids)."""
    best: tuple[str, int, list[str]] | None = None
    for key, written in proposal.expected.items():
        agreeing = [
            c.id
            for c in programs
            if outputs[c.id][index].passed  # ran cleanly
            and same_output(kind, written, outputs[c.id][index].got, run.view.atol)
        ]
        witnesses = len(proposal.writers[key]) + len(agreeing)
        if best is None or witnesses > best[1]:
            best = (key, witnesses, agreeing)
    assert best is not None  # every proposal has at least one expected output
    return best


def _origin(writers: int, agreeing: list[str]) -> str:
    parts = [f"{writers} generation{'s' if writers != 1 else ''}"]
    parts.append(f"candidates {', '.join(agreeing)}" if agreeing else "no candidate")
    return "self-test agreed by " + " + ".join(parts)
