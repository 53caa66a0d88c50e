"""A run in ATLAS's per-task layout: one JSON file per task with task_id, passed, code,
phase_solved, candidates_generated, total_tokens and total_time_ms, so results can be laid
beside ATLAS's published per-task files (docs/reports/ablation/<condition>/<set>/per_task/).

`passed` is the strict verdict of the one submitted answer on hidden tests; `phase_solved` is
the phase whose candidate was submitted when it passed (probe, plan, diversity, repair, user)
and "none" when it did not.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from engine.bench.report import BenchReport, TaskRow

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def atlas_task(row: TaskRow) -> dict[str, Any]:
    passed = row.verdict == "AC"
    return {
        "task_id": row.problem_id,
        "passed": passed,
        "code": row.code,
        "phase_solved": (row.answer_phase or "none") if passed else "none",
        "candidates_generated": row.candidates,
        "total_tokens": row.prompt_tokens + row.completion_tokens,
        "total_time_ms": round((row.elapsed_s or 0.0) * 1000, 1),
    }


def export_atlas(report: BenchReport, folder: Path) -> list[Path]:
    """Write one `<task_id>.json` per finished task into `folder` (made if missing); the files
    written. An id with characters unsafe in a file name (HumanEval/0) is written with `_`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for row in report.rows:
        if row.status not in ("submitted", "no_answer", "error"):
            continue  # unfinished: no result to lay beside ATLAS's
        path = folder / f"{_UNSAFE.sub('_', row.problem_id)}.json"
        path.write_text(json.dumps(atlas_task(row), indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
