"""The event store: one SQLite file (WAL, append-only events as JSON) per problem folder or run.

What it keeps:
- sessions: one per run of the benchmark or per workbench session on a folder;
- tasks: one per attempt at one problem, with a summary (status, verdict) kept up to date in
  the same transaction as the events that change it, so listing tasks never folds logs;
- events: the log itself, `(task_id, seq)` unique, never updated or deleted;
- embeddings: float32 vectors of candidates (for the Lens), moved out of `CandidateEmbedded`
  events so logs stay small.

Durability: every event is committed on its own, so a process killed at any moment loses at
most the event being written (SQLite's journal makes a half-written commit vanish on the next
open). Commits use `synchronous=NORMAL` (no fsync per token delta: WAL commits survive a killed
process, though not a power cut); the events that finish a task (`AnswerSubmitted`, `Graded`,
`TaskFinished`) are committed with `synchronous=FULL`, so a finished task also survives a power
cut. Readers (the UI) open the same file while a writer appends: WAL lets them read a
consistent snapshot without blocking it.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import events as ev
from engine.state import TaskState, reduce

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    meta TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    task_id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(session_id),
    problem_id TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    condition TEXT NOT NULL DEFAULT '',
    attempt INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'pending',
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    elapsed_s REAL,
    last_seq INTEGER NOT NULL DEFAULT 0,
    submitted_candidate TEXT,
    answer_phase TEXT,
    verdict TEXT,
    passed INTEGER,
    total INTEGER,
    oracle_any_pass INTEGER,
    used_public_fallback INTEGER,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tasks_by_session ON tasks(session_id, problem_id);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    at REAL NOT NULL,
    json TEXT NOT NULL,
    UNIQUE (task_id, seq)
);
CREATE TABLE IF NOT EXISTS embeddings (
    task_id TEXT NOT NULL,
    candidate_id TEXT NOT NULL,
    model TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (task_id, candidate_id, model)
);
"""

# Events after which a task's outcome must survive even a power cut.
_DURABLE = (ev.AnswerSubmitted, ev.Graded, ev.TaskFinished)


class StoreError(RuntimeError):
    """The store file cannot be used (not an atlas-tui store, newer schema, bad append)."""


@dataclass(frozen=True, slots=True)
class SessionInfo:
    session_id: str
    kind: str  # "bench", "folder", "solve", ...
    title: str
    meta: Mapping[str, Any]
    created_at: float


@dataclass(frozen=True, slots=True)
class TaskInfo:
    task_id: str
    session_id: str
    problem_id: str
    title: str
    condition: str
    attempt: int
    status: str  # "pending", "running", "interrupted", or a TaskFinished status
    created_at: float
    started_at: float | None
    finished_at: float | None
    elapsed_s: float | None
    last_seq: int
    submitted_candidate: str | None
    answer_phase: str | None
    verdict: str | None  # hidden-test verdict of the submitted answer
    passed: int | None
    total: int | None
    oracle_any_pass: bool | None  # ceiling, not a result
    used_public_fallback: bool | None
    prompt_tokens: int
    completion_tokens: int

    @property
    def finished(self) -> bool:
        return self.status in ("submitted", "no_answer", "cancelled", "error")


@dataclass(frozen=True, slots=True)
class Embedding:
    task_id: str
    candidate_id: str
    model: str
    vector: Any  # numpy float32 array of length dim


@dataclass(frozen=True, slots=True)
class LabelledCandidate:
    """An embedded candidate with its hidden-test verdict (a Lens training example)."""

    task_id: str
    problem_id: str
    candidate_id: str
    model: str
    vector: Any  # numpy float32 array
    verdict: str
    passed: bool


