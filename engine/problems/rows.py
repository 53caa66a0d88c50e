"""Read the rows of a dataset file (.json, .jsonl, optionally gzipped) one at a time.

A row that does not parse becomes a `LoadError` naming the file and the row, and the other
rows still load; a file that cannot be read at all (binary, empty, not gzip) becomes one error.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.problems.model import LoadError

# A dataset file larger than this is almost certainly not a problem set (or a mistake).
MAX_FILE_BYTES = 512 * 1024 * 1024


class FileError(Exception):
    """The whole file is unreadable; the message says why."""


def read_text(path: Path) -> str:
    """The file's text, gunzipped when it ends in .gz; FileError for binary or empty files."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            limit = MAX_FILE_BYTES >> 20
            raise FileError(f"file is {size / 2**20:.0f} MiB, over the {limit} MiB limit")
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError) as exc:
                raise FileError(f"not a valid gzip file ({exc})") from exc
    except OSError as exc:
        raise FileError(f"cannot read: {exc.strerror or exc}") from exc
    if b"\x00" in raw[:8192]:
        raise FileError("binary file (NUL bytes), not a text problem file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileError(f"not UTF-8 text (byte {exc.start}: {exc.reason})") from exc
    if not text.strip():
        raise FileError("empty file")
    return text


def iter_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any] | LoadError]]:
    """(row index, row dict or the row's error) for every row of a .json/.jsonl file.

    A .json file may hold one row (an object) or a list of rows; a .jsonl file holds one row per
    non-empty line. The format is decided by the content, not the suffix, since both are common
    under either name.
    """
    stripped = text.lstrip()
    if stripped.startswith("["):
        yield from _iter_json_array(path, text)
        return
    if stripped.startswith("{"):
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            pass  # several objects, one per line: JSON Lines
        else:
            yield 0, _as_row(path, 0, whole)
            return
    yield from _iter_json_lines(path, text)


def _iter_json_array(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any] | LoadError]]:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        yield 0, LoadError(str(path), f"malformed JSON at line {exc.lineno} column {exc.colno}: "
                           f"{exc.msg}")
        return
    for index, row in enumerate(rows):
        yield index, _as_row(path, index, row)


def _iter_json_lines(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any] | LoadError]]:
    index = 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            message = f"malformed JSON on line {line_no} (column {exc.colno}): {exc.msg}"
            yield index, LoadError(str(path), message, index)
        else:
            yield index, _as_row(path, index, row)
        index += 1


def _as_row(path: Path, index: int, row: object) -> dict[str, Any] | LoadError:
    if isinstance(row, dict):
        return row
    return LoadError(str(path), f"expected a JSON object, got {type(row).__name__}", index)
