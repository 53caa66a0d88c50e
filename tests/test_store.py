"""The event store on a real SQLite file: round trip, reopen, bad input, embeddings, a
concurrent reader beside a writer, and a writer killed with SIGKILL mid-append."""

from __future__ import annotations

import dataclasses
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_state import sample_log

from engine import events as ev
from engine.state import reduce
from engine.store import Store, StoreError


def _stored_task(store: Store, problem_id: str = "p1") -> tuple[str, str, list[ev.Event]]:
    session = store.new_session("bench", "a run", {"condition": "full"})
    task = store.new_task(session, problem_id, title="Two Sum", condition="full")
    log = [dataclasses.replace(e, task_id=task) for e in sample_log()]
    for event in log:
        store.append(event)
    return session, task, log


def test_a_stored_log_folds_to_the_live_state_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    with Store(path) as store:
        session, task, log = _stored_task(store)
        live = reduce(log)
        assert store.events(task) == log
        assert store.state(task) == live

    with Store(path) as reopened:
        assert [s.session_id for s in reopened.sessions()] == [session]
        assert reopened.sessions()[0].meta == {"condition": "full"}
        (info,) = reopened.tasks(session)
        assert (info.task_id, info.problem_id, info.attempt, info.status) == (
            task, "p1", 1, "submitted")
        assert (info.verdict, info.passed, info.total, info.oracle_any_pass) == ("AC", 3, 3, True)
        assert info.submitted_candidate == "c2" and info.answer_phase == "plan"
        assert info.finished and info.last_seq == len(log)
        assert (info.prompt_tokens, info.completion_tokens) == (10, 8)
        assert reopened.state(task) == live
        assert reopened.state(task, until_seq=10) == reduce(log[:10])
        assert [e.seq for e in reopened.events(task, after_seq=45)] == list(
            range(46, len(log) + 1))
        assert reopened.integrity_check() == "ok"


