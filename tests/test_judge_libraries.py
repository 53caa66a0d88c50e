"""The libraries a judge provides (sortedcontainers on LeetCode and AtCoder) import in answers
to that platform's problems and nowhere else, in the real sandbox."""

from __future__ import annotations

import pytest

from engine.grading import grade
from engine.problems.judges import libraries_for, unavailable
from engine.problems.model import Problem, TestCase, TestKind
from engine.sandbox import Sandbox
from engine.sandbox.types import Program

pytest.importorskip("sortedcontainers", reason="sortedcontainers is a dependency of atlas-tui")

SORTED_ANSWER = (
    "from sortedcontainers import SortedList\n"
    "values = SortedList(map(int, input().split()))\n"
    "print(*values)\n"
)


def _problem(platform: str) -> Problem:
    return Problem(
        id=f"sort-{platform}", title="Sort", statement="Print the numbers in order.",
        test_kind=TestKind.STDIN,
        hidden_tests=(TestCase("3 1 2\n", "1 2 3\n", TestKind.STDIN),),
        libraries=libraries_for(platform), metadata={"platform": platform},
    )


def test_the_platform_table() -> None:
    assert libraries_for("LeetCode") == ("sortedcontainers",) == libraries_for("atcoder")
    assert libraries_for("codeforces") == () == libraries_for(None)
    assert unavailable(("sortedcontainers",)) == () and unavailable(()) == ("sortedcontainers",)


@pytest.mark.parametrize(("platform", "verdict"),
                         [("leetcode", "AC"), ("atcoder", "AC"), ("codeforces", "RE")])
async def test_sortedcontainers_imports_only_where_the_judge_has_it(platform: str,
                                                                    verdict: str) -> None:
    async with await Sandbox.create(allow_rlimits_only=True, workers=1) as sandbox:
        result = await grade(_problem(platform), SORTED_ANSWER, sandbox)
        assert result.status == verdict, result.detail
        if verdict == "RE":
            assert "ModuleNotFoundError: import of sortedcontainers" in result.detail
        # A program that names no hidden module keeps the sandbox's environment (the pipeline's
        # own runs until it passes them), and the hiding ends with the program that asked.
        plain = await sandbox.run(Program(SORTED_ANSWER, TestKind.STDIN),
                                  _problem(platform).hidden_tests)
        assert plain.passed
