"""Markdown problem files written by a person.

    ---
    id: sum-two            # optional; default: the file name without .md
    title: Sum of two      # optional; default: the first "# " heading
    func_name: add         # optional; set it for a function (LeetCode-style) problem
    time_limit: 2          # optional, seconds (default 6)
    memory_mb: 256         # optional (default 1024)
    starter_code: |        # optional
      def add(a: int, b: int) -> int:
    ---
    # Sum of two
    Read two integers, print their sum.

    ## Example
    Input
    ```
    1 2
    ```
    Output
    ```
    3
    ```

Examples are fenced blocks labelled "Input"/"Output" by the line before them (a heading,
"**Input:**", "Sample Input 1", ...) or by the fence's info string (```input, ```output), or
unfenced "Input"/"Output" sections inside an example (under an "Example"/"Sample" heading or
line, or labelled "Sample Input"): the lines after the label up to a blank line. An "Input"
section outside any example describes the format and is not a test. Each input pairs with the
next output. They are the public tests and stay in the statement. For a
function problem an example's input is one JSON value per argument per line and its output is
the JSON return value. Hidden tests come from a sidecar next to the file, `NAME.tests.jsonl` (or
`NAME.tests.json`, a list) of {"input": ..., "output": ...}; a reference solution, used by
`atlas-tui grade --references`, from `NAME.solution.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from engine.problems.fields import RowError, check_statement
from engine.problems.model import Limits, Problem, Source, TestCase, TestKind
from engine.problems.rows import FileError, iter_rows, read_text

SIDECAR_SUFFIXES = (".tests.jsonl", ".tests.json")
SOLUTION_SUFFIX = ".solution.py"

_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_EXAMPLE_WORD = re.compile(r"\b(examples?|samples?)\b", re.IGNORECASE)
_EXAMPLE_LINE = re.compile(r"^\W*(?:examples?|samples?)\s*\d*\W*$", re.IGNORECASE)
# A line that is only a label: "Input", "### Sample Output 2", "**Example input:**", ...
_SECTION_LABEL = re.compile(
    r"^\s{0,3}(?:#{1,6}\s*)?[*_]*\s*((?:sample|example)\s+)?(input|output)\s*\d*\s*:?\s*[*_]*\s*:?$",
    re.IGNORECASE,
)
_KNOWN_KEYS = {"id", "title", "func_name", "time_limit", "time_s", "memory_mb", "memory_limit",
               "starter_code", "difficulty"}


def parse(path: Path, text: str) -> Problem:
    front, body, body_line = _split_front_matter(text)
    unknown = set(front) - _KNOWN_KEYS
    if unknown:
        raise RowError(f"unknown front-matter keys: {', '.join(sorted(unknown))} "
                       f"(known: {', '.join(sorted(_KNOWN_KEYS))})")
    func_name = _opt(front, "func_name")
    kind = TestKind.FUNCTIONAL if func_name else TestKind.STDIN
    examples, starter_block = _examples(body, body_line)
    public = tuple(_example_test(i, o, kind, line) for i, o, line in examples)
    stem = path.name[: -len(".md")]
    heading = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
    return Problem(
        id=_opt(front, "id") or stem,
        title=_opt(front, "title") or (heading.group(1).strip() if heading else stem),
        statement=check_statement(body.strip() + "\n"),
        test_kind=kind,
        public_tests=public,
        hidden_tests=_sidecar_tests(path, stem, kind),
        starter_code=_opt(front, "starter_code") or starter_block,
        func_name=func_name,
        limits=_limits(front),
        source=Source(path=str(path), format="markdown"),
        difficulty=_opt(front, "difficulty"),
        references=_reference(path, stem),
    )


def is_sidecar(path: Path) -> bool:
    return path.name.endswith(SIDECAR_SUFFIXES) or path.name.endswith(SOLUTION_SUFFIX)


def _split_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {}, text, 1
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        raise RowError("front matter opened with '---' on line 1 is never closed")
    try:
        front = yaml.safe_load("".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        raise RowError(f"front matter is not valid YAML: {exc}") from exc
    if not isinstance(front, dict):
        raise RowError("front matter should be 'key: value' lines")
    return front, "".join(lines[end + 1 :]), end + 2


def _opt(front: dict[str, Any], key: str) -> str | None:
    value = front.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int):
        raise RowError(f"front matter {key!r} should be text, got {type(value).__name__}")
    return str(value)


def _limits(front: dict[str, Any]) -> Limits:
    default = Limits()
    time_s = front.get("time_limit", front.get("time_s", default.time_s))
    memory = front.get("memory_mb", front.get("memory_limit", default.memory_mb))
    if isinstance(time_s, bool) or not isinstance(time_s, int | float) or time_s <= 0:
        raise RowError(f"front matter time_limit should be a positive number of seconds, "
                       f"got {time_s!r}")
    if isinstance(memory, bool) or not isinstance(memory, int) or memory <= 0:
        raise RowError(f"front matter memory_mb should be a positive integer, got {memory!r}")
    return Limits(time_s=float(time_s), memory_mb=memory)


def _examples(body: str, first_line: int) -> tuple[list[tuple[str, str, int]], str]:
    """(input, output, line) pairs from the labelled blocks, and a starter-code block."""
    pending: tuple[str, int] | None = None
    pairs: list[tuple[str, str, int]] = []
    starter = ""
    for role, block, line_no in _blocks(body.splitlines(), first_line):
        if role == "input":
            if pending is not None:
                raise RowError(f"line {pending[1]}: example input has no output before the next "
                               "input")
            pending = (block, line_no)
        elif role == "output":
            if pending is None:
                raise RowError(f"line {line_no}: example output without an input before it")
            pairs.append((pending[0], block, pending[1]))
            pending = None
        elif role == "starter" and not starter:
            starter = block
    if pending is not None:
        raise RowError(f"line {pending[1]}: example input has no output after it")
    return pairs, starter


def _blocks(lines: list[str], first_line: int) -> Iterator[tuple[str | None, str, int]]:
    """(role, text, line) for every fenced block, and for every unfenced "Input"/"Output"
    section inside an example (its label says Sample/Example, or an Example heading is open):
    the lines after the label up to a blank line, a heading or the next label."""
    label = ""
    in_example = False
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _FENCE.match(line)
        if match:
            indent, fence, info = match.groups()
            start = i
            i += 1
            content: list[str] = []
            while i < len(lines) and not lines[i].strip().startswith(fence):
                content.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
                i += 1
            if i == len(lines):
                raise RowError(f"line {first_line + start}: code fence never closed")
            i += 1
            yield _role(info, label), "\n".join(content) + "\n", first_line + start
            label = ""
            continue
        if _HEADING.match(line):
            in_example = bool(_EXAMPLE_WORD.search(line)) or (
                in_example and bool(_SECTION_LABEL.match(line))
            )
        elif _EXAMPLE_LINE.match(line):  # "Example 1:" on a line of its own
            in_example = True
        section = _SECTION_LABEL.match(line)
        if section and (in_example or section.group(1)):
            start = i
            i += 1
            while i < len(lines) and not lines[i].strip():
                i += 1
            if i < len(lines) and not _FENCE.match(lines[i]):
                content = []
                while (i < len(lines) and lines[i].strip() and not _HEADING.match(lines[i])
                       and not _SECTION_LABEL.match(lines[i])):
                    content.append(lines[i])
                    i += 1
                yield section.group(2).lower(), "\n".join(content) + "\n", first_line + start
                label = ""
                continue
            label = line
            continue
        if line.strip():
            label = line
        i += 1


def _role(info: str, label: str) -> str | None:
    info = info.lower()
    if info in ("input", "in", "stdin"):
        return "input"
    if info in ("output", "out", "stdout"):
        return "output"
    words = re.sub(r"[^a-z ]", " ", label.lower())
    if "starter" in words:
        return "starter"
    if info in ("", "text", "txt", "plain", "json"):
        if "output" in words.split() or "expected" in words.split():
            return "output"
        if "input" in words.split():
            return "input"
    return None


def _example_test(inp: str, out: str, kind: TestKind, line: int) -> TestCase:
    if kind is TestKind.FUNCTIONAL:
        for text in (*inp.strip().splitlines(), out):
            try:
                json.loads(text)
            except json.JSONDecodeError as exc:
                raise RowError(f"example at line {line}: function problems need JSON values "
                               f"({exc.msg} in {text.strip()[:60]!r})") from exc
        return TestCase(inp.strip(), out.strip(), kind, origin="statement")
    return TestCase(inp, out, kind, origin="statement")


def _sidecar_tests(path: Path, stem: str, kind: TestKind) -> tuple[TestCase, ...]:
    for suffix in SIDECAR_SUFFIXES:
        sidecar = path.with_name(stem + suffix)
        if sidecar.exists():
            break
    else:
        return ()
    try:
        text = read_text(sidecar)
    except FileError as exc:
        raise RowError(f"hidden tests {sidecar.name}: {exc}") from exc
    tests = []
    for index, row in iter_rows(sidecar, text):
        if not isinstance(row, dict):
            raise RowError(f"hidden tests {sidecar.name} row {index + 1}: {row.message}")
        inp = row.get("input")
        out = row.get("output", row.get("expected"))
        if not isinstance(inp, str) or not isinstance(out, str):
            raise RowError(f"hidden tests {sidecar.name} row {index + 1}: needs string "
                           "'input' and 'output'")
        tests.append(TestCase(inp, out, kind))
    return tuple(tests)


def _reference(path: Path, stem: str) -> tuple[str, ...]:
    solution = path.with_name(stem + SOLUTION_SUFFIX)
    if not solution.exists():
        return ()
    try:
        return (read_text(solution),)
    except FileError as exc:
        raise RowError(f"reference {solution.name}: {exc}") from exc
