"""Labelled candidates from the event store: every embedded candidate with what is known of it.

Labels by source (see engine.lens.dataset), read from each task's own events:
- hidden: `CandidateGraded` (one candidate's hidden-test verdict, written after submission),
  `Graded` for the submitted candidate, and `Graded.oracle_any_pass == False`, which says that
  no candidate of the task passed. A task graded on its public tests because it had no hidden
  ones (`used_public_fallback`) gives no hidden labels: those would be public results in
  disguise.
- public: the candidate ran on the statement's examples (`TestAdded(kind="public")`) and got AC
  on every one; any other verdict on any of them is a fail; partial runs say nothing.
- selftest: the same over the self-generated tests that were kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from engine import events as ev
from engine.lens.dataset import LabelSource, LensDataError, LensDataset, Sample
from engine.lens.features import DEFAULT_POOLING, FeatureSpec

if TYPE_CHECKING:
    from engine.store import Store

AC = "AC"


def task_labels(events: Iterable[ev.Event]) -> dict[str, dict[LabelSource, int]]:
    """candidate id -> {label source: 1 pass / 0 fail} for one task's events."""
    created: list[str] = []
    hidden: dict[str, int] = {}
    public_tests: set[str] = set()
    self_tests: set[str] = set()
    discarded: set[str] = set()
    runs: dict[str, dict[str, str]] = {}  # candidate -> test -> last verdict
    none_passed = False
    fallback = False
    for event in events:
        match event:
            case ev.CandidateCreated(candidate_id=cid):
                created.append(cid)
            case ev.CandidateGraded(candidate_id=cid, verdict=verdict):
                hidden[cid] = int(verdict == AC)
            case ev.Graded(candidate_id=cid, verdict=verdict):
                hidden[cid] = int(verdict == AC)
                none_passed = event.oracle_any_pass is False
                fallback = event.used_public_fallback
            case ev.TestAdded(test_id=tid, kind="public"):
                public_tests.add(tid)
            case ev.TestAdded(test_id=tid, kind="self"):
                self_tests.add(tid)
            case ev.TestsGenerated(discarded=dropped):
                discarded.update(dropped)
            case ev.TestRun(candidate_id=cid, test_id=tid, verdict=verdict):
                runs.setdefault(cid, {})[tid] = verdict
            case _:
                pass
    if none_passed:
        hidden.update({cid: 0 for cid in created})
    labels: dict[str, dict[LabelSource, int]] = {cid: {} for cid in created}
    for cid in created:
        if hidden.get(cid) is not None and not fallback:
            labels[cid]["hidden"] = hidden[cid]
        by_source: tuple[tuple[LabelSource, set[str]], ...] = (
            ("public", public_tests), ("selftest", self_tests - discarded))
        for source, tests in by_source:
            passed = _all_pass(runs.get(cid, {}), tests)
            if passed is not None:
                labels[cid][source] = passed
    return labels


def _all_pass(verdicts: Mapping[str, str], tests: set[str]) -> int | None:
    seen = {t: v for t, v in verdicts.items() if t in tests}
    if any(v != AC for v in seen.values()):
        return 0
    if tests and len(seen) == len(tests):
        return 1
    return None


def code_lengths(events: Iterable[ev.Event]) -> dict[str, int]:
    return {e.candidate_id: len(e.code) for e in events if isinstance(e, ev.CandidateCreated)}


def samples_of_task(
    problem_id: str,
    task_id: str,
    events: Sequence[ev.Event],
    vectors: Mapping[str, Sequence[float]],
) -> list[Sample]:
    """One sample per embedded candidate of the task (labelled or not: unknown is -1)."""
    labels = task_labels(events)
    lengths = code_lengths(events)
    return [
        Sample(
            problem=problem_id,
            task=task_id,
            candidate=cid,
            vector=vector,
            code_chars=lengths.get(cid, 0),
            labels=labels.get(cid, {}),
        )
        for cid, vector in vectors.items()
    ]


def collect(
    store: Store, *, model: str | None = None, pooling: str = DEFAULT_POOLING
) -> LensDataset:
    """Every embedded candidate in `store` (of `model`, needed when it holds several)."""
    embeddings = store.embeddings(model=model)
    models = sorted({e.model for e in embeddings})
    if not embeddings:
        where = f" of model {model!r}" if model else ""
        raise LensDataError(f"{store.path} holds no candidate embeddings{where}")
    if len(models) > 1:
        raise LensDataError(
            f"{store.path} holds embeddings of several models ({', '.join(models)}); "
            "choose one with --model"
        )
    by_task: dict[str, dict[str, Sequence[float]]] = {}
    for e in embeddings:
        by_task.setdefault(e.task_id, {})[e.candidate_id] = e.vector
    dims = {len(v) for vs in by_task.values() for v in vs.values()}
    if len(dims) != 1:
        raise LensDataError(f"embeddings of {models[0]} have several sizes: {sorted(dims)}")
    samples: list[Sample] = []
    for task_id, vectors in by_task.items():
        info = store.task(task_id)
        problem_id = info.problem_id if info is not None else task_id
        samples += samples_of_task(problem_id, task_id, store.events(task_id), vectors)
    spec = FeatureSpec(model=models[0], dim=dims.pop(), pooling=pooling)
    return LensDataset.from_rows(spec, samples)
