"""The third-party libraries each judge provides to submissions, by platform.

LeetCode's and AtCoder's Python judges install `sortedcontainers`; Codeforces' and the
function-level datasets' (HumanEval, MBPP) do not. An answer is graded as its judge would run
it: a judge-provided library imports where the platform's judge has it and nowhere else, so a
Codeforces answer that leans on `SortedList` fails as it would on Codeforces.
"""

from __future__ import annotations

# Every library some judge provides: the ones the sandbox hides where the judge lacks them.
JUDGE_LIBRARIES: tuple[str, ...] = ("sortedcontainers",)

BY_PLATFORM: dict[str, tuple[str, ...]] = {
    "leetcode": ("sortedcontainers",),
    "atcoder": ("sortedcontainers",),
}


def libraries_for(platform: str | None) -> tuple[str, ...]:
    """The judge-provided libraries of `platform` (lower-case name; () for any other)."""
    return BY_PLATFORM.get((platform or "").strip().lower(), ())


def unavailable(libraries: tuple[str, ...]) -> tuple[str, ...]:
    """Judge libraries a problem's judge does not provide: hidden from its answers."""
    return tuple(name for name in JUDGE_LIBRARIES if name not in libraries)
