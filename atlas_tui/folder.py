"""The problems of a watched folder: what the queue lists, kept in step with the files.

Each problem file maps to the problems (or the load errors) read from it. A change to a file
reloads that file only; a file that is gone drops its problems. Loading runs in a worker
thread, so a dataset file of thousands of rows never blocks the event loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.problems import LoadError, Problem, load
from engine.problems.loader import DATASET_SUFFIXES, MARKDOWN_SUFFIXES, load_file
from engine.problems.markdown import SIDECAR_SUFFIXES, SOLUTION_SUFFIX, is_sidecar

_NOT_PROBLEMS = ("readme", "license", "licence", "changelog", "contributing", "sources", "notice")


@dataclass(frozen=True, slots=True)
class Item:
    """One row of the queue: a problem, or a file (or row) that failed to load."""

    key: str
    path: str
    problem: Problem | None = None
    error: LoadError | None = None

    @property
    def problem_id(self) -> str:
        if self.problem is not None:
            return self.problem.id
        assert self.error is not None
        row = "" if self.error.row is None else f"#{self.error.row + 1}"
        return f"{Path(self.path).name}{row}"

    @property
    def title(self) -> str:
        if self.problem is not None:
            return self.problem.title
        return "could not load"


def item_key(problem: Problem) -> str:
    row = "" if problem.source.row is None else f"#{problem.source.row}"
    return f"{problem.source.path}{row}::{problem.id}"


@dataclass
class Changes:
    """What one batch of file changes did to the queue."""

    loaded: list[str] = field(default_factory=list)  # files (re)read, once each
    added: list[str] = field(default_factory=list)  # item keys
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class ProblemFolder:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._by_file: dict[str, list[Item]] = {}
        self._by_key: dict[str, Item] = {}
        self.load_counts: dict[str, int] = {}  # file -> times read (each change once)

    @property
    def items(self) -> list[Item]:
        return [item for path in sorted(self._by_file) for item in self._by_file[path]]

    def item(self, key: str) -> Item | None:
        return self._by_key.get(key)

    def _reindex(self) -> None:
        self._by_key = {item.key: item for items in self._by_file.values() for item in items}

    def load_all(self) -> Changes:
        """Read the whole folder (blocking: run it in a thread)."""
        result = load(self.root)
        grouped: dict[str, list[Item]] = {}
        for problem in result.problems:
            grouped.setdefault(problem.source.path, []).append(
                Item(item_key(problem), problem.source.path, problem=problem)
            )
        for error in result.errors:
            grouped.setdefault(error.path, []).append(_error_item(error))
        self._by_file = {str(Path(p).resolve()): items for p, items in grouped.items()}
        for path in self._by_file:
            self.load_counts[path] = self.load_counts.get(path, 0) + 1
        self._reindex()
        return Changes(loaded=list(self._by_file), added=[i.key for i in self.items])

    def apply(self, paths: Iterable[Path]) -> Changes:
        """Bring the queue up to date with these changed paths (blocking: run it in a thread)."""
        changes = Changes()
        targets: set[Path] = set()
        for path in paths:
            path = path.resolve() if path.exists() else path
            if path.is_dir():
                targets.update(p for p in path.rglob("*") if self.is_problem_file(p))
                continue
            if is_sidecar(path):  # hidden tests or a solution next to a Markdown problem
                path = _owner_of_sidecar(path)
            # a path under a folder that went away: every file we know below it
            gone_below = [Path(p) for p in self._by_file if Path(p).is_relative_to(path)]
            targets.update(gone_below)
            if self.is_problem_file(path) or str(path) in self._by_file:
                targets.add(path)
        for path in sorted(targets):
            key = str(path)
            before = {i.key: i for i in self._by_file.get(key, [])}
            if path.is_file() and self.is_problem_file(path):
                result = load_file(path)
                self.load_counts[key] = self.load_counts.get(key, 0) + 1
                changes.loaded.append(key)
                items = [Item(item_key(p), key, problem=p) for p in result.problems]
                items += [_error_item(e) for e in result.errors]
                self._by_file[key] = items
            else:
                self._by_file.pop(key, None)
                items = []
            after = {i.key: i for i in items}
            changes.added += [k for k in after if k not in before]
            changes.updated += [k for k in after if k in before and after[k] != before[k]]
            changes.removed += [k for k in before if k not in after]
        self._reindex()
        return changes

    def is_problem_file(self, path: Path) -> bool:
        """The loader's own rule for which files in a folder are problems."""
        name = path.name.lower()
        try:
            relative = path.relative_to(self.root)
        except ValueError:
            return False
        if any(part.startswith((".", "__")) for part in relative.parts):
            return False
        if not name.endswith(DATASET_SUFFIXES + MARKDOWN_SUFFIXES) or is_sidecar(path):
            return False
        return not name.startswith(_NOT_PROBLEMS)


def _error_item(error: LoadError) -> Item:
    path = str(Path(error.path).resolve())
    row = "" if error.row is None else f"#{error.row}"
    return Item(f"{path}{row}::!error", path, error=error)


def _owner_of_sidecar(path: Path) -> Path:
    """NAME.tests.jsonl (or NAME.solution.py) belongs to NAME.md: reload the problem."""
    name = path.name
    for suffix in (*SIDECAR_SUFFIXES, SOLUTION_SUFFIX):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            for md in MARKDOWN_SUFFIXES:
                if path.with_name(stem + md).exists():
                    return path.with_name(stem + md)
            return path.with_name(stem + MARKDOWN_SUFFIXES[0])
    return path
