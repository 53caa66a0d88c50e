"""extract_code: the program out of a raw model answer, LiveCodeBench style."""

from __future__ import annotations

from engine.extract import extract_code, strip_thinking


def test_last_python_block_wins() -> None:
    answer = "First try:\n```python\nprint(1)\n```\nBetter:\n```python\nprint(2)\n```\nDone."
    assert extract_code(answer) == "print(2)\n"


def test_thinking_is_removed_before_choosing() -> None:
    answer = "<think>\n```python\nprint('draft')\n```\n</think>\n```python\nprint('final')\n```"
    assert extract_code(answer) == "print('final')\n"


def test_code_only_inside_thinking_is_not_an_answer() -> None:
    assert extract_code("<think>```python\nprint(1)\n```</think>\nI give up.") is None


def test_unclosed_thinking_means_no_answer_yet() -> None:
    assert extract_code("```python\nprint(1)\n```\n<think>still going ```python\nx") == (
        "print(1)\n"
    )
    assert extract_code("<think>\n```python\nprint(1)\n```\n") is None


def test_lone_closing_think_from_the_template() -> None:
    assert strip_thinking("reasoning here\n</think>\nanswer") == "\nanswer"


def test_trailing_sample_output_block_is_skipped() -> None:
    answer = "```python\nprint(int(input()) * 2)\n```\nFor input 2 it prints:\n```text\n4\n```"
    assert extract_code(answer) == "print(int(input()) * 2)\n"


def test_untagged_block_counts_as_python() -> None:
    assert extract_code("Here:\n```\nprint(3)\n```") == "print(3)\n"


def test_func_name_prefers_the_block_that_defines_it() -> None:
    answer = (
        "```python\ndef add(a, b):\n    return a + b\n```\n"
        "Usage:\n```python\nprint(add(1, 2))\n```"
    )
    assert extract_code(answer, func_name="add") == "def add(a, b):\n    return a + b\n"
    assert extract_code(answer) == "print(add(1, 2))\n"


def test_solution_class_counts_for_func_name() -> None:
    answer = "```python\nclass Solution:\n    def f(self): return 1\n```\n```python\nf()\n```"
    assert extract_code(answer, func_name="f").startswith("class Solution")


def test_truncated_answer_keeps_its_open_block() -> None:
    assert extract_code("```python\nprint('cut off')\n") == "print('cut off')\n"


def test_plain_code_without_fences_is_taken_when_it_compiles() -> None:
    assert extract_code("import sys\nprint(sys.stdin.read())") == (
        "import sys\nprint(sys.stdin.read())\n"
    )


def test_prose_without_code_is_none() -> None:
    assert extract_code("I am not sure how to solve this problem.") is None
    assert extract_code("") is None
    assert extract_code("```bash\nls\n```") is None
