"""Choosing among candidates, and saying why.

Modes (set by the condition, or `PipelineConfig.selection`):
  probe          the probe's answer as it is (condition A);
  first_passing  the first candidate, in the order drawn, that passes every public example,
                 else the first candidate (condition B: Phase 1 without Phase 2);
  scored         candidates ordered by, in turn: the fraction of public examples passed (an
                 example that no candidate passes is disputed and left out: a statement's
                 example can be wrong, and one must not veto everything); the fraction of kept
                 self-tests (and adjudicated S* tests and a person's tests) passed; the size of
                 the candidate's behaviour group on generated inputs (engine.pipeline.evidence);
                 CodeT-style agreement (the size of the group of candidates that pass exactly
                 the same tests, times how many tests that group passes); lower Lens energy,
                 only when the Lens `decides` (it beat the random and shortest-code baselines
                 on held-out problems, engine.lens.gate; otherwise its energy is shown in the
                 parts and the reason but ranks nothing); and only when all of that is equal,
                 the earlier candidate.
Each candidate's parts are emitted as `CandidateScored`, so the ranking can be inspected.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NotRequired, TypedDict

from engine import events as ev
from engine.pipeline.context import Candidate, Run, TestSource

TESTS_FOR_AGREEMENT: tuple[TestSource, ...] = ("self", "user")


class ScoreParts(TypedDict):
    """What a candidate's score is made of (CandidateScored's `parts`, as JSON)."""

    examples: str
    self_tests: str
    behaviour_group: int
    agreement: float
    energy: float
    disputed_examples: NotRequired[list[str]]
    energy_ranks: NotRequired[bool]  # False: a trained Lens shown only (engine.lens.gate)


@dataclass(frozen=True, slots=True)
class Ranked:
    candidate: Candidate
    key: tuple[float, ...]
    score: float
    parts: ScoreParts


def rank(run: Run, pool: list[Candidate]) -> list[Ranked]:
    """Best first, by the `scored` order above."""
    agreement = _codet(run, pool) if run.config.codet else {}
    disputed = disputed_examples(run, pool)
    largest = max((run.group_size(c.id) for c in pool), default=0)
    lens_decides = run.lens.decides
    ranked = []
    for candidate in pool:
        pub_passed, pub_total = run.tally(candidate.id, ["public"], exclude=disputed)
        self_passed, self_total = run.tally(candidate.id, TESTS_FOR_AGREEMENT)
        public = pub_passed / pub_total if pub_total else 1.0
        own = self_passed / self_total if self_total else 1.0
        group = run.group_size(candidate.id) / largest if largest else 0.0
        codet = agreement.get(candidate.id, 0.0)
        energy = candidate.energy if lens_decides else 0.0
        key = (public, own, group, codet, -energy, -candidate.order)
        parts: ScoreParts = {
            "examples": f"{pub_passed}/{pub_total}",
            "self_tests": f"{self_passed}/{self_total}",
            "behaviour_group": run.group_size(candidate.id),
            "agreement": round(codet, 4),
            "energy": candidate.energy,
        }
        if run.lens.trained and not lens_decides:
            parts["energy_ranks"] = False
        if disputed:
            parts["disputed_examples"] = sorted(disputed)
        score = 100 * public + 10 * own + 2 * group + codet
        ranked.append(Ranked(candidate, key, score, parts))
    return sorted(ranked, key=lambda r: r.key, reverse=True)


def disputed_examples(run: Run, pool: list[Candidate]) -> set[str]:
    """Public examples that no candidate passes, among two or more distinct programs."""
    verdicts = {
        key: outcome.passed
        for key, outcome in run.outcomes.items()
        if run.tests[key[1]].source == "public"
    }
    return disputed(verdicts, len({c.code.strip() for c in pool}))


def disputed(verdicts: Mapping[tuple[str, str], bool], distinct_programs: int) -> set[str]:
    """Of the tests run ((candidate, test) -> passed), those that no candidate passes, when two
    or more distinct programs ran: such an example is as likely wrong as every program, so it
    decides nothing. (Also replayed from stored events by engine.lens.replay.)"""
    if distinct_programs < 2:
        return set()
    ran = {tid for _, tid in verdicts}
    return ran - {tid for (_, tid), passed in verdicts.items() if passed}


async def emit_scores(run: Run, ranked: list[Ranked]) -> None:
    for r in ranked:
        await run.emit(
            ev.CandidateScored,
            candidate_id=r.candidate.id,
            score=r.score,
            parts=json.dumps(r.parts, sort_keys=True),
        )


async def choose(run: Run) -> tuple[Candidate, str] | None:
    """The answer and the reason, by the configured mode (a person's pin wins)."""
    pool = sorted(run.candidates.values(), key=lambda c: c.order)
    if not pool:
        return None
    if run.pinned is not None:
        return run.candidates[run.pinned], "pinned by a person"
    mode = run.config.selection
    if mode == "probe":
        first = pool[0]
        return first, f"baseline: the first answer ({first.label or first.id}) as it is"
    if mode == "first_passing":
        for candidate in pool:
            passed, total = run.tally(candidate.id, ["public"])
            if total and passed == total:
                return candidate, f"first candidate to pass all {total} public examples"
        return pool[0], "no candidate passes every public example; the first one stands"
    ranked = rank(run, pool)
    await emit_scores(run, ranked)
    best = ranked[0]
    return best.candidate, _reason(best, ranked)


def _reason(best: Ranked, ranked: list[Ranked]) -> str:
    parts = best.parts
    text = (
        f"best of {len(ranked)}: examples {parts['examples']}, self-tests {parts['self_tests']}, "
        f"behaviour group {parts['behaviour_group']}, agreement {parts['agreement']}, "
        f"energy {best.candidate.energy:.3f}"
    )
    if parts.get("energy_ranks") is False:
        text += " (shown only: the Lens has not beaten the baselines on held-out problems)"
    if parts.get("disputed_examples"):
        text += f"; no candidate passes {', '.join(parts['disputed_examples'])} (left out)"
    ties = [r for r in ranked[1:] if r.key[:-1] == best.key[:-1]]
    if ties:
        text += f"; tied with {', '.join(r.candidate.id for r in ties)}, the earlier wins"
    return text


def _codet(run: Run, pool: list[Candidate]) -> dict[str, float]:
    """CodeT dual agreement, normalized to [0, 1]: candidates passing the same set of tests form
    a consensus group scored by (group size) x (tests it passes)."""
    passing: dict[str, frozenset[str]] = {}
    for candidate in pool:
        passing[candidate.id] = frozenset(
            tid
            for (cid, tid), outcome in run.outcomes.items()
            if cid == candidate.id
            and run.tests[tid].source in TESTS_FOR_AGREEMENT
            and outcome.passed
        )
    sizes = Counter(passing.values())
    raw = {cid: sizes[tests] * len(tests) for cid, tests in passing.items()}
    top = max(raw.values(), default=0)
    return {cid: value / top for cid, value in raw.items()} if top else {}
