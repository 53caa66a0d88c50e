"""A guard against degenerate generations: a stream caught in a loop is stopped early.

Small models under greedy or low-temperature sampling fall into loops: one line written again
and again, or `"cat", ` eight thousand times, until the token limit. Every token of such a loop
is wasted time. The guard watches the text as it streams and trips once its tail is periodic (a
unit of at most `max_period` characters repeated back to back) over at least `min_span`
characters and at least `min_repeats` periods. What came before the loop, plus one period, is
what the caller keeps (`usable_text`): the start of a loop is often still a usable answer.

Legitimate code rarely repeats itself exactly over hundreds of characters (a banner comment of
`=` is well under the default span); a long literal test input such as `"a" * 1000` written out
by hand is the one real false positive, and a stopped test input is useless anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class LoopGuard:
    """Feed it the streamed text; `feed` returns True once the text has fallen into a loop."""

    max_period: int = 256  # characters in the repeated unit
    min_span: int = 400  # characters the repetition must cover
    min_repeats: int = 8  # periods back to back
    check_every: int = 32  # characters between two checks (the check costs O(window))
    text: str = ""
    tripped: bool = False
    loop_start: int | None = None  # index in `text` where the repetition begins
    period: int | None = None
    _unchecked: int = field(default=0, repr=False)

    def feed(self, piece: str) -> bool:
        if self.tripped:
            return True
        self.text += piece
        self._unchecked += len(piece)
        if self._unchecked < self.check_every:
            return False
        self._unchecked = 0
        found = find_loop(self.text, self.max_period, self.min_span, self.min_repeats)
        if found is not None:
            self.tripped = True
            self.loop_start, self.period = found
        return self.tripped

    def usable_text(self) -> str:
        """The text before the loop plus one period of it (all of it when not tripped)."""
        if self.loop_start is None or self.period is None:
            return self.text
        return self.text[: self.loop_start + self.period]


def find_loop(
    text: str, max_period: int = 256, min_span: int = 400, min_repeats: int = 8
) -> tuple[int, int] | None:
    """(start, period) of a periodic tail of `text`, or None. The shortest period that covers
    the required span wins; start is where the periodic tail begins."""
    n = len(text)
    for period in range(1, min(max_period, n // 2) + 1):
        need = max(min_span, period * min_repeats)
        if need > n:
            break
        # The tail of length `need` is periodic with this period when it equals itself shifted.
        if text[n - need + period :] != text[n - need : n - period]:
            continue
        start = n - need
        while start - period >= 0 and text[start - period : start] == text[start : start + period]:
            start -= period
        while start > 0 and text[start - 1] == text[start - 1 + period]:
            start -= 1
        return start, period
    return None
