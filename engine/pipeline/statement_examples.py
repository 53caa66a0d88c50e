"""Examples that are part of a statement, read out as tests.

A statement's worked examples are public information: the solver may run candidates on them.
Two shapes are read:

- HumanEval docstrings: `>>> f(x)` with the value on the next line(s), and one-line forms
  `f(x) ==> v`, `f(x) -> v`, `f(x) => v`, `f(x) == v`, `f(x) = v`, `f(x) should return v`,
  `f(x) returns v`.
- LeetCode: `Input: a = 1, b = [2]` then `Output: 3` (the arguments are mapped to the
  parameters by name, through the starter code's signature; `true`/`false`/`null` are JSON).

Only calls of the entry point whose arguments and value are literals are kept (anything else is
prose or needs evaluation). Each example can be turned into an assert-style test (any Python
literal) or a functional test (one JSON value per line; only where every value survives JSON).
A statement example can itself be wrong (a few HumanEval docstrings are): callers should not
let one failed example veto a candidate on its own.

The same readers serve model answers (`outputs.py`): `call_examples` finds calls with their
values as models write them (`assert f(1) == 2`, `print(f(1))  # 2`), `literal_calls` the
calls alone, and `signature` reads the entry point's parameters from the starter code.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from engine.problems.model import ProblemView, TestCase, TestKind

ORIGIN = "statement example"

# What separates a call from its value on one line: `f(x) ==> v`, `f(x)  # -> v`,
# `f(x)  # Output: v`, `f(x)  # v` (a comment that is nothing but the value).
_ARROW = re.compile(r"\s*(?:#\s*)?(?:==>|=>|->|➞|==|=|:|\bshould\s+return\b|\bshould\s+be\b"
                    r"|\breturns?\b|\bgives\b|\bis\b|\b(?:expected\s+)?output\s*:?|\bprints?\s*:?"
                    r"|\bresult\s*:|\bexpected\s*:?)\s*|\s*#\s*", re.IGNORECASE)
_PRINT_OPEN = re.compile(r"\bprint\s*\(\s*$")
_INPUT = re.compile(r"^\s*(?:\*\*)?Input(?:\*\*)?\s*:\s*(?:\*\*)?\s*(.*)$", re.IGNORECASE)
_OUTPUT = re.compile(r"^\s*(?:\*\*)?Output(?:\*\*)?\s*:\s*(?:\*\*)?\s*(.*)$", re.IGNORECASE)
# "For lst = [1,2,3] the output should be 14"
_FOR = re.compile(r"\bFor\s+(.+?)\s*,?\s+the\s+(?:output|result|answer)\s+should\s+be\s+(.+)$",
                  re.IGNORECASE)
_NAMED = re.compile(r"(?:^|,)\s*([A-Za-z_]\w*)\s*=(?!=)")


@dataclass(frozen=True, slots=True)
class StatementExample:
    """One example: the arguments (positional, in parameter order) and the returned value."""

    args: tuple[Any, ...]
    expected_value: Any
    source: str  # the statement text it was read from, for messages

    def call(self, target: str) -> str:
        return f"{target}({', '.join(repr(a) for a in self.args)})"


def statement_examples(statement: str, starter_code: str, func_name: str | None
                       ) -> list[StatementExample]:
    """Every example of calling `func_name` the statement shows, in order, without repeats."""
    name = _bare_name(func_name)
    if not name:
        return []
    if _takes_linked_structures(starter_code, name):
        return []  # the statement writes a tree or list as an array: not the argument itself
    params = parameters(starter_code or statement, name)
    found = [*call_examples(statement, name, params), *_for_examples(statement, params),
             *_leetcode_examples(statement, params)]
    unique: list[StatementExample] = []
    seen: set[str] = set()
    for example in found:
        key = repr((example.args, example.expected_value))
        if key not in seen:
            seen.add(key)
            unique.append(example)
    return unique


def statement_tests(view: ProblemView, kind: TestKind | None = None) -> list[TestCase]:
    """The view's statement examples as tests of `kind` (default: the view's own kind; a stdin
    problem has no function to call, so none)."""
    kind = kind or view.test_kind
    examples = statement_examples(view.statement, view.starter_code, view.func_name)
    if kind is TestKind.ASSERT:
        target = call_target(view.func_name or "", view.starter_code)
        return [assert_test(e, target) for e in examples]
    if kind is TestKind.FUNCTIONAL:
        tests = (functional_test(e) for e in examples)
        return [t for t in tests if t is not None]
    return []


def call_target(func_name: str, starter_code: str) -> str:
    """How test code calls the entry point: `Solution().f` where the starter is a class."""
    if "(" in func_name or "." in func_name:
        return func_name
    if re.search(r"^\s*class\s+Solution\b", starter_code, re.MULTILINE):
        return f"Solution().{func_name}"
    return func_name


def assert_test(example: StatementExample, target: str) -> TestCase:
    """`assert target(args) == value`; a float value is compared within 1e-6."""
    call = example.call(target)
    value = example.expected_value
    if isinstance(value, float):
        code = f"assert abs({call} - {value!r}) <= 1e-6 * max(1.0, abs({value!r}))"
    else:
        code = f"assert {call} == {value!r}"
    return TestCase(code, "", TestKind.ASSERT, ORIGIN)


def functional_input(example: StatementExample) -> str | None:
    """The arguments as one JSON value per line, or None when one does not survive JSON."""
    if not all(json_safe(a) for a in example.args):
        return None
    return "\n".join(json.dumps(a) for a in example.args)


def functional_test(example: StatementExample) -> TestCase | None:
    args = functional_input(example)
    if args is None or not example.args or not json_safe(example.expected_value):
        return None
    return TestCase(args, json.dumps(example.expected_value), TestKind.FUNCTIONAL, ORIGIN)


def literal_calls(text: str, func_name: str | None) -> list[tuple[Any, ...]]:
    """The arguments of every call of `func_name` in `text` whose arguments are all literals
    (`f(1, [2])`; a definition `def f(a, b)` or `f(n - 1)` is none)."""
    name = _bare_name(func_name)
    found: list[tuple[Any, ...]] = []
    if not name:
        return found
    for line in text.splitlines():
        for match in re.finditer(rf"(?<![\w.]){re.escape(name)}\s*\(|\.{re.escape(name)}\s*\(",
                                 line):
            start = match.start() + (1 if match.group().startswith(".") else 0)
            if line[:start].rstrip().endswith("def"):
                continue
            end = _call_end(line, start)
            example = None if end is None else _example(line[start:end], "None", name, line)
            if example is not None:
                found.append(example.args)
    return found


def literal_args(text: str) -> list[Any] | None:
    """Call arguments as a model writes them, or None: one value per line (JSON or Python
    literals), `a = 1, b = [2]` (in the order written), `1, [2]` (a bare tuple is several
    arguments), or a call `f(1, [2])`."""
    text = text.strip().strip("`").strip()
    if not text:
        return None
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        node = None
    if isinstance(node, ast.Call) and not node.keywords:
        args = [_literal(a) for a in node.args]
        return None if any(a is _NOT_LITERAL for a in args) else args
    values: list[Any] = []
    for line in (ln.strip() for ln in text.splitlines()):
        if not line:
            continue
        named = _named_args(line, None) if _NAMED.match(line) else None
        if named is not None:
            values += named
            continue
        value = _python_value(line)
        if value is _NOT_LITERAL:
            return None
        if isinstance(value, tuple) and not line.startswith("("):
            values += list(value)  # `1, [2]`: two arguments
        else:
            values.append(value)
    return values


# --- HumanEval docstrings -------------------------------------------------------------------


def _doctest_examples(text: str, name: str, params: list[str] | None
                      ) -> list[StatementExample]:
    """`>>> name(...)` (continued by `... ` lines), the value on the following lines up to a
    blank line, the next prompt, or the end of the docstring."""
    lines = text.splitlines()
    found: list[StatementExample] = []
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped.startswith(">>>"):
            i += 1
            continue
        source = [stripped[3:].strip()]
        i += 1
        while i < len(lines) and lines[i].strip().startswith("... "):
            source.append(lines[i].strip()[4:])
            i += 1
        value: list[str] = []
        while i < len(lines):
            line = lines[i].strip()
            if not line or line.startswith((">>>", '"""', "'''", "```")):
                break
            value.append(line.removesuffix('"""').removesuffix("'''"))
            i += 1
        example = _example(" ".join(source), " ".join(value), name, lines[i - 1], params)
        if example is not None:
            found.append(example)
    return found


def call_examples(text: str, func_name: str | None, params: list[str] | None = None
                  ) -> list[StatementExample]:
    """Calls of `func_name` with their values, as statements and model answers write them:
    `>>> f(x)` then the value, `f(x) == v`, `assert f(x) == v`, `f(x) -> v`, `f(x)  # v`,
    `print(f(x))  # Output: v`. Keyword arguments count where `params` names the parameters."""
    name = _bare_name(func_name)
    if not name:
        return []
    return [*_doctest_examples(text, name, params), *_inline_examples(text, name, params)]


def _inline_examples(text: str, name: str, params: list[str] | None) -> list[StatementExample]:
    """`name(args) <arrow> value` on one line."""
    found: list[StatementExample] = []
    for line in text.splitlines():
        # `>>> f(x) == v` (no value line) is this form too.
        line = line.strip().removeprefix(">>>")
        for start in (m.start() for m in re.finditer(rf"\b{re.escape(name)}\s*\(", line)):
            end = _call_end(line, start)
            if end is None:
                continue
            after = end
            if _PRINT_OPEN.search(line[:start]):  # print(f(x))  # v
                closing = re.match(r"\s*\)", line[end:])
                if closing is None:
                    continue
                after = end + closing.end()
            arrow = _ARROW.match(line, after)
            if arrow is None:
                continue
            value = _leading_literal(line[arrow.end():])
            if value is None:
                continue
            example = _example(line[start:end], value, name, line, params)
            if example is not None:
                found.append(example)
    return found


def _for_examples(text: str, params: list[str] | None) -> list[StatementExample]:
    """`For a = 1, b = 2 the output should be 3`."""
    found: list[StatementExample] = []
    for line in text.splitlines():
        match = _FOR.search(line)
        if not match:
            continue
        args = _named_args(match.group(1), params)
        value_text = _leading_literal(match.group(2))
        value = _NOT_LITERAL if value_text is None else _python_value(value_text)
        if args is not None and value is not _NOT_LITERAL:
            found.append(StatementExample(tuple(args), value, line.strip()))
    return found


def _example(call_text: str, value_text: str, name: str, source: str,
             params: list[str] | None = None) -> StatementExample | None:
    """A literal call of `name` and a literal value, or None. Keyword arguments are placed by
    `params` (without it, a call with keywords is skipped)."""
    try:
        call = ast.parse(call_text.strip(), mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name | ast.Attribute)
            and _called_name(call.func) == name):
        return None
    args = [_literal(arg) for arg in call.args]
    if call.keywords:
        if params is None or any(k.arg not in params for k in call.keywords):
            return None
        named = {k.arg: _literal(k.value) for k in call.keywords}
        if len(args) + len(named) != len(params) or set(params[: len(args)]) & set(named):
            return None
        args += [named[p] for p in params[len(args):]]
    value = _python_value(value_text)
    if any(a is _NOT_LITERAL for a in args) or value is _NOT_LITERAL:
        return None
    return StatementExample(tuple(args), value, source.strip())


def _called_name(func: ast.expr) -> str:
    """`f` for `f(...)` and for `Solution().f(...)`."""
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


# --- LeetCode "Input: ... Output: ..." ----------------------------------------------------------


def _leetcode_examples(text: str, params: list[str] | None) -> list[StatementExample]:
    found: list[StatementExample] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = _INPUT.match(line)
        if not match:
            continue
        # The input may wrap onto following lines until the Output line.
        parts = [match.group(1)]
        j = i + 1
        while j < len(lines) and j <= i + 5 and not _OUTPUT.match(lines[j]):
            if lines[j].strip():
                parts.append(lines[j].strip())
            j += 1
        if j >= len(lines) or j > i + 5:
            continue
        output = _OUTPUT.match(lines[j])
        assert output is not None
        args = _named_args(" ".join(parts).strip().strip("`"), params)
        value = _python_value(output.group(1).strip().strip("`"))
        if args is None or value is _NOT_LITERAL:
            continue
        found.append(StatementExample(tuple(args), value, f"{line.strip()} / {lines[j].strip()}"))
    return found


def named_args(text: str, params: list[str]) -> list[Any] | None:
    """`b = 2, a = 1` as the values of `params` in order, or None when it is not that."""
    return _named_args(text, params) if _NAMED.match(text.strip()) else None


def _named_args(text: str, params: list[str] | None) -> list[Any] | None:
    """`a = 1, b = [2, 3]` as values in parameter order; a lone unnamed value for a
    one-parameter function."""
    starts = [m for m in _NAMED.finditer(text) if _depth(text, m.start()) == 0]
    if not starts:
        if params is not None and len(params) == 1:
            value = _python_value(text)
            return None if value is _NOT_LITERAL else [value]
        return None
    values: dict[str, Any] = {}
    for k, match in enumerate(starts):
        end = starts[k + 1].start() if k + 1 < len(starts) else len(text)
        value = _python_value(text[match.end():end].strip().rstrip(","))
        if value is _NOT_LITERAL:
            return None
        values[match.group(1)] = value
    if params is None:
        return list(values.values())
    if set(values) != set(params):
        return None
    return [values[p] for p in params]


def _depth(text: str, index: int) -> int:
    """Bracket depth at `index`, outside strings (a comma inside a list is no separator)."""
    depth = 0
    for at, after in _brackets(text):
        if at >= index:
            break
        depth = after
    return depth


def _takes_linked_structures(code: str, name: str) -> bool:
    """LeetCode's TreeNode / ListNode parameters, which statements write as arrays."""
    match = re.search(rf"def\s+{re.escape(name)}\s*\((.*?)\)\s*(?:->|:)", code, re.DOTALL)
    return match is not None and re.search(r"\b(?:TreeNode|ListNode|Node)\b",
                                           match.group(1)) is not None


