"""A date window over problems: LiveCodeBench's answer to contamination is to score a model
only on problems published after its training cut-off (`--since`), and releases are windows
(`--until`). A problem's date is its `contest_date` (LiveCodeBench) or `estimated_date`
(LeetCodeDataset), both kept as `metadata["contest_date"]`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from engine.problems.model import Problem


def parse_day(text: str) -> dt.date:
    """YYYY-MM-DD (a longer ISO timestamp is cut to its day); ValueError otherwise."""
    return dt.date.fromisoformat(text.strip()[:10])


def in_window(problems: Sequence[Problem], since: dt.date | None, until: dt.date | None
              ) -> tuple[list[Problem], list[str]]:
    """(problems dated within [since, until], ids of problems without a readable date). Both
    ends are inclusive; with neither bound every problem is kept."""
    if since is None and until is None:
        return list(problems), []
    kept, undated = [], []
    for problem in problems:
        try:
            day = parse_day(str(problem.metadata.get("contest_date") or ""))
        except ValueError:
            undated.append(problem.id)
            continue
        if (since is None or day >= since) and (until is None or day <= until):
            kept.append(problem)
    return kept, undated
