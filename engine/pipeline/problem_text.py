"""The problem as the prompts show it, built only from the `ProblemView` (never hidden tests)."""

from __future__ import annotations

from typing import Any

from engine.pipeline import statement_examples
from engine.problems.model import ProblemView, TestKind

MAX_EXAMPLE_CHARS = 2000  # a huge public example would crowd the statement out of the context


def problem_block(view: ProblemView) -> str:
    parts = [f"# {view.title}".rstrip(), view.statement.strip()]
    if view.starter_code.strip() and view.starter_code.strip() not in view.statement:
        parts.append(f"Starter code:\n```python\n{view.starter_code.rstrip()}\n```")
    examples = [t for t in view.public_tests if t.input.strip() not in view.statement]
    if examples:
        lines = ["Public examples:"]
        for number, test in enumerate(examples, 1):
            if test.kind is TestKind.ASSERT:
                lines.append(f"```python\n{_cap(test.input)}\n```")
            else:
                lines.append(
                    f"Example {number} input:\n```\n{_cap(test.input)}\n```\n"
                    f"Example {number} expected output:\n```\n{_cap(test.expected)}\n```"
                )
        parts.append("\n".join(lines))
    return "\n\n".join(p for p in parts if p)


def answer_format(view: ProblemView) -> str:
    if view.test_kind is TestKind.STDIN:
        return (
            "Write a complete Python 3 program that reads the input from standard input and "
            "prints the answer to standard output. Put the whole program in one ```python "
            "fenced block."
        )
    if view.test_kind is TestKind.FUNCTIONAL:
        return (
            "Complete the starter code (keep the class and the method's signature). Put the "
            "whole code in one ```python fenced block."
        )
    name = f"`{view.func_name}`" if view.func_name else "the function the tests call"
    return (
        f"Write the Python function {name} with the imports and helpers it needs. Put the "
        "whole code in one ```python fenced block."
    )


def input_format(view: ProblemView) -> str:
    if view.test_kind is TestKind.STDIN:
        return "Each input is the exact text given to the program on standard input."
    return (
        f"Each input is the arguments of one call to `{view.func_name}`: one JSON value per "
        "line, in the order of the parameters. Each expected output is the JSON of the value "
        "the call returns."
    )


def _cap(text: str) -> str:
    if len(text) <= MAX_EXAMPLE_CHARS:
        return text.rstrip()
    return text[:MAX_EXAMPLE_CHARS].rstrip() + "\n... (cut)"


def test_format(view: ProblemView) -> str:
    """How self-tests are to be written, in the shape small models keep to best (the answer is
    prefilled with the start of it, see `test_prefill`)."""
    if view.test_kind is TestKind.STDIN:
        return (
            "For each test write `Input:` and the exact standard input in a fenced block, then "
            "`Output:` and the exact expected output in a fenced block."
        )
    return (
        f"Write each test as one line of Python, `assert {call_target(view)}(...) == ...`, with "
        "literal arguments and the expected value. Put all the lines in one ```python block."
    )


def test_prefill(view: ProblemView) -> str:
    """The first words of a self-test answer, written for the model."""
    if view.test_kind is TestKind.STDIN:
        return "Test 1\nInput:\n```\n"
    return f"```python\nassert {call_target(view)}("


def call_target(view: ProblemView) -> str:
    """How a test calls the entry point: `Solution().f` where the starter code is a class."""
    return statement_examples.call_target(view.func_name or "f", view.starter_code)


def call_shape(view: ProblemView) -> dict[str, Any]:
    """What the test parsers need to read calls of the entry point (`outputs.io_pairs`)."""
    if view.test_kind is TestKind.STDIN or not view.func_name:
        return {}
    name = view.func_name.split(".")[-1].split("(")[0]
    return {"func_name": name,
            "signature": statement_examples.signature(view.starter_code or view.statement,
                                                      view.func_name)}