def test_bad_appends_are_refused_and_lose_nothing_else(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        session = store.new_session("solve")
        task = store.new_task(session, "p")
        log = [dataclasses.replace(e, task_id=task) for e in sample_log()]
        store.append_many(log[:3])
        with pytest.raises(StoreError, match="seq 3 after 3"):
            store.append(log[2])  # a repeat
        with pytest.raises(StoreError, match="seq 5 after 3"):
            store.append(log[4])  # a gap
        with pytest.raises(StoreError, match="no seq"):
            store.append(dataclasses.replace(log[3], seq=0))
        with pytest.raises(StoreError, match="no task"):
            store.append(dataclasses.replace(log[3], task_id="nobody"))
        with pytest.raises(StoreError, match="no session"):
            store.new_task("nobody", "p")
        with pytest.raises(StoreError, match="seq 7 after 5"):
            store.append_many([log[3], log[4], log[6]])  # all or nothing
        assert store.events(task) == log[:3]
        store.append_many(log[3:])
        assert store.state(task) == reduce(log)


def test_files_that_are_not_stores_get_a_clear_error(tmp_path: Path) -> None:
    text = tmp_path / "notes.sqlite"
    text.write_text("hello, I am not a database" * 100)
    with pytest.raises(StoreError, match="not a usable atlas-tui store"):
        Store(text)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(StoreError, match="not an atlas-tui store"):
        Store(other)
    with pytest.raises(StoreError, match="no such store"):
        Store(tmp_path / "missing.sqlite", readonly=True)


def test_attempts_are_numbered_and_interrupted_tasks_are_marked(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        session = store.new_session("bench")
        first = store.new_task(session, "p")
        store.append(ev.TaskStarted(task_id=first, seq=1, title="p", condition="D"))
        store.mark_interrupted(first)
        second = store.new_task(session, "p")
        with pytest.raises(StoreError, match="already taken"):
            store.new_task(session, "p", task_id=second)
        store.update_session_meta(session, {"problems": ["p"]})
        assert store.session(session).meta == {"problems": ["p"]}  # type: ignore[union-attr]
        with pytest.raises(StoreError, match="no session"):
            store.update_session_meta("nobody", {})
        infos = {t.task_id: t for t in store.tasks(session)}
        assert infos[first].status == "interrupted" and infos[first].condition == "D"
        assert (infos[first].attempt, infos[second].attempt) == (1, 2)
        assert infos[second].status == "pending" and not infos[second].finished


def test_vectors_go_to_the_embeddings_table_and_labels_come_from_grading(tmp_path: Path
                                                                        ) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        session = store.new_session("bench")
        task = store.new_task(session, "HumanEval/0")
        log = [dataclasses.replace(e, task_id=task) for e in sample_log()]
        at = next(i for i, e in enumerate(log) if isinstance(e, ev.CandidateEmbedded))
        log[at] = dataclasses.replace(log[at], vector=(0.5, -1.0, 2.0, 0.25))
        for event in log:
            store.append(event)
        store.put_embedding(task, "c2", "tiny", [1.0, 2.0, 3.0, 4.0])
        store.put_embedding(task, "c3", "tiny", [9.0, 9.0, 9.0, 9.0])  # never graded

        (logged,) = [e for e in store.events(task) if isinstance(e, ev.CandidateEmbedded)]
        assert logged.vector == () and logged.dim == 4
        assert store.state(task) == reduce(log)  # the fold never looked at the vector

        vectors = {e.candidate_id: e.vector for e in store.embeddings(model="tiny")}
        assert vectors["c1"].dtype == np.float32
        assert vectors["c1"].tolist() == [0.5, -1.0, 2.0, 0.25]
        assert store.embeddings(model="other") == []

        labelled = {c.candidate_id: c for c in store.labelled_candidates(model="tiny")}
        assert sorted(labelled) == ["c1", "c2"]
        assert (labelled["c1"].passed, labelled["c1"].verdict) == (False, "WA")
        assert labelled["c2"].passed and labelled["c2"].problem_id == "HumanEval/0"
        assert labelled["c2"].vector.tolist() == [1.0, 2.0, 3.0, 4.0]
        with pytest.raises(StoreError, match="non-empty"):
            store.put_embedding(task, "c4", "tiny", [])


WRITER = """
import sys, time
from engine import events as ev
from engine.store import Store
store = Store(sys.argv[1])
session = store.new_session("bench")
task = store.new_task(session, "p", task_id="writer-task")
store.append(ev.TaskStarted(task_id=task, seq=1, title="p", condition="A"))
store.append(ev.GenerationStarted(task_id=task, seq=2, stream_id="g", purpose="probe",
                                  template="probe", template_version="1", prompt="x"))
seq = 2
limit = int(sys.argv[2])
while limit == 0 or seq < limit:
    seq += 1
    store.append(ev.TokenDelta(task_id=task, seq=seq, stream_id="g", text=f"<{seq}>"))
if limit:
    store.append(ev.TaskFinished(task_id=task, seq=seq + 1, status="no_answer"))
"""


def _wait_for(predicate, what: str, timeout_s: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """Poll until `predicate()` holds (a wait for a real process, not a timed assertion)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def _writer(path: Path, limit: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(limit)])


def test_a_reader_follows_a_live_writer_in_another_process(tmp_path: Path) -> None:
    path = tmp_path / "live.sqlite"
    writer = _writer(path, limit=3000)
    try:
        _wait_for(lambda: path.exists() and _has_task(path), "the writer's task")
        reader = Store(path, readonly=True)
        seen: list[ev.Event] = []
        snapshots = 0
        while not (seen and isinstance(seen[-1], ev.TaskFinished)):
            new = reader.events("writer-task", after_seq=seen[-1].seq if seen else 0)
            seen.extend(new)
            snapshots += bool(new)
            assert [e.seq for e in seen] == list(range(1, len(seen) + 1))  # never a hole
            assert writer.poll() in (None, 0)
        assert writer.wait(timeout=60) == 0
        assert len(seen) == 3001 and snapshots > 1
        state = reduce(seen)
        assert state.streams["g"].answer == "".join(f"<{i}>" for i in range(3, 3001))
        assert reader.tasks()[0].status == "no_answer"
        reader.close()
    finally:
        writer.kill()
        writer.wait()


def _has_task(path: Path) -> bool:
    try:
        with Store(path, readonly=True) as store:
            return bool(store.tasks()) and store.tasks()[0].last_seq >= 2
    except StoreError:
        return False  # created but the schema is not committed yet


def test_a_writer_killed_mid_append_loses_at_most_that_event(tmp_path: Path) -> None:
    path = tmp_path / "killed.sqlite"
    writer = _writer(path, limit=0)  # appends until killed
    try:
        _wait_for(lambda: _has_task(path) and _last_seq(path) > 500, "500 appended events")
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=60) == -signal.SIGKILL
    finally:
        writer.kill()
        writer.wait()

    with Store(path) as store:
        assert store.integrity_check() == "ok"
        events = store.events("writer-task")
        n = len(events)
        assert n > 500 and [e.seq for e in events] == list(range(1, n + 1))
        assert store.task("writer-task").last_seq == n  # type: ignore[union-attr]
        store.append(ev.TaskFinished(task_id="writer-task", seq=n + 1, status="cancelled"))
        assert store.state("writer-task").status == "cancelled"


def _last_seq(path: Path) -> int:
    with Store(path, readonly=True) as store:
        info = store.task("writer-task")
        return info.last_seq if info else 0


def test_tail_follows_every_task_in_append_order(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        session = store.new_session("bench")
        a, b = store.new_task(session, "a"), store.new_task(session, "b")
        store.append(ev.TaskStarted(task_id=a, seq=1, title="a", condition="A"))
        store.append(ev.TaskStarted(task_id=b, seq=1, title="b", condition="A"))
        first = store.tail()
        assert [e.task_id for _, e in first] == [a, b]
        store.append(ev.TaskFinished(task_id=a, seq=2, status="no_answer"))
        more = store.tail(after_id=first[-1][0])
        assert [(e.task_id, e.seq) for _, e in more] == [(a, 2)]
        assert store.tail(after_id=0, limit=1) == first[:1]
