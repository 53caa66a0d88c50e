"""Reading tests out of model text, and telling whether two program outputs are the same."""

from __future__ import annotations

import json
import re

from engine.problems.model import TestKind
from engine.sandbox.compare import outputs_match

_BLOCK = re.compile(r"^[ \t]*```[ \t]*(input|output)[ \t]*\n(.*?)^[ \t]*```", re.DOTALL
                    | re.MULTILINE | re.IGNORECASE)
_CORRECT = re.compile(r"CORRECT:\s*(\d+|none)", re.IGNORECASE)


def input_blocks(text: str) -> list[str]:
    """The ```input blocks of a model's answer, in order."""
    return [body for tag, body in _BLOCK.findall(text) if tag.lower() == "input"]


def io_pairs(text: str) -> list[tuple[str, str]]:
    """(input, expected output) for every ```input block followed at once by an ```output."""
    pairs: list[tuple[str, str]] = []
    pending: str | None = None
    for tag, body in _BLOCK.findall(text):
        if tag.lower() == "input":
            pending = body
        elif pending is not None:
            pairs.append((pending, body))
            pending = None
    return pairs


def chosen_output(text: str) -> int | None:
    """The 1-based output a `CORRECT: <n>` line names (the last such line); None for none."""
    found = _CORRECT.findall(text)
    if not found or found[-1].lower() == "none":
        return None
    return int(found[-1])


def canonical(kind: TestKind, output: str) -> str:
    """A key under which outputs that compare equal are (nearly always) equal strings."""
    if kind is TestKind.FUNCTIONAL:
        try:
            return json.dumps(json.loads(output), sort_keys=True)
        except ValueError:
            return output.strip()
    return "\n".join(line.rstrip() for line in output.strip().splitlines())


def same_output(kind: TestKind, expected: str, got: str, atol: float | None = None) -> bool:
    if kind is TestKind.FUNCTIONAL:
        return canonical(kind, expected) == canonical(kind, got)
    return outputs_match(expected, got, atol)


def clean_input(kind: TestKind, text: str) -> str | None:
    """A model-written input as the sandbox takes it, or None when it is malformed: functional
    inputs must be one JSON value per line; stdin inputs end with one newline."""
    if kind is TestKind.FUNCTIONAL:
        lines = [line for line in text.strip().splitlines() if line.strip()]
        if not lines or not all(_is_json(line) for line in lines):
            return None
        return "\n".join(lines)
    return text.rstrip("\n") + "\n" if text.strip() else None


def clean_expected(kind: TestKind, text: str) -> str | None:
    """A model-written expected output, or None when a functional one is not JSON."""
    if kind is TestKind.FUNCTIONAL:
        return text.strip() if _is_json(text.strip()) else None
    return text


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def input_key(text: str) -> str:
    """Inputs that differ only in trailing spaces or blank lines are the same input."""
    return "\n".join(line.rstrip() for line in text.strip().splitlines())
