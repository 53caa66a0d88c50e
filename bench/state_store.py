"""What the event log costs: folding token deltas, and appending events to the store.

Usage: .venv/bin/python bench/state_store.py [--deltas 20000]

Side by side, in one run:
- fold: `engine.state.apply` on TokenDelta events (append-only text, joined lazily) against
  the same fold keeping stream text as one string rebuilt on every delta (what a naive
  immutable state does): microseconds per delta for a long stream.
- store: one committed transaction per event with synchronous=NORMAL (what `Store.append`
  does), against synchronous=FULL (an fsync per event), and `append_many` of 64 at a time.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sqlite3
import tempfile
import time
from pathlib import Path

from engine import events as ev
from engine.state import TaskState, apply
from engine.store import Store


def _start(task_id: str) -> list[ev.Event]:
    return [
        ev.TaskStarted(task_id=task_id, seq=1, title="bench", condition="D"),
        ev.GenerationStarted(task_id=task_id, seq=2, stream_id="g", purpose="probe",
                             template="probe", template_version="1", prompt="p" * 2000),
    ]


def _deltas(task_id: str, n: int, first_seq: int) -> list[ev.Event]:
    return [ev.TokenDelta(task_id=task_id, seq=first_seq + i, stream_id="g",
                          text=f" tok{i % 97}" * 8, tokens=8) for i in range(n)]


def bench_fold(n: int) -> tuple[float, float]:
    """(µs per delta with append-only text, µs per delta rebuilding the string)."""
    events = _start("t") + _deltas("t", n, 3)
    state = TaskState()
    for e in events[:2]:
        state = apply(state, e)
    begin = time.perf_counter()
    s = state
    for e in events[2:]:
        s = apply(s, e)
    fast = time.perf_counter() - begin
    assert len(s.streams["g"].answer) > 0

    # The naive immutable fold: the stream's text is one str copied on every delta.
    text = ""
    streams = {"g": text}
    begin = time.perf_counter()
    for e in events[2:]:
        assert isinstance(e, ev.TokenDelta)
        streams = {**streams, "g": streams["g"] + e.text}
        state = dataclasses.replace(state, last_seq=e.seq)
    naive = time.perf_counter() - begin
    assert len(streams["g"]) == len(s.streams["g"].answer)
    return fast / n * 1e6, naive / n * 1e6


def bench_store(n: int, folder: Path) -> dict[str, float]:
    """µs per event for three ways of appending n token deltas."""
    results: dict[str, float] = {}
    for mode in ("append NORMAL", "append FULL (fsync)", "append_many x64"):
        store = Store(folder / f"{mode.split()[0]}-{mode.split()[1]}.sqlite")
        session = store.new_session("bench")
        task = store.new_task(session, "p")
        events = _start(task) + _deltas(task, n, 3)
        store.append_many(events[:2])
        if mode.startswith("append FULL"):
            store._conn.execute("PRAGMA synchronous = FULL")  # measure the alternative
        begin = time.perf_counter()
        if mode == "append_many x64":
            for i in range(2, len(events), 64):
                store.append_many(events[i:i + 64])
        else:
            for e in events[2:]:
                store.append(e)
        results[mode] = (time.perf_counter() - begin) / n * 1e6
        assert store.task(task).last_seq == n + 2  # type: ignore[union-attr]
        store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deltas", type=int, default=20_000)
    args = parser.parse_args()
    fast, naive = bench_fold(args.deltas)
    print(f"machine: {platform.processor() or platform.machine()}, python "
          f"{platform.python_version()}, sqlite {sqlite3.sqlite_version}")
    print(f"fold of {args.deltas} token deltas on one stream:")
    print(f"  append-only text  {fast:8.2f} µs/delta")
    print(f"  string rebuilt    {naive:8.2f} µs/delta   ratio {naive / fast:.1f}x")
    with tempfile.TemporaryDirectory() as tmp:
        n = min(args.deltas, 5000)
        store = bench_store(n, Path(tmp))
    print(f"store, {n} token deltas appended:")
    base = store["append NORMAL"]
    for mode, us in store.items():
        print(f"  {mode:22s} {us:8.1f} µs/event   ratio to NORMAL {us / base:.2f}x")


if __name__ == "__main__":
    main()