class Store:
    """One store file. Thread-safe (one lock around one connection); open one per process."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._lock = threading.Lock()
        try:
            if readonly:
                if not self.path.exists():
                    raise StoreError(f"{self.path}: no such store")
                uri = f"file:{self.path.resolve()}?mode=ro"
                self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(self.path, check_same_thread=False)
            self._conn.isolation_level = None  # explicit transactions only
            self._conn.execute("PRAGMA busy_timeout = 10000")
            self._check_or_create()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable atlas-tui store ({exc})") from exc

    def _check_or_create(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer atlas-tui (schema {version} > {SCHEMA_VERSION})"
            )
        if self.readonly:
            if version == 0:
                raise StoreError(f"{self.path}: not an atlas-tui store")
            return
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        if version == 0:
            tables = self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise StoreError(f"{self.path}: an SQLite file, but not an atlas-tui store")
            with self._transaction():
                for statement in _SCHEMA.split(";"):  # executescript would COMMIT early
                    if statement.strip():
                        self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # --- plumbing ---------------------------------------------------------------------------

    def _transaction(self) -> _Transaction:
        return _Transaction(self._conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def integrity_check(self) -> str:
        """SQLite's own check: "ok" when the file is intact."""
        with self._lock:
            return str(self._conn.execute("PRAGMA integrity_check").fetchone()[0])

    # --- sessions ---------------------------------------------------------------------------

    def new_session(
        self, kind: str, title: str = "", meta: Mapping[str, Any] | None = None
    ) -> str:
        session_id = uuid.uuid4().hex[:12]
        with self._lock, self._transaction():
            self._conn.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                (session_id, kind, title, json.dumps(dict(meta or {})), time.time()),
            )
        return session_id

    def update_session_meta(self, session_id: str, meta: Mapping[str, Any]) -> None:
        """Replace a session's metadata (e.g. a resumed run that was given more problems)."""
        with self._lock, self._transaction():
            changed = self._conn.execute(
                "UPDATE sessions SET meta = ? WHERE session_id = ?",
                (json.dumps(dict(meta)), session_id),
            ).rowcount
        if not changed:
            raise StoreError(f"no session {session_id!r} in {self.path}")

    def sessions(self, kind: str | None = None) -> list[SessionInfo]:
        sql = "SELECT * FROM sessions"
        args: tuple[Any, ...] = ()
        if kind is not None:
            sql, args = sql + " WHERE kind = ?", (kind,)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY created_at, rowid", args).fetchall()
        return [SessionInfo(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows]

    def session(self, session_id: str) -> SessionInfo | None:
        return next((s for s in self.sessions() if s.session_id == session_id), None)

    # --- tasks ------------------------------------------------------------------------------

    def new_task(
        self,
        session_id: str,
        problem_id: str,
        *,
        title: str = "",
        condition: str = "",
        task_id: str | None = None,
    ) -> str:
        """A new attempt at `problem_id` in `session_id` (attempts are numbered from 1)."""
        task_id = task_id or uuid.uuid4().hex[:12]
        with self._lock, self._transaction():
            known = self._conn.execute(
                "SELECT 1 FROM sessions WHERE session_id = ?", (session_id,)
            ).fetchone()
            if known is None:
                raise StoreError(f"no session {session_id!r} in {self.path}")
            attempt = self._conn.execute(
                "SELECT coalesce(max(attempt), 0) + 1 FROM tasks"
                " WHERE session_id = ? AND problem_id = ?",
                (session_id, problem_id),
            ).fetchone()[0]
            try:
                self._conn.execute(
                    "INSERT INTO tasks (task_id, session_id, problem_id, title, condition,"
                    " attempt, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (task_id, session_id, problem_id, title, condition, attempt, time.time()),
                )
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"task id {task_id!r} is already taken in {self.path}") from exc
        return task_id

    def tasks(self, session_id: str | None = None) -> list[TaskInfo]:
        sql = f"SELECT {_TASK_COLUMNS} FROM tasks"
        args: tuple[Any, ...] = ()
        if session_id is not None:
            sql, args = sql + " WHERE session_id = ?", (session_id,)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY created_at, rowid", args).fetchall()
        return [_task_info(r) for r in rows]

    def task(self, task_id: str) -> TaskInfo | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_TASK_COLUMNS} FROM tasks WHERE task_id = ?", (task_id,)
            ).fetchone()
        return _task_info(row) if row else None

    def mark_interrupted(self, task_id: str) -> None:
        """A task that stopped mid-way (its process died): kept for the record, not resumed."""
        with self._lock, self._transaction():
            self._conn.execute(
                "UPDATE tasks SET status = 'interrupted' WHERE task_id = ?"
                " AND status IN ('pending', 'running')",
                (task_id,),
            )

    # --- events -----------------------------------------------------------------------------

    def append(self, event: ev.Event) -> None:
        """Append one event durably (see the module docstring). Its `seq` must be the task's
        next one; a vector carried by `CandidateEmbedded` goes to the embeddings table."""
        self.append_many((event,))

    def append_many(self, events: Iterable[ev.Event]) -> None:
        """Append several events in one transaction (all or none)."""
        batch = list(events)
        if not batch:
            return
        durable = any(isinstance(e, _DURABLE) for e in batch)
        with self._lock:
            if durable:
                self._conn.execute("PRAGMA synchronous = FULL")
            try:
                with self._transaction():
                    for event in batch:
                        self._insert(event)
            finally:
                if durable:
                    self._conn.execute("PRAGMA synchronous = NORMAL")

    def _insert(self, event: ev.Event) -> None:
        if isinstance(event, ev.CandidateEmbedded) and event.vector:
            self._put_embedding(event.task_id, event.candidate_id, event.model, event.vector)
            event = _without_vector(event)
        if event.seq < 1:
            raise StoreError(f"event {type(event).__name__} of task {event.task_id} has no seq")
        row = self._conn.execute(
            "SELECT last_seq FROM tasks WHERE task_id = ?", (event.task_id,)
        ).fetchone()
        if row is None:
            raise StoreError(f"no task {event.task_id!r} in {self.path}: call new_task first")
        if event.seq != row[0] + 1:
            raise StoreError(
                f"task {event.task_id}: event seq {event.seq} after {row[0]} (gap or repeat)"
            )
        self._conn.execute(
            "INSERT INTO events (task_id, seq, type, at, json) VALUES (?, ?, ?, ?, ?)",
            (event.task_id, event.seq, type(event).__name__, event.at, event.to_json()),
        )
        sets, args = _task_summary(event)
        self._conn.execute(
            f"UPDATE tasks SET last_seq = ?{sets} WHERE task_id = ?",
            (event.seq, *args, event.task_id),
        )

    def events(
        self, task_id: str, *, after_seq: int = 0, until_seq: int | None = None,
        types: Collection[str] | None = None,
    ) -> list[ev.Event]:
        """A task's events in order (after `after_seq`, up to `until_seq`): tail a live log by
        asking again with the last seq seen. `types` keeps only events of those class names
        (a report that needs no token deltas skips parsing them)."""
        sql = "SELECT json FROM events WHERE task_id = ? AND seq > ?"
        args: tuple[Any, ...] = (task_id, after_seq)
        if until_seq is not None:
            sql, args = sql + " AND seq <= ?", (*args, until_seq)
        if types is not None:
            names = sorted(types)
            sql += f" AND type IN ({', '.join('?' * len(names))})"
            args = (*args, *names)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY seq", args).fetchall()
        return [ev.Event.from_json(r[0]) for r in rows]

    def tail(self, after_id: int = 0, limit: int | None = None) -> list[tuple[int, ev.Event]]:
        """Every task's events appended after the store-wide id `after_id`, in append order,
        with their ids: how a viewer follows a whole run."""
        sql = "SELECT id, json FROM events WHERE id > ? ORDER BY id"
        args: tuple[Any, ...] = (after_id,)
        if limit is not None:
            sql, args = sql + " LIMIT ?", (after_id, limit)
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [(r[0], ev.Event.from_json(r[1])) for r in rows]

    def state(self, task_id: str, *, until_seq: int | None = None) -> TaskState:
        """The folded state of a task (at step `until_seq` when given)."""
        return reduce(self.events(task_id, until_seq=until_seq))

    # --- embeddings ---------------------------------------------------------------------------

    def put_embedding(
        self, task_id: str, candidate_id: str, model: str, vector: Sequence[float]
    ) -> None:
        with self._lock, self._transaction():
            self._put_embedding(task_id, candidate_id, model, vector)

    def _put_embedding(
        self, task_id: str, candidate_id: str, model: str, vector: Sequence[float]
    ) -> None:
        import numpy as np

        array = np.asarray(vector, dtype="<f4")
        if array.ndim != 1 or array.size == 0:
            raise StoreError(f"embedding of {candidate_id} must be a non-empty 1-d vector")
        self._conn.execute(
            "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?, ?, ?)",
            (task_id, candidate_id, model, array.size, array.tobytes(), time.time()),
        )

    def embeddings(self, *, model: str | None = None, task_id: str | None = None
                   ) -> list[Embedding]:
        import numpy as np

        sql = "SELECT task_id, candidate_id, model, vector FROM embeddings WHERE 1"
        args: list[str] = []
        if model is not None:
            sql, args = sql + " AND model = ?", [*args, model]
        if task_id is not None:
            sql, args = sql + " AND task_id = ?", [*args, task_id]
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY rowid", args).fetchall()
        return [Embedding(r[0], r[1], r[2], np.frombuffer(r[3], dtype="<f4")) for r in rows]

    def labelled_candidates(self, *, model: str | None = None) -> list[LabelledCandidate]:
        """Embedded candidates whose hidden-test verdict is known (`CandidateGraded` events,
        written after submission): the Lens's training set."""
        import numpy as np

        sql = (
            "SELECT e.task_id, t.problem_id, e.candidate_id, e.model, e.vector, g.verdict"
            " FROM embeddings e JOIN tasks t ON t.task_id = e.task_id"
            " JOIN (SELECT task_id, json_extract(json, '$.candidate_id') AS candidate_id,"
            "       json_extract(json, '$.verdict') AS verdict, max(seq) AS seq"
            "       FROM events WHERE type = 'CandidateGraded'"
            "       GROUP BY task_id, candidate_id) g"
            " ON g.task_id = e.task_id AND g.candidate_id = e.candidate_id"
        )
        args: tuple[Any, ...] = ()
        if model is not None:
            sql, args = sql + " WHERE e.model = ?", (model,)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY e.rowid", args).fetchall()
        return [
            LabelledCandidate(r[0], r[1], r[2], r[3], np.frombuffer(r[4], dtype="<f4"), r[5],
                              r[5] == "AC")
            for r in rows
        ]


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when the block raises."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._conn.execute("ROLLBACK" if exc_type else "COMMIT")


