"""`atlas-tui grade DATASET`: grade answers (or the dataset's own references) on every problem.

Answers come from `--solutions FILE.jsonl` (lines {"task_id": ..., "code": ...}; the code may be
a raw model answer with fenced blocks, extracted as LiveCodeBench does; HumanEval-style
{"task_id", "completion"} lines are appended to the prompt) or from `--references`. The summary
reports strict pass@1 over the problems that have tests; problems without tests, or without an
answer, are listed as such and never counted as passes.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from engine.cpus import available_cores
from engine.extract import extract_lcb
from engine.grading import NO_TESTS, GradeResult, grade, limits_for
from engine.problems import Problem, load
from engine.sandbox.interface import TestRunner

MISSING = "MISSING"  # no answer for this task (no line in --solutions, no reference)


@dataclass(frozen=True, slots=True)
class Answer:
    code: str | None  # None: the answer held no program
    origin: str  # "solutions" or "reference"


@click.command("grade")
@click.argument("dataset", type=click.Path(exists=True, path_type=Path))
@click.option("--solutions", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='JSONL of {"task_id": ..., "code": ...} (code may be a raw model answer).')
@click.option("--references", is_flag=True, help="Grade the dataset's own reference solutions.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Programs run at once (default: the number of cores).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Per-test wall-time limit in seconds (default: each problem's own, 6 s).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write per-task results (verdict, passed, per-test verdicts, times) here.")
@click.option("--public-only", is_flag=True, help="Grade on public tests only.")
@click.option("--allow-rlimits-only", is_flag=True,
              help="Run even where neither bubblewrap nor unshare isolation is available.")
def grade_cmd(dataset: Path, solutions: Path | None, references: bool, jobs: int | None,
              timeout: float | None, json_out: Path | None, public_only: bool,
              allow_rlimits_only: bool) -> None:
    """Grade answers to the problems in DATASET (a problem file or folder)."""
    if (solutions is None) == (not references):
        raise click.UsageError("give exactly one of --solutions FILE.jsonl or --references")
    console = Console(stderr=True)
    loaded = load(dataset)
    for error in loaded.errors:
        console.print(f"[yellow]skipped[/] {error}", highlight=False, soft_wrap=True)
    if not loaded.problems:
        raise click.ClickException(f"no problems could be loaded from {dataset}")
    answers = _references(loaded.problems) if references else _solutions(solutions, loaded.problems,
                                                                         console)
    results = asyncio.run(_grade_all(loaded.problems, answers, jobs, timeout, public_only,
                                     allow_rlimits_only, console))
    summary = _summary(results, len(loaded.errors))
    _print_summary(Console(), results, summary)
    if json_out is not None:
        json_out.write_text(json.dumps({"summary": summary, "results": results}, indent=1) + "\n")
        console.print(f"wrote {json_out}")


def _references(problems: list[Problem]) -> dict[str, Answer]:
    return {p.id: Answer(p.references[0], "reference") for p in problems if p.references}


def _solutions(path: Path | None, problems: list[Problem], console: Console) -> dict[str, Answer]:
    assert path is not None
    by_id = {p.id: p for p in problems}
    answers: dict[str, Answer] = {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            _skip(console, path, line_no, f"malformed JSON ({exc.msg})")
            continue
        raw = row.get("code", row.get("completion")) if isinstance(row, dict) else None
        if not isinstance(raw, str) or "task_id" not in row:
            _skip(console, path, line_no, 'needs "task_id" and a string "code" (or "completion")')
            continue
        task_id = str(row["task_id"])
        problem = by_id.get(task_id)
        if problem is None:
            _skip(console, path, line_no, f"no problem {task_id!r} in the dataset")
            continue
        if task_id in answers:
            continue  # strict pass@1: the first answer for a task is the submission
        if "code" in row:
            code = extract_lcb(raw, func_name=problem.func_name)
        elif problem.prelude:  # LeetCodeDataset: the prompt is the prelude the grader adds
            code = raw
        else:  # HumanEval samples: a completion of the prompt
            code = problem.starter_code + raw
        answers[task_id] = Answer(code, "solutions")
    return answers


def _skip(console: Console, path: Path, line_no: int, why: str) -> None:
    console.print(f"[yellow]skipped[/] {path} line {line_no}: {why}", highlight=False,
                  soft_wrap=True)


async def _grade_all(problems: list[Problem], answers: dict[str, Answer], jobs: int | None,
                     timeout: float | None, public_only: bool, allow_rlimits_only: bool,
                     console: Console) -> list[dict[str, Any]]:
    # Imported here: the sandbox probes isolation, which only grading needs.
    from engine.sandbox import IsolationUnavailable, Sandbox

    try:
        sandbox = await Sandbox.create(allow_rlimits_only=allow_rlimits_only, workers=jobs)
    except IsolationUnavailable as exc:
        raise click.ClickException(f"{exc} (or pass --allow-rlimits-only)") from exc
    console.print(f"isolation: {sandbox.tier.value}", highlight=False)
    # Enough problems in flight to keep every sandbox worker busy, not all at once.
    in_flight = asyncio.Semaphore(2 * (jobs or available_cores()))
    results: list[dict[str, Any]] = [{} for _ in problems]
    progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[last]}"), TimeElapsedColumn(), console=console)

    async def one(index: int, problem: Problem, bar: Any) -> None:
        answer = answers.get(problem.id)
        async with in_flight:
            if answer is None:
                has_tests = bool(problem.public_tests or problem.hidden_tests)
                row = {"task_id": problem.id, "verdict": MISSING if has_tests else NO_TESTS,
                       "passed": 0, "total": 0, "tests": [], "time_s": 0.0,
                       "detail": "no answer for this task"}
            else:
                # Sandbox is a TestRunner; the protocol's pytest marker `__test__` (a class
                # attribute of the protocol, not of runners) hides it from the checker
                runner = cast(TestRunner, sandbox)
                result: GradeResult = await grade(problem, answer.code, runner,
                                                  limits=limits_for(problem, timeout),
                                                  public_only=public_only)
                row = result.to_json()
        results[index] = row
        progress.update(bar, advance=1, last=f"{problem.id}: {row['verdict']}")

    try:
        with progress:
            bar = progress.add_task("grade", total=len(problems), last="")
            await asyncio.gather(*(one(i, p, bar) for i, p in enumerate(problems)))
    finally:
        await sandbox.close()
    return results


def _summary(results: list[dict[str, Any]], load_errors: int) -> dict[str, Any]:
    verdicts = Counter(r["verdict"] for r in results)
    graded = [r for r in results if r["verdict"] != NO_TESTS]
    accepted = verdicts.get("AC", 0)
    return {
        "problems": len(results),
        "with_tests": len(graded),
        "accepted": accepted,
        "strict_pass_at_1": accepted / len(graded) if graded else None,
        "verdicts": dict(verdicts.most_common()),
        "no_tests": verdicts.get(NO_TESTS, 0),
        "graded_on_public_only": sum(r.get("tests_used") == "public" for r in results),
        "missing_answers": verdicts.get(MISSING, 0),
        "load_errors": load_errors,
        "seconds": round(sum(r["time_s"] for r in results), 2),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def _print_summary(
    console: Console, results: list[dict[str, Any]], summary: dict[str, Any]
) -> None:
    if len(results) <= 40:
        table = Table("task", "verdict", "passed", "time (s)", "detail")
        for r in results:
            style = "green" if r["verdict"] == "AC" else "red"
            table.add_row(r["task_id"], f"[{style}]{r['verdict']}[/]",
                          f"{r['passed']}/{r['total']}", f"{r['time_s']:.2f}",
                          (r.get("detail") or "")[:60])
        console.print(table)
    rate = summary["strict_pass_at_1"]
    verdicts = ", ".join(f"{k} {v}" for k, v in summary["verdicts"].items())
    console.print(
        f"strict pass@1: {summary['accepted']}/{summary['with_tests']}"
        + (f" = {rate:.1%}" if rate is not None else "")
        + f"  ({verdicts})",
        highlight=False,
    )
    if summary["graded_on_public_only"]:
        console.print(f"{summary['graded_on_public_only']} problem(s) graded on public tests only "
                      "(no hidden tests, or --public-only)")
    if summary["no_tests"]:
        console.print(f"{summary['no_tests']} problem(s) have no tests: not graded, not passes")
    if summary["missing_answers"]:
        console.print(f"{summary['missing_answers']} problem(s) had no answer "
                      "(counted as failures)")
    if summary["load_errors"]:
        console.print(f"{summary['load_errors']} file(s) or row(s) could not be loaded "
                      "(listed above)")
    sys.stdout.flush()
