"""Collecting Lens training data from a real event store: label sources kept apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine import events as ev
from engine.lens.collect import collect, task_labels
from engine.lens.dataset import LensDataError
from engine.store import Store


def _log(task: str, items: list[ev.Event]) -> list[ev.Event]:
    import dataclasses

    return [dataclasses.replace(e, task_id=task, seq=i) for i, e in enumerate(items, start=1)]


def _created(cid: str, code: str = "print(1)") -> ev.CandidateCreated:
    return ev.CandidateCreated(task_id="", candidate_id=cid, origin="diversity", code=code)


def _embedded(cid: str, vector: tuple[float, ...], model: str = "m.gguf") -> ev.CandidateEmbedded:
    return ev.CandidateEmbedded(
        task_id="", candidate_id=cid, dim=len(vector), model=model, vector=vector
    )


def _run(cid: str, tid: str, verdict: str) -> ev.TestRun:
    return ev.TestRun(task_id="", candidate_id=cid, test_id=tid, verdict=verdict)


def _test(tid: str, kind: str) -> ev.TestAdded:
    return ev.TestAdded(
        task_id="",
        test_id=tid,
        kind=kind,
        input="1",
        expected="2",  # type: ignore[arg-type]
        origin="statement",
    )


def test_each_label_source_is_read_from_its_own_events() -> None:
    events = [
        _created("a", "print(2)"),
        _created("b", "print(1 + 1)"),
        _created("c"),
        _created("d"),
        _test("e1", "public"),
        _test("e2", "public"),
        _test("s1", "self"),
        _test("s2", "self"),
        ev.TestsGenerated(task_id="", kept=("s1",), discarded=("s2",)),
        _run("a", "e1", "AC"),
        _run("a", "e2", "AC"),  # public pass
        _run("b", "e1", "AC"),
        _run("b", "e2", "WA"),  # public fail
        _run("c", "e1", "AC"),  # ran on one example only: unknown
        _run("a", "s1", "AC"),
        _run("b", "s1", "TLE"),
        _run("a", "s2", "WA"),  # a discarded self-test says nothing
        ev.CandidateGraded(task_id="", candidate_id="a", verdict="AC", passed=3, total=3),
        ev.CandidateGraded(task_id="", candidate_id="b", verdict="WA", passed=1, total=3),
        ev.Graded(task_id="", candidate_id="a", verdict="AC", passed=3, total=3),
    ]
    labels = task_labels(events)
    assert labels["a"] == {"hidden": 1, "public": 1, "selftest": 1}
    assert labels["b"] == {"hidden": 0, "public": 0, "selftest": 0}
    assert labels["c"] == {}
    assert labels["d"] == {}


def test_no_candidate_passing_labels_every_candidate_and_public_fallback_labels_none() -> None:
    none_passed = [
        _created("a"),
        _created("b"),
        ev.Graded(
            task_id="", candidate_id="a", verdict="WA", passed=0, total=2, oracle_any_pass=False
        ),
    ]
    assert task_labels(none_passed) == {"a": {"hidden": 0}, "b": {"hidden": 0}}
    fallback = [
        _created("a"),
        ev.CandidateGraded(task_id="", candidate_id="a", verdict="AC", passed=1, total=1),
        ev.Graded(
            task_id="", candidate_id="a", verdict="AC", passed=1, total=1, used_public_fallback=True
        ),
    ]
    assert task_labels(fallback) == {"a": {}}


def test_collect_reads_a_real_store(tmp_path: Path) -> None:
    with Store(tmp_path / "runs.sqlite") as store:
        session = store.new_session("bench")
        for problem, passing in (("p1", "a"), ("p2", "b")):
            task = store.new_task(session, problem)
            store.append_many(
                _log(
                    task,
                    [
                        ev.TaskStarted(task_id="", title=problem, condition="C", model="m.gguf"),
                        _created("a", "x" * 10),
                        _created("b", "y" * 30),
                        _embedded("a", (1.0, 0.0, 0.0)),
                        _embedded("b", (0.0, 1.0, 0.0)),
                        ev.CandidateGraded(
                            task_id="",
                            candidate_id="a",
                            verdict="AC" if passing == "a" else "WA",
                            passed=1,
                            total=1,
                        ),
                        ev.CandidateGraded(
                            task_id="",
                            candidate_id="b",
                            verdict="AC" if passing == "b" else "WA",
                            passed=1,
                            total=1,
                        ),
                    ],
                )
            )
        data = collect(store)
    assert data.spec.model == "m.gguf" and data.spec.dim == 3
    assert sorted(
        zip(
            data.problem.tolist(),
            data.candidate.tolist(),
            data.labels["hidden"].tolist(),
            data.code_chars.tolist(),
            strict=True,
        )
    ) == [("p1", "a", 1, 10), ("p1", "b", 0, 30), ("p2", "a", 0, 10), ("p2", "b", 1, 30)]
    assert (data.labels["public"] == -1).all()
    np.testing.assert_array_equal(data.vectors.sum(axis=1), np.ones(4))


def test_a_store_with_two_models_asks_which(tmp_path: Path) -> None:
    with Store(tmp_path / "runs.sqlite") as store:
        task = store.new_task(store.new_session("bench"), "p")
        store.append_many(
            _log(
                task,
                [
                    ev.TaskStarted(task_id="", title="p", condition="C"),
                    _created("a"),
                    _embedded("a", (1.0, 2.0), "one.gguf"),
                    _embedded("a", (1.0, 2.0, 3.0), "two.gguf"),
                ],
            )
        )
        with pytest.raises(LensDataError, match="several models"):
            collect(store)
        assert len(collect(store, model="two.gguf")) == 1
        with pytest.raises(LensDataError, match="no candidate embeddings"):
            collect(store, model="three.gguf")