@dataclass(frozen=True, slots=True)
class Signature:
    """The entry point's parameters as the starter code declares them."""

    names: tuple[str, ...]
    types: tuple[str, ...]  # each annotation's source text, "" where there is none

    def coerce(self, args: list[Any]) -> list[Any]:
        """Arguments with a string written for a parameter that is not a string read as the
        value it spells (`'3'` for `n: int`, `"[1, 2]"` for `nums: List[int]`)."""
        coerced = list(args)
        for at, (value, kind) in enumerate(zip(args, self.types, strict=False)):
            if isinstance(value, str) and kind and "str" not in kind.lower():
                parsed = _python_value(value)
                if parsed is not _NOT_LITERAL and not isinstance(parsed, str):
                    coerced[at] = parsed
        return coerced


def signature(code: str, func_name: str | None) -> Signature | None:
    """The signature of `def func_name(...)` in `code` (without `self`), or None."""
    name = _bare_name(func_name)
    func = _definition(code, name) if name else None
    if func is None:
        return None
    params = [a for a in (*func.args.posonlyargs, *func.args.args) if a.arg not in ("self", "cls")]
    return Signature(tuple(a.arg for a in params),
                     tuple(ast.unparse(a.annotation) if a.annotation else "" for a in params))


def parameters(code: str, func_name: str | None) -> list[str] | None:
    """The parameter names of `def func_name(...)` in `code` (without `self`), or None."""
    found = signature(code, func_name)
    return None if found is None else list(found.names)