_TASK_COLUMNS = (
    "task_id, session_id, problem_id, title, condition, attempt, status, created_at,"
    " started_at, finished_at, elapsed_s, last_seq, submitted_candidate, answer_phase, verdict,"
    " passed, total, oracle_any_pass, used_public_fallback, prompt_tokens, completion_tokens"
)


def _task_info(row: Sequence[Any]) -> TaskInfo:
    values = list(row)
    for i in (17, 18):  # SQLite keeps booleans as integers
        values[i] = None if values[i] is None else bool(values[i])
    return TaskInfo(*values)


def _task_summary(event: ev.Event) -> tuple[str, tuple[Any, ...]]:
    """The task-row columns an event changes, as `, col = ?` and their values."""
    changes: dict[str, Any] = {}
    if isinstance(event, ev.TaskStarted):
        changes = {"status": "running", "started_at": event.at, "condition": event.condition}
    elif isinstance(event, ev.AnswerSubmitted):
        changes = {"submitted_candidate": event.candidate_id, "answer_phase": event.phase}
    elif isinstance(event, ev.Graded):
        changes = {
            "verdict": event.verdict,
            "passed": event.passed,
            "total": event.total,
            "oracle_any_pass": event.oracle_any_pass,
            "used_public_fallback": event.used_public_fallback,
        }
    elif isinstance(event, ev.TaskFinished):
        changes = {"status": event.status, "finished_at": event.at, "elapsed_s": event.elapsed_s}
    elif isinstance(event, ev.GenerationFinished):
        return (
            ", prompt_tokens = prompt_tokens + ?, completion_tokens = completion_tokens + ?",
            (event.prompt_tokens, event.completion_tokens),
        )
    sets = "".join(f", {column} = ?" for column in changes)
    return sets, tuple(changes.values())


def _without_vector(event: ev.CandidateEmbedded) -> ev.CandidateEmbedded:
    return dataclasses.replace(event, vector=())
