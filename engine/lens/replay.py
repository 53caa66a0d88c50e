"""Selection replayed from a finished run's events, judged by hidden-test labels.

For each graded task: the answer the run submitted, and the candidates a Lens (or another
scorer) may choose among, restricted as the pipeline restricts them. The pipeline's first
criterion is the fraction of public examples passed (examples no candidate passes are left out
as disputed, engine.pipeline.selection); only among the candidates best on it do the later
criteria, the Lens energy last of them, matter. So the pool here is the candidates of the
pipeline's final ranking (its last `CandidateScored` batch) with the best public-example
fraction; for runs that did not rank (conditions A and B) it is computed the same way from the
`TestRun` events. A scorer then picks the lowest score in the pool, the earlier candidate on a
tie, as the pipeline breaks ties.

Only hidden labels judge a pick (`CandidateGraded`, `Graded`, and "no candidate passed"); a task
graded on its public examples (no hidden tests) or whose pool holds a candidate without a
hidden label (a run with `bench --no-oracle` grades only the submitted answer) is left out, and
counted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine import events as ev
from engine.lens.collect import code_lengths, task_labels
from engine.pipeline.selection import disputed

if TYPE_CHECKING:
    from engine.store import Store


@dataclass(frozen=True, slots=True)
class TaskReplay:
    problem: str
    task: str
    submitted: str
    submitted_passed: bool
    considered: tuple[str, ...]  # the candidates the pipeline ranked, in creation order
    pool: tuple[str, ...]  # those with the best public-example fraction, in creation order
    # Those tied with the best on every criterion before the energy (examples, self-tests,
    # behaviour group, agreement): where a Lens that passed the gate changes the choice.
    ties: tuple[str, ...]
    hidden: Mapping[str, int]  # candidate -> 1 pass / 0 fail (hidden tests)
    code_chars: Mapping[str, int]

    @property
    def oracle(self) -> bool:
        """Any considered candidate passes the hidden tests: a ceiling, not a result."""
        return any(self.hidden.get(c) == 1 for c in self.considered)

    def passed(self, candidate: str) -> bool:
        return self.hidden.get(candidate) == 1

    def pool_pass_rate(self) -> float:
        """What a random choice in the pool passes, in expectation."""
        return sum(self.passed(c) for c in self.pool) / len(self.pool)


@dataclass(frozen=True, slots=True)
class Skipped:
    problem: str
    task: str
    reason: str


@dataclass(frozen=True, slots=True)
class Replays:
    tasks: list[TaskReplay] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def replay_task(problem: str, task: str, events: Sequence[ev.Event]) -> TaskReplay | Skipped:
    graded = [e for e in events if isinstance(e, ev.Graded)]
    if not graded:
        return Skipped(problem, task, "not graded")
    if graded[-1].used_public_fallback:
        return Skipped(problem, task, "graded on public examples (no hidden tests)")
    labels = task_labels(events)
    hidden = {cid: lab["hidden"] for cid, lab in labels.items() if "hidden" in lab}
    order = [e.candidate_id for e in events if isinstance(e, ev.CandidateCreated)]
    ranking = _last_ranking(events)
    if ranking is None:
        fractions = _public_fractions(events, order)
        keys: dict[str, tuple[float, ...]] = {c: (f,) for c, f in fractions.items()}
    else:
        fractions = {c: key[0] for c, key in ranking.items()}
        keys = ranking
    considered = [c for c in order if c in fractions]
    if not considered:
        return Skipped(problem, task, "no candidate was ranked")
    best = max(fractions[c] for c in considered)
    pool = tuple(c for c in considered if math.isclose(fractions[c], best, abs_tol=1e-12))
    top = max(keys[c] for c in considered)
    ties = tuple(c for c in considered if keys[c] == top)
    if any(c not in hidden for c in (*pool, *ties)):
        return Skipped(problem, task, "pool candidates without a hidden verdict (--no-oracle)")
    submitted = graded[-1].candidate_id
    return TaskReplay(
        problem=problem,
        task=task,
        submitted=submitted,
        submitted_passed=graded[-1].verdict == "AC",
        considered=tuple(considered),
        pool=pool,
        ties=ties,
        hidden=hidden,
        code_chars=code_lengths(events),
    )


def replay_store(store: Store) -> Replays:
    """The last graded task of each problem in `store` (a resumed or repeated problem counts
    once)."""
    latest: dict[str, TaskReplay | Skipped] = {}
    for info in store.tasks():
        result = replay_task(info.problem_id, info.task_id, store.events(info.task_id))
        earlier = latest.get(info.problem_id)
        if isinstance(result, TaskReplay) or not isinstance(earlier, TaskReplay):
            latest[info.problem_id] = result
    tasks = [r for r in latest.values() if isinstance(r, TaskReplay)]
    skipped = [r for r in latest.values() if isinstance(r, Skipped)]
    return Replays(tasks, skipped)


def pick(
    replay: TaskReplay, score: Callable[[str], float | None], among: Sequence[str] | None = None
) -> str | None:
    """The candidate of the pool (or of `among`) with the lowest score, the earlier on a tie;
    None when none of them has a score."""
    candidates = replay.pool if among is None else among
    scored = [(s, i, c) for i, c in enumerate(candidates) if (s := score(c)) is not None]
    if not scored:
        return None
    return min(scored)[2]


Key = tuple[float, ...]


def _last_ranking(events: Iterable[ev.Event]) -> dict[str, Key] | None:
    """candidate -> the pipeline's ranking key before the energy (public-example fraction,
    self-test fraction, behaviour group, agreement), from the last batch of `CandidateScored`
    events (the ranking the submitted answer came from); None when the run never ranked."""
    batch: dict[str, Key] = {}
    last: dict[str, Key] | None = None
    in_batch = False
    for event in events:
        if isinstance(event, ev.CandidateScored):
            if not in_batch:
                batch, in_batch = {}, True
            parts = json.loads(event.parts)
            batch[event.candidate_id] = (
                _fraction(parts.get("examples", "")),
                _fraction(parts.get("self_tests", "")),
                float(parts.get("behaviour_group", 0)),  # the size: same order as its share
                float(parts.get("agreement", 0.0)),
            )
            last = batch
        else:
            in_batch = False
    return last


def _fraction(examples: str) -> float:
    try:
        passed, total = (int(x) for x in str(examples).split("/"))
    except ValueError:
        return 1.0
    return passed / total if total else 1.0


def _public_fractions(events: Sequence[ev.Event], order: list[str]) -> dict[str, float]:
    """What the pipeline's ranking computes for public examples, from the events."""
    public = {e.test_id for e in events if isinstance(e, ev.TestAdded) and e.kind == "public"}
    verdicts: dict[tuple[str, str], bool] = {}
    for e in events:
        if isinstance(e, ev.TestRun) and e.test_id in public:
            verdicts[(e.candidate_id, e.test_id)] = e.verdict == "AC"
    codes = {e.candidate_id: e.code.strip() for e in events if isinstance(e, ev.CandidateCreated)}
    left_out = disputed(verdicts, len(set(codes.values())))
    fractions = {}
    for cid in order:
        results = [ok for (c, tid), ok in verdicts.items() if c == cid and tid not in left_out]
        fractions[cid] = sum(results) / len(results) if results else 1.0
    return fractions
