"""The default model's recorded answers (tests/fixtures/real_answers, written by
scripts/record_answers.py: one file per problem and group, each mapping purpose to record):
what parsers must read, as the real model writes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "real_answers"


def real_answers(*purposes: str) -> list[dict[str, Any]]:
    """Every recorded answer for these purposes, ordered by file and purpose."""
    found = []
    for path in sorted(FIXTURES.glob("*.json")):
        answers = json.loads(path.read_text(encoding="utf-8"))
        found += [answers[p] for p in sorted(answers) if p in purposes]
    return found


def real_answer(purpose: str, problem_id: str) -> dict[str, Any]:
    """One recorded answer; a missing one is an error (they are committed)."""
    for record in real_answers(purpose):
        if record["problem_id"] == problem_id:
            return record
    raise LookupError(f"no recorded {purpose} answer for {problem_id} in {FIXTURES}")
