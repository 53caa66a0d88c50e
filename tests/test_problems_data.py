"""Every real dataset file in ../shared/data loads, with the split each format promises."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.problems import TestKind, load

pytestmark = pytest.mark.data


@pytest.mark.parametrize(
    ("relative", "count", "fmt"),
    [
        ("humaneval/HumanEval.jsonl.gz", 164, "humaneval"),
        ("mbpp/mbpp.jsonl.gz", 974, "mbpp"),
        ("mbpp/sanitized-mbpp.json.gz", 427, "mbpp"),
        ("mbpp/mbppplus.json.gz", 399, "mbpp+"),
        ("livecodebench/lcb_v5_880_public.jsonl.gz", 879, "livecodebench"),
        ("livecodebench/lcb_atlas599_public.jsonl.gz", 599, "livecodebench"),
        ("livecodebench/raw/mavencoder_lcb_release_v1_public.jsonl.gz", 400, "livecodebench"),
        ("apps/apps_coderl_train5.jsonl", 5, "apps"),
        ("codecontests/rllm_code_contests_test165.json.gz", 165, "codecontests"),
        ("codecontests/rllm_codeforces_test408.json.gz", 408, "codecontests"),
    ],
)
def test_dataset_loads_without_errors(
    shared_data: Path, relative: str, count: int, fmt: str
) -> None:
    result = load(shared_data / relative)
    assert [str(e) for e in result.errors] == []
    assert len(result.problems) == count
    assert {p.source.format for p in result.problems} == {fmt}


def test_mapcoder_selection_names_its_duplicate_rows(shared_data: Path) -> None:
    result = load(shared_data / "apps" / "mapcoder_apps_selected150.jsonl.gz")
    # 150 rows, 22 of them repeat an earlier row's id: named, the first copy kept.
    assert len(result.problems) == 128 and len(result.errors) == 22
    assert all("duplicate id" in e.message and e.row is not None for e in result.errors)
    assert all(p.hidden_tests for p in result.problems)
    # 12 rows have an empty sample_io: no public tests, honestly.
    assert sum(not p.public_tests for p in result.problems) == 12


def test_livecodebench_rows_split_by_platform(shared_data: Path) -> None:
    problems = load(shared_data / "livecodebench" / "lcb_atlas599_public.jsonl.gz").problems
    leetcode = [p for p in problems if p.metadata["platform"] == "leetcode"]
    others = [p for p in problems if p.metadata["platform"] != "leetcode"]
    assert (len(leetcode), len(others)) == (271, 328)
    assert all(p.test_kind is TestKind.FUNCTIONAL and p.func_name for p in leetcode)
    assert all(p.test_kind is TestKind.STDIN and p.func_name is None for p in others)
    assert all(p.public_tests for p in problems)
    # The shared files hold public tests only: the private field is the "[]" placeholder.
    assert all(p.hidden_tests == () for p in problems)


def test_folder_of_everything_loads_problems_and_names_the_non_problem_files(
    shared_data: Path,
) -> None:
    result = load(shared_data)
    assert len(result.problems) > 4000
    bad = {Path(e.path).name for e in result.errors if e.row is None}
    assert {"lcb_errata.json", "lcb_harness_divergence.json",
            "lcb_recovered_failing_tests.jsonl", "lcb_v5_880_references.jsonl.gz"} <= bad
