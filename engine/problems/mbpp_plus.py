"""MBPP+ (EvalPlus): `prompt`, `entry_point`, `canonical_solution`, `base_input`, `plus_input`,
`atol`, `assertion`.

MBPP+ ships inputs only; its expected outputs are what the reference solution returns. Loading
stays fast and pure: every base and plus input becomes a hidden assert test that carries the
call's arguments as a Python literal and no expected value yet (origin "reference"); the grader
runs the reference once per problem in the sandbox to fill them in (engine.grading.references)
and then compares as EvalPlus does (equality, else floats within `atol`). The public test is the
first line of `assertion`, the assert the prompt itself shows (its `math.isclose` needs the
`import math` set-up).

JSON cannot hold tuples, sets or complex numbers, so EvalPlus turns some inputs back into them
per task before calling the function; `restore_inputs` follows its table
(evalplus/data/mbpp.py, `mbpp_deserialize_inputs`).
"""

from __future__ import annotations

from typing import Any

from engine.problems.fields import RowError, check_statement, opt_str, req_list, req_str
from engine.problems.model import Problem, Source, TestCase, TestKind

NEEDS_REFERENCE = "reference"  # TestCase.origin of a test whose expected value is not known yet

# EvalPlus's special oracles, by entry point: what is compared instead of the return value.
ORACLES: dict[str, str] = {
    "check_str": "not_none",  # a re.Match or None: only "found or not" is compared
    "text_match_three": "not_none",
    "text_starta_endb": "not_none",
    "are_equivalent": "always",  # the reference is known to be wrong; any answer passes
    "sum_div": "or_zero",  # 0 is accepted besides the reference's value
}

_TUPLE_ARGS = {2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616,
               630, 726, 740, 744, 809}
_TUPLES_IN_LIST_ARGS = {63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780}
_FIRST_ARG_TUPLES = {75, 413, 444, 753}
_FIRST_ARG_TUPLE = {250, 405, 446, 617, 720, 763, 808}
_TUPLES_OF_TUPLES = {259, 401, 445}
_ALL_TUPLES = {580, 615, 791}


def looks_like(row: dict[str, Any]) -> bool:
    return "base_input" in row or "plus_input" in row


def parse(row: dict[str, Any], source: Source) -> Problem:
    task_id = req_str(row, "task_id")
    entry_point = req_str(row, "entry_point")
    solution = req_str(row, "canonical_solution")
    plus = row.get("plus_input") or []
    if not isinstance(plus, list):
        raise RowError("field 'plus_input' should be a list")
    inputs = req_list(row, "base_input") + plus
    if not inputs:
        raise RowError("no inputs in 'base_input' or 'plus_input'")
    for i, args in enumerate(inputs):
        if not isinstance(args, list):
            raise RowError(f"input {i} should be a list of arguments, got {type(args).__name__}")
    atol = row.get("atol") or 0
    if isinstance(atol, bool) or not isinstance(atol, int | float):
        raise RowError(f"field 'atol' should be a number, got {type(atol).__name__}")
    try:
        restored = restore_inputs(task_id, inputs)
    except (TypeError, ValueError, IndexError, AttributeError) as exc:
        raise RowError(f"inputs do not have the shape EvalPlus expects: {exc}") from exc
    hidden = tuple(
        TestCase(repr(list(args)), "", TestKind.ASSERT, origin=NEEDS_REFERENCE)
        for args in restored
    )
    oracle = ORACLES.get(entry_point, "equal")
    shown = [line for line in opt_str(row, "assertion").splitlines() if line.strip()]
    # Where EvalPlus overrides the comparison, the dataset's own assert disagrees with the
    # reference (Mbpp/295): it is no test there.
    public = (
        (TestCase(shown[0], "", TestKind.ASSERT, origin="statement"),)
        if shown and oracle == "equal"
        else ()
    )
    return Problem(
        id=task_id,
        title=f"{task_id}: {entry_point}",
        statement=check_statement(req_str(row, "prompt")),
        test_kind=TestKind.ASSERT,
        public_tests=public,
        hidden_tests=hidden,
        func_name=entry_point,
        atol=float(atol) if atol else None,
        source=source,
        references=(solution,),
        test_setup="import math",  # the asserts use math.isclose without importing it
        metadata={"n_base": len(row["base_input"]), "oracle": oracle},
    )


def restore_inputs(task_id: str, inputs: list[Any]) -> list[Any]:
    """Inputs with the tuples, sets and complex numbers EvalPlus restores for this task."""
    number = int(task_id.rsplit("/", 1)[-1])
    if number in _TUPLE_ARGS:
        return [[tuple(arg) for arg in args] for args in inputs]
    if number in _TUPLES_IN_LIST_ARGS:
        return [[[tuple(x) for x in arg] for arg in args] for args in inputs]
    if number in _FIRST_ARG_TUPLES:
        return [[[tuple(x) for x in args[0]], args[1]] for args in inputs]
    if number in (106, 750):
        return [[args[0], tuple(args[1])] for args in inputs]
    if number == 115:  # EvalPlus writes an empty member as {} (a dict), kept as it does
        return [[[set(x) if isinstance(x, list) and x else {} for x in args[0]]] for args in inputs]
    if number == 124:
        return [[float(args[0]), complex(args[1])] for args in inputs]
    if number in _FIRST_ARG_TUPLE:
        return [[tuple(args[0]), args[1]] for args in inputs]
    if number in _TUPLES_OF_TUPLES:
        return [[tuple(tuple(x) for x in arg) for arg in args] for args in inputs]
    if number == 278:
        return [[tuple(tuple(x) if isinstance(x, list) else x for x in args[0])]
                for args in inputs]
    if number == 307:
        return [[tuple(args[0]), args[1], args[2]] for args in inputs]
    if number == 722:
        return [[{k: tuple(v) for k, v in args[0].items()}, *args[1:]] for args in inputs]
    if number == 252:
        return [[complex(args[0])] for args in inputs]
    if number in _ALL_TUPLES:
        return [list(_tuples(args)) for args in inputs]
    return inputs


def _tuples(value: Any) -> Any:
    return tuple(_tuples(x) for x in value) if isinstance(value, list) else value