def _definition(code: str, name: str) -> ast.FunctionDef | None:
    """`def name(...)` parsed from its header alone (starter code has no body)."""
    match = re.search(rf"def\s+{re.escape(name)}\s*\(", code)
    if not match:
        return None
    end = _call_end(code, match.end() - 1, open_at=True)
    if end is None:
        return None
    try:
        tree = ast.parse(f"def f{code[match.end() - 1:end]}: pass")
    except SyntaxError:
        return None
    func = tree.body[0]
    return func if isinstance(func, ast.FunctionDef) else None


# --- values -----------------------------------------------------------------------------------


class _NotLiteral:
    pass


_NOT_LITERAL: Any = _NotLiteral()


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL


def _python_value(text: str) -> Any:
    """A Python literal, or JSON (true/false/null), or _NOT_LITERAL."""
    text = text.strip()
    if not text:
        return _NOT_LITERAL
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_LITERAL


def _leading_literal(text: str) -> str | None:
    """The longest prefix of `text` that is a literal followed by nothing, prose, punctuation
    or a comment, or None. A literal followed by an operator (`19 - 5 - 6 = 8`) is the start
    of a worked calculation, not the value."""
    text = text.strip()
    for end in range(len(text), 0, -1):
        rest = text[end:]
        if rest and rest[0] not in " \t,.;)#":
            continue
        if rest.strip()[:1] in tuple("+-*/%=<>&|^"):
            continue
        candidate = text[:end].strip().rstrip(",.;")
        if candidate and _python_value(candidate) is not _NOT_LITERAL:
            return candidate
    return None


