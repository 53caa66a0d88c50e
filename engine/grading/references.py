"""Expected values computed by running a problem's reference solution (MBPP+).

MBPP+ ships inputs only. The loader marks such tests (origin "reference", the call's arguments
as a Python literal, no expected value) and this module fills them in just before grading: the
reference runs once per problem in the sandbox, each test printing the `repr` of its return
value behind a marker, and the results are cached for the rest of the process. Each test then
becomes an assert that compares the candidate's return value with that literal as EvalPlus
does: equal, or within `atol` for floats (1e-6 when the expected value is floats and the
dataset says 0), with EvalPlus's special oracles. A test the reference itself fails on (it
raises, times out, or returns something with no literal form) is dropped and counted.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib

from engine.problems.mbpp_plus import NEEDS_REFERENCE
from engine.problems.model import Problem, TestCase, TestKind
from engine.sandbox.interface import TestRunner
from engine.sandbox.types import Program, SandboxLimits, Verdict

_MARK = "\x1eatlas-expected:"
_DIGEST = "sha256:"
# A reference value longer than this is compared by digest: a check that held a 40 MB literal
# would cost more to compile than the test is worth (MBPP+ 255 returns such lists).
MAX_LITERAL_CHARS = 256 * 1024
_LITERAL_NAMES = {"inf", "nan", "set", "frozenset"}

# Builtin containers only (a Counter, OrderedDict or namedtuple compares equal to its plain
# form, and its repr would need names the candidate may not have imported); the digest form
# orders sets and dicts so that string hashing in two processes cannot disagree.
PLAIN_HELPERS = '''
from math import inf, nan  # names an argument or value literal may use


def _atlas_plain(x):
    if isinstance(x, dict):
        return {_atlas_plain(k): _atlas_plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_atlas_plain(i) for i in x]
    if isinstance(x, tuple):
        return tuple(_atlas_plain(i) for i in x)
    if isinstance(x, frozenset):
        return frozenset(_atlas_plain(i) for i in x)
    if isinstance(x, set):
        return {_atlas_plain(i) for i in x}
    return x


def _atlas_canonical(x):
    if isinstance(x, (set, frozenset)):
        return ("set", sorted(repr(_atlas_canonical(i)) for i in x))
    if isinstance(x, dict):
        return ("dict", sorted((repr(_atlas_canonical(k)), repr(_atlas_canonical(v)))
                               for k, v in x.items()))
    if isinstance(x, (list, tuple)):
        return (type(x) is tuple, [_atlas_canonical(i) for i in x])
    return x


def _atlas_digest(x):
    import hashlib
    return hashlib.sha256(repr(_atlas_canonical(x)).encode()).hexdigest()
'''

# (problem id, source, reference hash) -> repr of the reference's value per test (None: failed)
_CACHE: dict[tuple[str, str, str], tuple[str | None, ...]] = {}

# Defined before every check; names start with _atlas so a candidate's own names survive.
CHECK_HELPERS = '''

def _atlas_floats(x):
    if isinstance(x, float):
        return True
    return isinstance(x, (list, tuple)) and all(isinstance(i, float) for i in x)


def _atlas_close(out, exp, atol):
    if isinstance(exp, (list, tuple)) and isinstance(out, (list, tuple)):
        return len(out) == len(exp) and all(_atlas_close(o, e, atol) for o, e in zip(out, exp))
    try:
        if out != out and exp != exp:  # both NaN
            return True
        return abs(out - exp) <= atol + 1e-7 * abs(exp)
    except TypeError:
        return False


def _atlas_plus_ok(out, exp, atol, oracle):
    if oracle == "always" or (oracle == "or_zero" and out == 0):
        return True
    if oracle == "not_none":
        out = out is not None
    if out == exp:
        return True
    if atol == 0 and _atlas_floats(exp):
        atol = 1e-6
    return atol != 0 and _atlas_close(out, exp, atol)
'''


def needs_reference(problem: Problem) -> bool:
    return any(
        t.origin == NEEDS_REFERENCE and not t.expected
        for t in problem.public_tests + problem.hidden_tests
    )


async def with_reference_outputs(
    problem: Problem, sandbox: TestRunner, limits: SandboxLimits | None = None
) -> tuple[Problem, int]:
    """The problem with every reference-marked test turned into a complete assert test, and
    how many tests were dropped because the reference failed on them."""
    if not needs_reference(problem):
        return problem, 0
    if not problem.references or not problem.func_name:
        raise ValueError(f"{problem.id}: tests need a reference solution and a function name")
    pending = [t for t in problem.hidden_tests if t.origin == NEEDS_REFERENCE]
    values = await _reference_values(problem, pending, sandbox, limits)
    oracle = str(problem.metadata.get("oracle", "equal"))
    hidden: list[TestCase] = []
    values_of = dict(zip(pending, values, strict=True))
    for test in problem.hidden_tests:
        if test.origin != NEEDS_REFERENCE:
            hidden.append(test)
        elif (value := values_of[test]) is not None:
            hidden.append(TestCase(_check_code(problem, test.input, value, oracle), value,
                                   TestKind.ASSERT, origin=NEEDS_REFERENCE))
    dropped = len(problem.hidden_tests) - len(hidden)
    return dataclasses.replace(problem, hidden_tests=tuple(hidden)), dropped


async def _reference_values(
    problem: Problem, tests: list[TestCase], sandbox: TestRunner, limits: SandboxLimits | None
) -> tuple[str | None, ...]:
    reference = problem.references[0]
    key = (problem.id, f"{problem.source.path}:{problem.source.row}",
           hashlib.sha256(reference.encode()).hexdigest())
    if key not in _CACHE:
        not_none = problem.metadata.get("oracle") == "not_none"
        capture = [
            TestCase(
                f"{PLAIN_HELPERS}\n_atlas_value = {problem.func_name}(*{t.input})\n"
                + ("_atlas_value = _atlas_value is not None\n" if not_none else "")
                + "_atlas_text = repr(_atlas_plain(_atlas_value))\n"
                + f"if len(_atlas_text) > {MAX_LITERAL_CHARS}:\n"
                + f"    _atlas_text = {_DIGEST!r} + _atlas_digest(_atlas_value)\n"
                + f"print({_MARK!r} + _atlas_text, flush=True)\n",
                "", TestKind.ASSERT)
            for t in tests
        ]
        program = Program(code=reference, kind=TestKind.ASSERT, func_name=problem.func_name)
        run = await sandbox.run(program, capture, limits, compare=False)
        results = {r.index: r for r in run.tests}
        _CACHE[key] = tuple(
            _value(results[i].got) if i in results and results[i].verdict is Verdict.AC else None
            for i in range(len(tests))
        )
    return _CACHE[key]


def _value(stdout: str) -> str | None:
    """The printed literal (or digest) when it is one a check can hold: a literal whose only
    names are inf, nan, set, frozenset (a repr like `<re.Match ...>` or `Point(x=1)` is not)."""
    if _MARK not in stdout:
        return None
    text = stdout.rsplit(_MARK, 1)[1].rstrip("\n")
    if text.startswith(_DIGEST):
        return text
    try:
        tree = ast.parse(text, mode="eval")  # parsed only, never run here
    except (SyntaxError, ValueError, RecursionError):
        return None
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    calls = all(isinstance(n.func, ast.Name) for n in ast.walk(tree) if isinstance(n, ast.Call))
    return text if calls and names <= _LITERAL_NAMES else None


def _check_code(problem: Problem, args: str, expected: str, oracle: str) -> str:
    atol = problem.atol or 0
    if expected.startswith(_DIGEST):  # too big to hold as a literal: compare digests
        comparison = (f"_atlas_digest(_atlas_out{' is not None' if oracle == 'not_none' else ''})"
                      f" == {expected[len(_DIGEST):]!r}")
    else:
        comparison = f"_atlas_plus_ok(_atlas_out, {expected}, {atol!r}, {oracle!r})"
    return (
        f"{PLAIN_HELPERS}\n{CHECK_HELPERS}\n"
        f"_atlas_out = {problem.func_name}(*{args})\n"
        f"assert {comparison}, 'returned %.200r' % (_atlas_out,)\n"
    )
