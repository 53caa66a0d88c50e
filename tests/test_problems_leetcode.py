"""LeetCodeDataset rows (both schemas) load with statement, starter code, function name and
tests, and their reference completions pass when graded; a HumanEval-shaped row without problem
text is an error naming the file and the row, never an empty statement."""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path

import pytest
from test_grading_data import failures, grade_all

from engine.problems import TestKind, load
from engine.problems.model import with_prelude

FILES = {
    "flat": "leetcodedataset_v0.3.0_test_sample10_flat.jsonl.gz",
    "nested": "leetcodedataset_v0.3.0_test_sample10_nested.jsonl.gz",
}
PRELUDE = "from typing import *\n\ninf = float('inf')\n"
STARTER = "class Solution:\n    def addTwo(self, nums: List[int], k: int) -> List[int]:\n        "
STATEMENT = ("Add k to every element.\n\nExample 1:\n\nInput: nums = [1, 2], k = 3\n"
             "Output: [4,5]\n\nConstraints:\n1 <= nums.length <= 10\n")
CHECK = ("def check(candidate):\n    assert candidate(nums = [1, 2], k = 3) == [4, 5]\n"
         "    assert candidate(nums = [], k = 1) == []\n")
COMPLETION = ("class Solution:\n    def addTwo(self, nums: List[int], k: int) -> List[int]:\n"
              "        return [x + k for x in nums]\n")
COMMON = {"task_id": "add-two", "prompt": PRELUDE, "entry_point": "Solution().addTwo",
          "test": CHECK, "completion": COMPLETION,
          "input_output": [{"input": "nums = [1, 2], k = 3", "output": "[4,5]"},
                           {"input": "nums = [1,2], k = 3", "output": "[4, 5]"},  # a repeat
                           {"input": "nums = [], k = 1", "output": "[]"}]}
FLAT = {**COMMON, "question_id": 9001, "difficulty": "Easy", "tags": ["Array"],
        "problem_description": STATEMENT, "starter_code": STARTER, "estimated_date": "2024-05-01"}
NESTED = {**COMMON, "meta": {"question_id": 9001, "difficulty": "Easy", "tags": ["Array"],
                             "question_title": STATEMENT, "lang_code": STARTER,
                             "estimated_date": "2024-05-01"}}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("row", [FLAT, NESTED], ids=["flat", "nested"])
def test_both_schemas_load_the_same_problem(tmp_path: Path, row: dict) -> None:
    loaded = load(write_jsonl(tmp_path / "lc.jsonl", [row]))
    assert loaded.errors == []
    [problem] = loaded.problems
    assert problem.source.format == "leetcodedataset"
    assert (problem.id, problem.title, problem.difficulty) == ("add-two", "9001. add-two", "Easy")
    assert problem.statement == STATEMENT and problem.starter_code == STARTER.rstrip() + "\n"
    assert problem.func_name == "addTwo" and problem.prelude == PRELUDE
    assert problem.metadata["platform"] == "leetcode"
    assert problem.metadata["contest_date"] == "2024-05-01"
    # The statement's example (written twice in the dataset) is the one public test, as a
    # functional call in the method's argument order; the dataset's check is the hidden test.
    [public] = problem.public_tests
    assert (public.kind, public.input, public.expected) == (
        TestKind.FUNCTIONAL, "[1, 2]\n3\n", "[4, 5]")
    [hidden] = problem.hidden_tests
    assert hidden.kind is TestKind.ASSERT
    assert hidden.input == CHECK + "\n\ncheck(Solution().addTwo)\n"
    assert problem.references == (COMPLETION,)
    assert problem.view().prelude == PRELUDE  # the judge's environment is no secret


def test_a_row_without_problem_text_names_the_file_and_row(tmp_path: Path) -> None:
    no_text = {**FLAT, "task_id": "empty", "problem_description": "  "}
    path = write_jsonl(tmp_path / "lc.jsonl", [FLAT, no_text])
    loaded = load(path)
    assert [p.id for p in loaded.problems] == ["add-two"]
    [error] = loaded.errors
    assert str(error).startswith(f"{path} (row 2): ") and "problem_description" in str(error)


def test_a_humaneval_shaped_row_whose_prompt_is_only_imports_is_an_error(tmp_path: Path
                                                                         ) -> None:
    # A LeetCodeDataset row stripped of its statement fields looks like HumanEval: before,
    # it loaded silently with the import lines as its whole statement.
    bare = {k: v for k, v in COMMON.items() if k != "input_output"}
    good = {"task_id": "HumanEval/0", "prompt": 'def f():\n    """Return 1."""\n',
            "entry_point": "f", "test": "def check(c):\n    assert c() == 1\n"}
    path = write_jsonl(tmp_path / "he.jsonl", [good, bare])
    loaded = load(path)
    assert [p.id for p in loaded.problems] == ["HumanEval/0"]
    [error] = loaded.errors
    assert str(error).startswith(f"{path} (row 2): humaneval row: ")
    assert "no problem text" in error.message


def test_the_prelude_goes_after_the_answers_future_imports() -> None:
    code = "from __future__ import annotations\nx: List[int] = []\n"
    joined = with_prelude(PRELUDE, code)
    assert joined.startswith("from __future__ import annotations\nfrom typing import *")
    assert joined.endswith("x: List[int] = []\n")
    assert with_prelude("", code) == code


@pytest.mark.data
@pytest.mark.parametrize("schema", sorted(FILES))
def test_real_rows_load_and_their_references_pass(shared_data: Path, schema: str) -> None:
    path = shared_data / "leetcodedataset" / FILES[schema]
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    loaded = load(path)
    assert loaded.errors == [] and len(loaded.problems) == len(rows) == 10
    for problem, row in zip(loaded.problems, rows, strict=True):
        assert problem.id == row["task_id"] and problem.statement.strip()
        assert "Example 1" in problem.statement and "import" not in problem.statement[:200]
        assert "class Solution:" in problem.starter_code
        assert problem.func_name == row["entry_point"].removeprefix("Solution().")
        assert problem.hidden_tests[0].input.startswith("def check(candidate):")
        assert problem.prelude == row["prompt"] and problem.references == (row["completion"],)
    assert sum(len(p.public_tests) for p in loaded.problems) >= 15  # most show examples

    graded = asyncio.run(grade_all((p, p.references[0]) for p in loaded.problems))
    assert failures(graded) == {}
    # Graded on both kinds: the functional examples and the assert-style check.
    assert all(r.total == len(p.public_tests) + 1 for p, r in
               zip(loaded.problems, graded.values(), strict=True))
    # And an answer that returns the wrong thing fails on them.
    wrong = [(p, p.starter_code.rstrip() + "\n        return 0\n") for p in loaded.problems]
    assert not any(r.accepted for r in asyncio.run(grade_all(wrong)).values())


def test_grade_command_takes_leetcodedataset_completions_whole(tmp_path: Path) -> None:
    # LeetCodeDataset's completions are whole answers (the prompt is the judge's prelude, which
    # the grader adds); appending them to the starter code, as a HumanEval completion is
    # appended to its prompt, would nest a class in a method stub.
    from click.testing import CliRunner

    from atlas_tui.cli import main

    dataset = write_jsonl(tmp_path / "lc.jsonl", [FLAT])
    answers = tmp_path / "samples.jsonl"
    answers.write_text(json.dumps({"task_id": "add-two", "completion": COMPLETION}) + "\n")
    result = CliRunner().invoke(main, ["grade", str(dataset), "--solutions", str(answers),
                                       "--allow-rlimits-only"])
    assert result.exit_code == 0, result.output
    assert "strict pass@1: 1/1" in result.output
