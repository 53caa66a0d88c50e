"""The grader and `atlas-tui grade`, on a real sandbox (real processes, real isolation)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from atlas_tui.cli import main
from engine.grading import NO_TESTS, grade
from engine.problems import Problem, TestCase, TestKind, load
from engine.sandbox import Sandbox
from engine.sandbox.types import Verdict

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    box = await Sandbox.create(workers=2)
    try:
        yield box
    finally:
        await box.close()


def stdin_problem(public: int = 1, hidden: int = 2) -> Problem:
    tests = [TestCase(f"{i}\n", f"{2 * i}\n", TestKind.STDIN) for i in range(public + hidden)]
    return Problem(id="double", title="Double", statement="Print 2n.", test_kind=TestKind.STDIN,
                   public_tests=tuple(tests[:public]), hidden_tests=tuple(tests[public:]))


DOUBLE = "print(2 * int(input()))\n"


async def test_accepted_on_public_then_hidden_tests(sandbox: Sandbox) -> None:
    result = await grade(stdin_problem(), DOUBLE, sandbox)
    assert result.verdict is Verdict.AC and result.accepted
    assert (result.passed, result.total, result.tests_used) == (3, 3, "all")
    assert [t.index for t in result.tests] == [0, 1, 2]


async def test_wrong_answer_counts_what_passed(sandbox: Sandbox) -> None:
    # n * n equals 2 * n for 0 and 2, not for 1.
    result = await grade(stdin_problem(), "n = int(input())\nprint(n * n)\n", sandbox)
    assert result.verdict is Verdict.WA
    assert (result.passed, result.total) == (2, 3)


async def test_no_hidden_tests_falls_back_to_public_and_says_so(sandbox: Sandbox) -> None:
    result = await grade(stdin_problem(public=2, hidden=0), DOUBLE, sandbox)
    assert result.accepted and result.used_public_fallback and result.total == 2


async def test_public_only(sandbox: Sandbox) -> None:
    result = await grade(stdin_problem(public=1, hidden=3), DOUBLE, sandbox, public_only=True)
    assert result.total == 1 and result.tests_used == "public"


async def test_no_tests_is_not_a_pass(sandbox: Sandbox) -> None:
    result = await grade(stdin_problem(public=0, hidden=0), DOUBLE, sandbox)
    assert result.verdict is None and result.no_tests and not result.accepted
    assert result.status == NO_TESTS and result.to_json()["verdict"] == NO_TESTS


async def test_no_program_in_the_answer_is_a_compile_error(sandbox: Sandbox) -> None:
    result = await grade(stdin_problem(), None, sandbox)
    assert result.verdict is Verdict.CE and result.passed == 0 and result.total == 3


async def test_mbpp_plus_expected_outputs_come_from_running_the_reference(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    row = {"task_id": "Mbpp/900", "prompt": "Write inverse(x).", "entry_point": "inverse",
           "canonical_solution": "def inverse(x):\n    return 1 / x\n",
           "base_input": [[2], [4]], "plus_input": [[0], [8]], "atol": 0}
    (tmp_path / "plus.jsonl").write_text(json.dumps(row) + "\n")
    [problem] = load(tmp_path).problems
    right = await grade(problem, "def inverse(x):\n    return 1.0 / x + 1e-9\n", sandbox)
    # The reference raises on 0: that input is no test at all, and the result says so. Floats
    # compare within 1e-6 (EvalPlus's default for float answers).
    assert right.accepted and right.total == 3
    assert right.extra == {"dropped_reference_failures": 1}
    wrong = await grade(problem, "def inverse(x):\n    return 2 / x\n", sandbox)
    assert wrong.verdict is Verdict.WA and wrong.passed == 0
    assert "returned 1.0" in wrong.tests[0].detail + wrong.tests[0].stderr_tail


async def test_mbpp_plus_compares_python_values(sandbox: Sandbox, tmp_path: Path) -> None:
    row = {"task_id": "Mbpp/901", "prompt": "Write evens(xs).", "entry_point": "evens",
           "canonical_solution": "def evens(xs):\n    return {x for x in xs if x % 2 == 0}\n",
           "base_input": [[[1, 2, 3, 4]]], "plus_input": [[[]]], "atol": 0}
    (tmp_path / "plus.jsonl").write_text(json.dumps(row) + "\n")
    [problem] = load(tmp_path).problems
    # A set answer: JSON could not hold it; Python equality can.
    same = await grade(problem, "def evens(xs):\n    return set(x for x in xs if not x & 1)\n",
                       sandbox)
    assert same.accepted and same.total == 2
    as_list = await grade(problem, "def evens(xs):\n    return [x for x in xs if x % 2 == 0]\n",
                          sandbox)
    assert as_list.verdict is Verdict.WA


async def test_fixture_references_are_accepted(sandbox: Sandbox) -> None:
    loaded = load(FIXTURES / "problems")
    graded = {p.id: await grade(p, p.references[0], sandbox)
              for p in loaded.problems if p.references}
    assert set(graded) == {"HumanEval/0", "HumanEval/1", "mbpp/2", "mbpp/3"}
    assert {k: r.status for k, r in graded.items()} == dict.fromkeys(graded, "AC")


async def test_humaneval_wrong_body_fails(sandbox: Sandbox) -> None:
    [problem, *_] = load(FIXTURES / "problems" / "humaneval_sample.jsonl").problems
    result = await grade(problem, problem.starter_code + "    return False\n", sandbox)
    assert result.verdict is Verdict.WA


def test_cli_grades_example_references(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = CliRunner().invoke(main, ["grade", str(ROOT / "examples"), "--references",
                                       "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "strict pass@1: 3/3" in result.output
    report = json.loads(out.read_text())
    assert {r["task_id"]: r["verdict"] for r in report["results"]} == {
        "balanced-brackets": "AC", "max-subarray": "AC", "sum-of-two": "AC"}
    assert all(t["verdict"] == "AC" for r in report["results"] for t in r["tests"])


def test_cli_grades_raw_model_answers(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    solutions = FIXTURES / "solutions" / "livecodebench_sample_o1_preview.jsonl"
    lines = solutions.read_text().splitlines()
    (tmp_path / "answers.jsonl").write_text(
        "\n".join([*lines[:2], "{broken", json.dumps({"task_id": "1873_A", "code": "no code"})])
        + "\n"
    )
    result = CliRunner().invoke(main, [
        "grade", str(FIXTURES / "problems" / "livecodebench_sample.jsonl"),
        "--solutions", str(tmp_path / "answers.jsonl"), "--jobs", "2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    verdicts = {r["task_id"]: r["verdict"] for r in json.loads(out.read_text())["results"]}
    assert verdicts == {"abc301_a": "AC", "2727": "AC", "1873_A": "CE"}
    assert "line 3" in result.output  # the malformed line is named
    assert "strict pass@1: 2/3" in result.output
    assert "3 problem(s) graded on public tests only" in result.output  # LCB rows: no private


def test_cli_missing_answers_and_load_errors_are_reported(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("# Echo\nInput\n```\n1\n```\nOutput\n```\n1\n```\n")
    (tmp_path / "notests.md").write_text("# No tests\nJust prose.\n")
    (tmp_path / "broken.json").write_text("{nope")
    (tmp_path / "answers.jsonl").write_text(
        json.dumps({"task_id": "good", "code": "print(input())"}) + "\n")
    result = CliRunner().invoke(main, ["grade", str(tmp_path), "--solutions",
                                       str(tmp_path / "answers.jsonl")])
    assert result.exit_code == 0, result.output
    assert "broken.json" in result.output
    assert "strict pass@1: 1/1" in result.output
    assert "1 problem(s) have no tests" in result.output


def test_cli_needs_exactly_one_answer_source() -> None:
    result = CliRunner().invoke(main, ["grade", str(ROOT / "examples")])
    assert result.exit_code == 2 and "exactly one of" in result.output


def plus_problem(tmp_path: Path, task: str, entry: str, solution: str,
                 inputs: list[list[object]]) -> Problem:
    row = {"task_id": task, "prompt": f"Write {entry}.", "entry_point": entry,
           "canonical_solution": solution, "base_input": inputs, "plus_input": [], "atol": 0}
    (tmp_path / f"{entry}.jsonl").write_text(json.dumps(row) + "\n")
    [problem] = load(tmp_path / f"{entry}.jsonl").problems
    return problem


async def test_mbpp_plus_reference_values_need_no_imports_of_the_candidate(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    counter = ("from collections import Counter\n"
               "def freq(xs):\n    return Counter(xs)\n")
    problem = plus_problem(tmp_path, "Mbpp/902", "freq", counter, [[[1, 1, 2]], [["a"]]])
    plain = await grade(problem, "def freq(xs):\n    d = {}\n    for x in xs:\n"
                        "        d[x] = d.get(x, 0) + 1\n    return d\n", sandbox)
    assert plain.accepted and plain.total == 2


async def test_mbpp_plus_huge_values_compare_by_digest(sandbox: Sandbox, tmp_path: Path) -> None:
    # About 600 KB of repr: over the literal limit, so the check compares digests, with sets
    # put in order (string hashing differs between the two processes).
    solution = "def words(n):\n    return {str(i) * 3 for i in range(n)}\n"
    problem = plus_problem(tmp_path, "Mbpp/903", "words", solution, [[60_000], [3]])
    same = await grade(problem, "def words(n):\n    s = set()\n    for i in reversed(range(n)):"
                       "\n        s.add(3 * str(i))\n    return s\n", sandbox)
    assert same.accepted and same.total == 2
    assert "sha256:" in problem_checks(same)
    off = await grade(problem, "def words(n):\n    return {str(i) * 3 for i in range(1, n)}\n",
                      sandbox)
    assert off.verdict is Verdict.WA and off.passed == 0


def problem_checks(result: object) -> str:
    return "\n".join(t.expected for t in result.tests)  # type: ignore[attr-defined]


def test_cli_humaneval_completions_and_timeout(tmp_path: Path) -> None:
    answers = tmp_path / "samples.jsonl"
    answers.write_text(
        json.dumps({"task_id": "HumanEval/0", "completion": "    return any(\n"
                    "        abs(a - b) < threshold\n        for i, a in enumerate(numbers)\n"
                    "        for j, b in enumerate(numbers) if i != j)\n"}) + "\n"
        + json.dumps({"task_id": "HumanEval/1", "completion": "    while True:\n        pass\n"})
        + "\n"
    )
    out = tmp_path / "out.json"
    result = CliRunner().invoke(main, [
        "grade", str(FIXTURES / "problems" / "humaneval_sample.jsonl"), "--solutions",
        str(answers), "--timeout", "0.5", "--json", str(out)])
    assert result.exit_code == 0, result.output
    verdicts = {r["task_id"]: r["verdict"] for r in json.loads(out.read_text())["results"]}
    assert verdicts == {"HumanEval/0": "AC", "HumanEval/1": "TLE"}


async def test_mbpp_plus_infinite_arguments(sandbox: Sandbox, tmp_path: Path) -> None:
    inf = float("inf")
    problem = plus_problem(tmp_path, "Mbpp/904", "minimum", "def minimum(a, b):\n"
                           "    return min(a, b)\n", [[-inf, inf], [1.5, 2.5]])
    assert problem.hidden_tests[0].input == "[-inf, inf]"
    result = await grade(problem, "def minimum(a, b):\n    return a if a < b else b\n", sandbox)
    assert result.accepted and result.total == 2 and result.extra == {}
