"""Typed access to a dataset row's fields, with errors a person can act on."""

from __future__ import annotations

from typing import Any

# A statement longer than this is not a real problem (or a file written by mistake): reject it
# instead of feeding megabytes into a prompt.
MAX_STATEMENT_CHARS = 256 * 1024


class RowError(ValueError):
    """One row (or Markdown file) cannot become a Problem; the message names the field."""


def req_str(row: dict[str, Any], key: str, *, allow_empty: bool = False) -> str:
    if key not in row:
        raise RowError(f"missing field {key!r}")
    value = row[key]
    if not isinstance(value, str):
        raise RowError(f"field {key!r} should be a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise RowError(f"field {key!r} is empty")
    return value


def opt_str(row: dict[str, Any], key: str, default: str = "") -> str:
    value = row.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise RowError(f"field {key!r} should be a string, got {type(value).__name__}")
    return value


def req_list(row: dict[str, Any], key: str) -> list[Any]:
    if key not in row:
        raise RowError(f"missing field {key!r}")
    value = row[key]
    if not isinstance(value, list):
        raise RowError(f"field {key!r} should be a list, got {type(value).__name__}")
    return value


def str_list(row: dict[str, Any], key: str, *, required: bool = True) -> list[str]:
    if not required and row.get(key) is None:
        return []
    values = req_list(row, key)
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise RowError(f"field {key!r}[{i}] should be a string, got {type(value).__name__}")
    return values


def row_id(row: dict[str, Any], key: str, fallback: str) -> str:
    """An id field as text (MBPP's are ints), or the fallback when the format has none."""
    value = row.get(key)
    if value is None or value == "":
        return fallback
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RowError(f"field {key!r} should be a string or integer, got {type(value).__name__}")
    return str(value)


def check_statement(statement: str) -> str:
    if len(statement) > MAX_STATEMENT_CHARS:
        raise RowError(
            f"statement is {len(statement):,} characters, over the {MAX_STATEMENT_CHARS:,} limit"
        )
    return statement