def _call_end(text: str, start: int, *, open_at: bool = False) -> int | None:
    """The index just past the parenthesis that closes the call starting at `start` (at the
    name, or at the opening parenthesis with `open_at`)."""
    opening = start if open_at else text.index("(", start)
    for at, depth in _brackets(text, opening):
        if depth == 0:
            return at + 1
    return None


def bracket_end(text: str, opening: int) -> int | None:
    """The index just past the bracket that closes the one at `opening`, or None."""
    return _call_end(text, opening, open_at=True)


def _brackets(text: str, start: int = 0) -> Iterator[tuple[int, int]]:
    """(index, depth after it) for every bracket from `start` on, outside string literals."""
    depth = 0
    quote: str | None = None
    i = start
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1  # an escaped character, perhaps the quote
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
            yield i, depth
        elif char in ")]}":
            depth -= 1
            yield i, depth
        i += 1


def json_safe(value: Any) -> bool:
    """True when JSON gives the same value back (tuples read back as lists, which the
    functional harness and comparison treat alike)."""
    try:
        return json.loads(json.dumps(value)) == _lists(value)
    except (TypeError, ValueError):
        return False


def _lists(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value


def _bare_name(func_name: str | None) -> str:
    """`Solution().f` -> `f`."""
    return (func_name or "").rsplit(".", 1)[-1].strip()
