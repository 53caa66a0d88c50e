"""The default model's recorded answers (tests/fixtures/real_answers, written by
scripts/record_answers.py): what parsers must read, as the real model writes it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "real_answers"


def real_answer(purpose: str, problem_id: str) -> dict[str, Any]:
    """One recorded answer; a missing fixture is an error (they are committed)."""
    slug = re.sub(r"[^\w.-]+", "_", problem_id)
    path = FIXTURES / f"{purpose}__{slug}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def real_answers(*purposes: str) -> list[dict[str, Any]]:
    """Every recorded answer for these purposes, in file order."""
    found = []
    for path in sorted(FIXTURES.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if record["purpose"] in purposes:
            found.append(record)
    return found
