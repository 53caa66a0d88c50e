"""`load(path)`: read problems from a file or a folder, detecting each file's format.

Every file or row that cannot be read becomes a `LoadError` naming the file (and the row) while
everything else still loads. In a folder, every problem file is read, recursively, in name
order; hidden files, READMEs, licences and Markdown sidecars are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.problems import (
    apps,
    codecontests,
    humaneval,
    leetcodedataset,
    livecodebench,
    markdown,
    mbpp,
    mbpp_plus,
)
from engine.problems.fields import RowError
from engine.problems.model import LoadError, LoadResult, Problem, Source
from engine.problems.rows import FileError, iter_rows, read_text

DATASET_SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")
MARKDOWN_SUFFIXES = (".md", ".markdown")
_NOT_PROBLEMS = ("readme", "license", "licence", "changelog", "contributing", "sources", "notice")

RowParser = Callable[[dict[str, Any], Source], Problem]

# (format name, does a row look like it, parser); the first match wins, so narrower shapes come
# before the ones whose keys they share (MBPP+ and LeetCodeDataset have HumanEval's `prompt`,
# `entry_point` and `test`).
FORMATS: list[tuple[str, Callable[[dict[str, Any]], bool], RowParser]] = [
    ("livecodebench", livecodebench.looks_like, livecodebench.parse),
    ("mbpp+", mbpp_plus.looks_like, mbpp_plus.parse),
    ("leetcodedataset", leetcodedataset.looks_like, leetcodedataset.parse),
    ("humaneval", humaneval.looks_like, humaneval.parse),
    ("apps-mapcoder", apps.looks_like_mapcoder, apps.parse_mapcoder),
    ("mbpp", mbpp.looks_like_original, mbpp.parse_original),
    ("apps", apps.looks_like, apps.parse),
    ("codecontests", codecontests.looks_like, lambda row, src: codecontests.parse(
        row, src, _stem(Path(src.path)))),
]


def load(path: str | Path) -> LoadResult:
    """Problems from one file or from every problem file under a folder."""
    path = Path(path)
    result = LoadResult()
    if path.is_dir():
        for file in _problem_files(path):
            result.extend(load_file(file))
    elif path.exists():
        result.extend(load_file(path))
    else:
        result.errors.append(LoadError(str(path), "no such file or folder"))
    return result


def load_file(path: Path) -> LoadResult:
    name = path.name.lower()
    result = LoadResult()
    try:
        text = read_text(path)
        if name.endswith(MARKDOWN_SUFFIXES):
            result.problems.append(markdown.parse(path, text))
        elif name.endswith(DATASET_SUFFIXES):
            return _load_dataset(path, text)
        else:
            raise FileError(
                f"unknown problem file type (expected {', '.join(DATASET_SUFFIXES)} or .md)"
            )
    except (FileError, RowError) as exc:
        result.errors.append(LoadError(str(path), str(exc)))
    return result


def detect(row: dict[str, Any]) -> tuple[str, RowParser] | None:
    for name, looks_like, parser in FORMATS:
        if looks_like(row):
            return name, parser
    return None


def _load_dataset(path: Path, text: str) -> LoadResult:
    """Every row of one dataset file. The first row decides the format, so a later row with a
    missing field says which field, not "unknown format"."""
    result = LoadResult()
    chosen: tuple[str, RowParser] | None = None
    first_row_of: dict[str, int] = {}
    for index, row in iter_rows(path, text):
        if isinstance(row, LoadError):
            result.errors.append(row)
            continue
        if chosen is None:
            chosen = detect(row)
            if chosen is None:
                keys = ", ".join(sorted(row)[:12]) or "none"
                result.errors.append(LoadError(
                    str(path), f"unknown problem format (fields: {keys}); expected LiveCodeBench, "
                    "LeetCodeDataset, HumanEval, MBPP, MBPP+, APPS, CodeContests rows or Markdown"))
                return result
        name, parser = chosen
        try:
            problem = parser(row, Source(path=str(path), format=name, row=index))
        except RowError as exc:
            result.errors.append(LoadError(str(path), f"{name} row: {exc}", index))
            continue
        if problem.id in first_row_of:
            first = first_row_of[problem.id]
            result.errors.append(LoadError(
                str(path), f"duplicate id {problem.id!r} (first on row {first + 1}); skipped", index
            ))
            continue
        first_row_of[problem.id] = index
        result.problems.append(problem)
    return result


def _problem_files(folder: Path) -> list[Path]:
    files = []
    for file in sorted(folder.rglob("*")):
        relative = file.relative_to(folder)
        if any(part.startswith((".", "__")) for part in relative.parts) or not file.is_file():
            continue
        name = file.name.lower()
        if not name.endswith(DATASET_SUFFIXES + MARKDOWN_SUFFIXES) or markdown.is_sidecar(file):
            continue
        if name.startswith(_NOT_PROBLEMS):
            continue
        files.append(file)
    return files


def _stem(path: Path) -> str:
    name = path.name
    for suffix in DATASET_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem
