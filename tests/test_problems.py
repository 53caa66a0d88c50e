"""Loaders: every format, folders, and bad files (each a clear error; the rest still loads)."""

from __future__ import annotations

import base64
import gzip
import json
import pickle
import zlib
from pathlib import Path
from typing import Any

import pytest

from engine.problems import LoadResult, TestKind, load

FIXTURES = Path(__file__).parent / "fixtures" / "problems"


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def lcb_row(qid: str = "abc001_a", **over: Any) -> dict[str, Any]:
    row = {
        "question_title": "Double",
        "question_content": "Read n and print 2n.\n\nSample Input 1\n\n3\n\nSample Output 1\n\n6",
        "platform": "atcoder",
        "question_id": qid,
        "contest_id": "abc001",
        "contest_date": "2023-08-21T00:00:00",
        "starter_code": "",
        "difficulty": "easy",
        "public_test_cases": json.dumps([{"input": "3\n", "output": "6\n", "testtype": "stdin"}]),
        "private_test_cases": "[]",
        "metadata": "{}",
    }
    row.update(over)
    return row


def only(result: LoadResult):  # type: ignore[no-untyped-def]
    assert result.errors == [], [str(e) for e in result.errors]
    assert len(result.problems) == 1
    return result.problems[0]


# --- LiveCodeBench -------------------------------------------------------------------------


def test_lcb_private_tests_packed_as_upstream_ships_them_are_decoded(tmp_path: Path) -> None:
    private = [{"input": "5\n", "output": "10\n", "testtype": "stdin"},
               {"input": "0\n", "output": "0\n", "testtype": "stdin"}]
    # Upstream: base64(zlib(pickle(json string))), written here independently of the loader.
    packed = base64.b64encode(zlib.compress(pickle.dumps(json.dumps(private)))).decode()
    path = write_jsonl(tmp_path / "lcb.jsonl", [lcb_row(private_test_cases=packed)])
    problem = only(load(path))
    assert problem.test_kind is TestKind.STDIN
    assert [(t.input, t.expected) for t in problem.public_tests] == [("3\n", "6\n")]
    hidden = [(t.input, t.expected) for t in problem.hidden_tests]
    assert hidden == [("5\n", "10\n"), ("0\n", "0\n")]
    assert problem.source.format == "livecodebench" and problem.source.row == 0


def test_lcb_private_tests_as_plain_json(tmp_path: Path) -> None:
    private = json.dumps([{"input": "1\n", "output": "2\n", "testtype": "stdin"}])
    problem = only(load(write_jsonl(tmp_path / "a.jsonl", [lcb_row(private_test_cases=private)])))
    assert len(problem.hidden_tests) == 1


def test_lcb_undecodable_private_field_is_an_error_not_an_empty_list(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "lcb.jsonl", [
        lcb_row("ok_1"), lcb_row("bad", private_test_cases="bm90IHBpY2tsZQ=="), lcb_row("ok_2"),
    ])
    result = load(path)
    assert [p.id for p in result.problems] == ["ok_1", "ok_2"]
    [error] = result.errors
    assert error.row == 1 and "private_test_cases" in error.message
    assert str(error).startswith(f"{path} (row 2)")


def test_lcb_packed_field_holding_an_object_is_refused(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (print, ("pwned",))

    packed = base64.b64encode(zlib.compress(pickle.dumps(Evil()))).decode()
    result = load(write_jsonl(tmp_path / "e.jsonl", [lcb_row(private_test_cases=packed)]))
    assert result.problems == []
    assert "refusing to load builtins.print" in result.errors[0].message


def test_lcb_leetcode_row_is_functional_with_func_name(tmp_path: Path) -> None:
    public = [{"input": "[1, 2]\n3", "output": "[0, 1]", "testtype": "functional"}]
    row = lcb_row("2000", platform="leetcode", public_test_cases=json.dumps(public),
                  metadata=json.dumps({"func_name": "twoSum"}),
                  starter_code="class Solution:\n    def twoSum(self, nums, target):\n")
    problem = only(load(write_jsonl(tmp_path / "lc.jsonl", [row])))
    assert problem.test_kind is TestKind.FUNCTIONAL
    assert problem.func_name == "twoSum"
    assert problem.public_tests[0].kind is TestKind.FUNCTIONAL


def test_lcb_leetcode_row_without_func_name_is_an_error(tmp_path: Path) -> None:
    row = lcb_row("2000", platform="leetcode")
    result = load(write_jsonl(tmp_path / "lc.jsonl", [row]))
    assert "func_name" in result.errors[0].message


def test_lcb_single_row_json_and_gzip(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text(json.dumps(lcb_row("one")))
    with gzip.open(tmp_path / "many.jsonl.gz", "wt") as f:
        f.write(json.dumps(lcb_row("two")) + "\n" + json.dumps(lcb_row("three")) + "\n")
    result = load(tmp_path)
    assert sorted(p.id for p in result.problems) == ["one", "three", "two"]
    assert result.errors == []


def test_view_has_no_hidden_tests_or_references(tmp_path: Path) -> None:
    private = json.dumps([{"input": "1\n", "output": "2\n", "testtype": "stdin"}])
    problem = only(load(write_jsonl(tmp_path / "a.jsonl", [lcb_row(private_test_cases=private)])))
    view = problem.view()
    assert not hasattr(view, "hidden_tests") and not hasattr(view, "references")
    assert view.public_tests == problem.public_tests


# --- HumanEval, MBPP -----------------------------------------------------------------------

HUMANEVAL_ROW = {
    "task_id": "HumanEval/0",
    "prompt": 'def add(a, b):\n    """Add.\n    >>> add(1, 2)\n    3\n    """\n',
    "entry_point": "add",
    "canonical_solution": "    return a + b\n",
    "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n",
}


def test_humaneval_docstring_examples_are_not_public_tests(tmp_path: Path) -> None:
    problem = only(load(write_jsonl(tmp_path / "he.jsonl", [HUMANEVAL_ROW])))
    assert problem.test_kind is TestKind.ASSERT and problem.public_tests == ()
    [hidden] = problem.hidden_tests
    assert hidden.input.rstrip().endswith("check(add)")
    assert problem.references == (HUMANEVAL_ROW["prompt"] + HUMANEVAL_ROW["canonical_solution"],)
    assert problem.starter_code == HUMANEVAL_ROW["prompt"]


def test_mbpp_original_first_assert_is_public_and_in_the_statement(tmp_path: Path) -> None:
    row = {"text": "Write a function to add.", "code": "def add(a, b):\r\n\treturn a + b",
           "task_id": 7, "test_setup_code": "import math",
           "test_list": ["assert add(1, 2) == 3", "assert add(0, 0) == 0",
                         "assert add(-1, 1) == 0"], "challenge_test_list": []}
    problem = only(load(write_jsonl(tmp_path / "mbpp.jsonl", [row])))
    assert problem.id == "mbpp/7" and problem.func_name == "add"
    assert [t.input for t in problem.public_tests] == ["assert add(1, 2) == 3"]
    assert len(problem.hidden_tests) == 2 and problem.test_setup == "import math"
    assert "assert add(1, 2) == 3" in problem.statement


def test_mbpp_sanitized_imports_become_setup(tmp_path: Path) -> None:
    row = {"source_file": "x", "task_id": 2, "prompt": "Write a function f.",
           "code": "import math\ndef f(x):\n    return math.sqrt(x)",
           "test_imports": ["import math"], "test_list": ["assert math.isclose(f(4), 2)"]}
    problem = only(load(write_jsonl(tmp_path / "s.jsonl", [row])))
    assert problem.test_setup == "import math" and problem.func_name == "f"


def test_mbpp_plus_inputs_wait_for_the_reference_and_keep_evalplus_types(
    tmp_path: Path,
) -> None:
    row = {"task_id": "Mbpp/106", "prompt": '"""\nWrite add_lists.\n"""\n',
           "entry_point": "add_lists",
           "canonical_solution": "def add_lists(a, b):\n    return b + tuple(a)\n",
           "base_input": [[[5, 6], [9, 10]]], "plus_input": [[[], [1]]], "atol": 0,
           "assertion": "\nassert add_lists([5, 6], (9, 10)) == (9, 10, 5, 6)\n"}
    problem = only(load(write_jsonl(tmp_path / "p.jsonl", [row])))
    assert problem.test_kind is TestKind.ASSERT and problem.func_name == "add_lists"
    assert [t.input for t in problem.public_tests] == [
        "assert add_lists([5, 6], (9, 10)) == (9, 10, 5, 6)"]
    # EvalPlus passes the second argument of task 106 as a tuple; JSON could not say so.
    assert [t.input for t in problem.hidden_tests] == ["[[5, 6], (9, 10)]", "[[], (1,)]"]
    assert all(t.origin == "reference" and t.expected == "" for t in problem.hidden_tests)
    assert problem.references == (row["canonical_solution"],) and problem.atol is None


# --- APPS, CodeContests --------------------------------------------------------------------


def test_apps_stdin_examples_shown_in_the_question_are_public(tmp_path: Path) -> None:
    question = "Print n+1.\n\n-----Example-----\nInput\n4\n\nOutput\n5\n"
    row = {"problem_id": "train/1", "question": question,
           "input_output": json.dumps({"inputs": ["4\n", "10\n"], "outputs": ["5\n", "11\n"]}),
           "solutions": json.dumps(["print(int(input()) + 1)"]), "starter_code": ""}
    problem = only(load(write_jsonl(tmp_path / "apps.jsonl", [row])))
    assert [t.input for t in problem.public_tests] == ["4\n"]
    assert [t.input for t in problem.hidden_tests] == ["10\n"]
    assert problem.references == ("print(int(input()) + 1)",)


def test_apps_call_based_unwraps_codewars_outputs(tmp_path: Path) -> None:
    row = {"problem_id": "train/2", "question": "is_prime(n)",
           "input_output": json.dumps({"fn_name": "is_prime", "inputs": [[1], [2]],
                                       "outputs": [[False], [True]]}),
           "solutions": "[]", "starter_code": "def is_prime(n):\n"}
    problem = only(load(write_jsonl(tmp_path / "apps.jsonl", [row])))
    assert problem.test_kind is TestKind.FUNCTIONAL and problem.func_name == "is_prime"
    assert [(t.input, t.expected) for t in problem.hidden_tests] == [("1", "false"), ("2", "true")]


def test_mapcoder_apps_rows_are_stdin_with_sample_io_public(tmp_path: Path) -> None:
    row = {"name": "9", "description": "Double it.", "difficulty": "introductory", "id": 9,
           "sample_io": [{"input": "2\n", "output": ["4\n"]}],
           "test_list": [{"input": "3\n", "output": ["6\n"]}, {"input": "[1]", "output": [2]}],
           "starter_code": ""}
    problem = only(load(write_jsonl(tmp_path / "m.jsonl", [row])))
    assert [t.expected for t in problem.public_tests] == ["4\n"]
    assert [t.expected for t in problem.hidden_tests] == ["6\n", "2"]


def test_codecontests_both_test_shapes_and_deepmind_rows(tmp_path: Path) -> None:
    rows = [
        {"problem": "Echo.\n\nExample\n\nInput\n\n1\n\nOutput\n\n1\n",
         "tests": {"input": ["1\n", "2\n"], "output": ["1\n", "2\n"]}},
        {"problem": "Echo.", "tests": [{"input": "7", "output": "7"}]},
    ]
    result = load(write_jsonl(tmp_path / "cc.jsonl", rows))
    first, second = result.problems
    assert first.id == "cc/0" and len(first.public_tests) == 1 and len(first.hidden_tests) == 1
    assert second.public_tests == () and len(second.hidden_tests) == 1
    deepmind = {"name": "1_A", "description": "Echo.",
                "public_tests": {"input": ["1\n"], "output": ["1\n"]},
                "private_tests": {"input": ["2\n"], "output": ["2\n"]},
                "generated_tests": {"input": ["3\n"], "output": ["3\n"]}}
    problem = only(load(write_jsonl(tmp_path / "dm.jsonl", [deepmind])))
    assert problem.id == "1_A" and len(problem.public_tests) == 1
    assert len(problem.hidden_tests) == 2


# --- Markdown ------------------------------------------------------------------------------

MARKDOWN = """---
id: double
title: Double it
time_limit: 2
memory_mb: 256
---
# Doubling

Read n, print 2n.

## Example 1

**Input:**
```
3
```
**Output:**
```
6
```

```input
0
```
```output
0
```
"""


def test_markdown_front_matter_examples_and_sidecars(tmp_path: Path) -> None:
    md = tmp_path / "double.md"
    md.write_text(MARKDOWN)
    write_jsonl(tmp_path / "double.tests.jsonl", [{"input": "21\n", "output": "42\n"}])
    (tmp_path / "double.solution.py").write_text("print(2 * int(input()))\n")
    problem = only(load(tmp_path))  # sidecars are not loaded as problems of their own
    assert (problem.id, problem.title) == ("double", "Double it")
    assert problem.limits.time_s == 2 and problem.limits.memory_mb == 256
    assert [(t.input, t.expected) for t in problem.public_tests] == [("3\n", "6\n"), ("0\n", "0\n")]
    assert [(t.input, t.expected) for t in problem.hidden_tests] == [("21\n", "42\n")]
    assert problem.references == ("print(2 * int(input()))\n",)
    assert "Read n, print 2n." in problem.statement and "---" not in problem.statement


def test_markdown_function_problem(tmp_path: Path) -> None:
    md = tmp_path / "add.md"
    md.write_text("---\nfunc_name: add\nstarter_code: |\n  def add(a, b):\n---\n# Add\n\n"
                  "Input\n```\n1\n2\n```\nOutput\n```\n3\n```\n")
    problem = only(load(md))
    assert problem.test_kind is TestKind.FUNCTIONAL and problem.func_name == "add"
    assert problem.public_tests[0].input == "1\n2" and problem.public_tests[0].expected == "3"
    assert problem.starter_code == "def add(a, b):\n"
    assert problem.title == "Add"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# T\nInput\n```\n1\n", "never closed"),
        ("# T\nInput\n```\n1\n```\n", "no output"),
        ("---\ntitle: x\n# T\n", "never closed"),
        ("---\nbogus: 1\n---\n# T\n", "unknown front-matter keys: bogus"),
        ("---\ntime_limit: soon\n---\n# T\n", "time_limit"),
        ("---\nfunc_name: f\n---\nInput\n```\nnot json\n```\nOutput\n```\n1\n```\n", "JSON"),
    ],
)
def test_bad_markdown_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bad.md").write_text(text)
    (tmp_path / "good.md").write_text("# Good\nPrint 1.\n")
    result = load(tmp_path)
    assert [p.id for p in result.problems] == ["good"]
    [error] = result.errors
    assert error.path.endswith("bad.md") and message in error.message


# --- folders and bad files -----------------------------------------------------------------


def test_folder_is_recursive_and_skips_non_problem_files(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    write_jsonl(tmp_path / "sub" / "deeper" / "a.jsonl", [lcb_row("deep")])
    (tmp_path / "README.md").write_text("# Not a problem\n")
    (tmp_path / "LICENSE").write_text("MIT")
    (tmp_path / "notes.txt").write_text("notes")
    (tmp_path / ".hidden").mkdir()
    write_jsonl(tmp_path / ".hidden" / "b.jsonl", [lcb_row("hidden")])
    result = load(tmp_path)
    assert [p.id for p in result.problems] == ["deep"] and result.errors == []


def bad_file_cases() -> list[tuple[str, bytes, str]]:
    return [
        ("malformed.json", b'{"question_id": "x", "question_content": ', "malformed JSON"),
        ("empty.jsonl", b"", "empty file"),
        ("blank.json", b"  \n\n", "empty file"),
        ("binary.json", bytes(range(256)) * 4, "binary file"),
        ("latin1.jsonl", "{\"a\": \"caf\xe9\"}".encode("latin-1"), "not UTF-8"),
        ("notgzip.jsonl.gz", b"plain text", "not a valid gzip"),
        ("unknown.jsonl", b'{"foo": 1, "bar": 2}\n', "unknown problem format (fields: bar, foo)"),
        ("list.json", b"[1, 2]", "expected a JSON object"),
        ("problem.yaml", b"id: 1", "unknown problem file type"),
    ]


@pytest.mark.parametrize(("name", "content", "message"), bad_file_cases())
def test_bad_file_is_a_clear_error_naming_it_and_others_load(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    (tmp_path / name).write_bytes(content)
    write_jsonl(tmp_path / "good.jsonl", [lcb_row("good")])
    result = load(tmp_path) if not name.endswith(".yaml") else load(tmp_path / name)
    if not name.endswith(".yaml"):
        assert [p.id for p in result.problems] == ["good"]
    assert len(result.errors) >= 1
    assert result.errors[0].path == str(tmp_path / name)
    assert message in result.errors[0].message, str(result.errors[0])


def test_malformed_line_names_its_row_and_the_others_load(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps(lcb_row("a")) + "\n{not json\n" + json.dumps(lcb_row("c")) + "\n")
    result = load(path)
    assert [p.id for p in result.problems] == ["a", "c"]
    [error] = result.errors
    assert error.row == 1 and "malformed JSON on line 2" in str(error)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"question_content": None}, "'question_content' should be a string, got NoneType"),
        ({"question_id": 5}, "'question_id' should be a string, got int"),
        ({"public_test_cases": "[{\"input\": 1}]"}, "public_test_cases[0] needs a string 'input'"),
        ({"metadata": "[1]"}, "'metadata' should be a JSON object"),
        ({"question_content": "x" * 300_000}, "over the 262,144 limit"),
    ],
)
def test_missing_or_mistyped_fields_and_huge_statements(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    bad = lcb_row("bad", **change)
    path = write_jsonl(tmp_path / "rows.jsonl", [lcb_row("first"), bad, lcb_row("last")])
    result = load(path)
    assert [p.id for p in result.problems] == ["first", "last"]
    [error] = result.errors
    assert error.row == 1 and message in error.message, error.message


def test_missing_field_is_named(tmp_path: Path) -> None:
    row = dict(HUMANEVAL_ROW)
    rows = [row, {k: v for k, v in row.items() if k != "entry_point"} | {"task_id": "HumanEval/1"}]
    result = load(write_jsonl(tmp_path / "he.jsonl", rows))
    assert len(result.problems) == 1
    assert "missing field 'entry_point'" in result.errors[0].message


def test_duplicate_ids_keep_the_first(tmp_path: Path) -> None:
    result = load(write_jsonl(tmp_path / "d.jsonl", [lcb_row("x"), lcb_row("x")]))
    assert len(result.problems) == 1 and "duplicate id 'x'" in result.errors[0].message


def test_missing_path_is_an_error() -> None:
    result = load("/nonexistent/problems")
    assert result.problems == [] and "no such file" in result.errors[0].message


def test_fixture_folder_loads_cleanly() -> None:
    result = load(FIXTURES)
    assert result.errors == []
    assert {p.source.format for p in result.problems} >= {"livecodebench", "humaneval"}


def test_markdown_unfenced_example_sections(tmp_path: Path) -> None:
    md = tmp_path / "sections.md"
    md.write_text(
        "# Double\n\n## Input\nOne integer n.\n\n## Output\nPrint 2n.\n\n"
        "## Examples\n\n### Input\n3\n### Output\n6\n\n"
        "Example 2:\nInput\n4\n\nOutput\n8\n\n"
        "**Sample Input 3**\n\n0\n\n**Sample Output 3**\n\n0\n\n## Notes\nInput\nnot a test\n"
    )
    problem = only(load(md))
    # The format sections and the notes are prose, not tests.
    assert [(t.input, t.expected) for t in problem.public_tests] == [
        ("3\n", "6\n"), ("4\n", "8\n"), ("0\n", "0\n")]
