"""`atlas-tui solve PROBLEM`: solve one problem without the workbench.

PROBLEM is a problem file or folder in any format `engine.problems.load` reads; `--id` picks one
problem (or one row of a dataset file). The task runs through `engine.task.run_task` (solve,
then grade the one submitted answer), its event log goes to the session store
(`<problem folder>/.atlas/sessions.sqlite` unless `--store`), the answer to
`<problem folder>/.atlas/answers/<id>.py` unless `--answer`. While it runs, one compact live
line on stderr shows the phase, candidates, tests and tokens per second; `--json` prints the
result on stdout. The workbench's settings apply here too (the config file, ATLAS_* variables:
the model, [llm] backend knobs, [pipeline] knobs), under this command's own flags.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.text import Text

from atlas_tui.commands.open import config_from_flags
from engine import events as ev
from engine.pipeline.config import CONDITIONS, PipelineConfig
from engine.problems import Problem, load
from engine.state import TaskState, apply

REFRESH_PER_S = 8


@click.command("solve")
@click.argument("problem", type=click.Path(exists=True, path_type=Path))
@click.option("--id", "problem_id", help="The problem (or dataset row) to solve, by id.")
@click.option("--condition", type=click.Choice(CONDITIONS),
              help="A baseline, B +Phase 1, C +Phase 1+2, D +Phase 1+3, full: all. Default: "
              "the configured one (full).")
@click.option("--model", help="Catalogue name, GGUF path or Hugging Face repo id (or the "
              "server's model name). Default: the default catalogue model, when it is here.")
@click.option("--base-url", help="An OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1.")
@click.option("--set", "knobs", multiple=True, metavar="KEY=VALUE",
              help="A pipeline knob, e.g. --set k=3 --set repair_iterations=5, or any setting "
              "by its dotted name, e.g. --set llm.n_ctx=4096 (repeatable).")
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path),
              help="Session store (default: <problem folder>/.atlas/sessions.sqlite).")
@click.option("--answer", "answer_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the answer (default: <problem folder>/.atlas/answers/ID.py).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option("--lens", "lens_path", type=click.Path(dir_okay=False, path_type=Path),
              help="A trained Lens artifact (default: the model's own, if `lens train` made one).")
@click.option("--allow-rlimits-only", is_flag=True,
              help="Run candidates even where neither bubblewrap nor unshare is available.")
def solve_cmd(problem: Path, problem_id: str | None, condition: str | None, model: str | None,
              base_url: str | None, knobs: tuple[str, ...], store: Path | None,
              answer_path: Path | None, as_json: bool, lens_path: Path | None,
              allow_rlimits_only: bool) -> None:
    """Solve one PROBLEM (a file or folder; --id picks one) and grade the answer."""
    chosen = _pick(problem, problem_id)
    # the workbench's settings ([llm], [pipeline], ATLAS_*), then this command's flags
    settings = config_from_flags(None, knobs, {"model": model, "base_url": base_url,
                                               "condition": condition})
    config = settings.pipeline_config()
    model, base_url = settings.model, settings.base_url
    backend_knobs = settings.backend_knobs()
    home = (problem if problem.is_dir() else problem.parent) / ".atlas"
    store_path = store or home / "sessions.sqlite"
    answer_path = answer_path or home / "answers" / f"{_safe(chosen.id)}.py"
    console = Console(stderr=True)
    result = asyncio.run(_solve(chosen, config, model, base_url, store_path, allow_rlimits_only,
                                console, live=not as_json or console.is_terminal,
                                lens_path=lens_path, backend_knobs=backend_knobs))
    answer_path.parent.mkdir(parents=True, exist_ok=True)
    answer_path.write_text(result["answer"], encoding="utf-8")
    result["answer_file"] = str(answer_path)
    if as_json:
        click.echo(json.dumps(result, indent=1))
    else:
        _print_result(console, result)


def _pick(path: Path, problem_id: str | None) -> Problem:
    loaded = load(path)
    if problem_id is not None:
        for problem in loaded.problems:
            if problem.id == problem_id:
                return problem
        near = ", ".join(p.id for p in loaded.problems[:5])
        raise click.ClickException(
            f"no problem with id {problem_id!r} in {path}"
            + (f" (ids look like: {near}, ...)" if near else "")
        )
    if len(loaded.problems) == 1:
        return loaded.problems[0]
    if not loaded.problems:
        errors = "; ".join(str(e) for e in loaded.errors[:3])
        raise click.ClickException(f"no problem could be loaded from {path}: {errors}")
    raise click.ClickException(
        f"{path} holds {len(loaded.problems)} problems; pick one with --id "
        f"(for example --id {loaded.problems[0].id})"
    )


async def _solve(problem: Problem, config: PipelineConfig, model: str | None,
                 base_url: str | None, store_path: Path, allow_rlimits_only: bool,
                 console: Console, *, live: bool,
                 lens_path: Path | None = None,
                 backend_knobs: dict[str, Any] | None = None) -> dict[str, Any]:
    from engine.lens.scorer import lens_for
    from engine.llm.base import BackendError
    from engine.llm.resolve import open_backend
    from engine.models.pull import model_or_default
    from engine.sandbox import Sandbox
    from engine.store import Store
    from engine.task import run_task

    model = model_or_default(model, base_url)
    try:
        backend = await asyncio.to_thread(open_backend, model, base_url, **(backend_knobs or {}))
    except BackendError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        lens = lens_for(backend.info.model, lens_path)
    except (OSError, ValueError) as exc:
        await backend.close()
        raise click.ClickException(f"cannot use the Lens: {exc}") from None
    started = time.monotonic()
    progress = Progress(problem, started)
    try:
        async with await Sandbox.create(allow_rlimits_only=allow_rlimits_only) as sandbox:
            store_path.parent.mkdir(parents=True, exist_ok=True)
            with Store(store_path) as store, Live(progress.render(), console=console,
                                                  refresh_per_second=REFRESH_PER_S,
                                                  transient=True) as view:
                if not live:
                    view.stop()

                def seen(event: ev.Event) -> None:
                    progress.fold(event)
                    if live:
                        view.update(progress.render())

                outcome = await run_task(problem, backend, sandbox, config, store=store,
                                         emit=seen, lens=lens)
    finally:
        await backend.close()
    return _result(problem, config, outcome, store_path, time.monotonic() - started)


class Progress:
    """The live line: folds the events into the same state the workbench shows."""

    def __init__(self, problem: Problem, started: float) -> None:
        self.problem = problem
        self.started = started
        self.state = TaskState()

    def fold(self, event: ev.Event) -> None:
        self.state = apply(self.state, event)

    def render(self) -> Text:
        s = self.state
        candidates = list(s.candidates.values())
        passing = sum(c.public.all_passed for c in candidates)
        stream = list(s.streams.values())[-1] if s.streams else None
        rate = stream.live_tokens_per_s if stream is not None else 0.0
        tokens = s.tokens.completion + sum(
            st.live_tokens for st in s.streams.values() if not st.finished
        )
        line = Text()
        line.append(f"{self.problem.id} ", style="bold")
        line.append(f"[{s.phase or ('done' if s.finished else 'starting')}] ", style="cyan")
        line.append(f"candidates {len(candidates)} ({passing} pass the examples) · ")
        line.append(f"tests {len(s.tests)} · tokens {tokens} ({rate:.0f} tok/s) · ")
        line.append(f"{time.monotonic() - self.started:.1f}s")
        if s.gate is not None:
            line.append(f" · paused before {s.gate.step}", style="yellow")
        if s.notices:  # printed in full with the result
            line.append(f" · {len(s.errors)} errors, {len(s.warnings)} warnings",
                        style="red" if s.errors else "yellow")
        return line


def _result(problem: Problem, config: PipelineConfig, outcome: Any, store_path: Path,
            elapsed_s: float) -> dict[str, Any]:
    state: TaskState = outcome.state
    submitted = state.submitted
    examples: dict[str, Any] | None = None
    if submitted is not None and submitted.candidate_id in state.candidates:
        tally = state.candidates[submitted.candidate_id].public
        if tally.total:
            examples = {"verdict": _examples_verdict(state, submitted.candidate_id),
                        "passed": tally.passed, "total": tally.total}
    graded = state.graded
    return {
        "problem": problem.id,
        "title": problem.title,
        "condition": config.condition,
        "status": outcome.status,
        "answer": submitted.code if submitted else "",
        "answer_candidate": submitted.candidate_id if submitted else None,
        "phase": submitted.phase if submitted else None,
        "examples": examples,
        "graded": None if graded is None else {
            "verdict": graded.verdict,
            "passed": graded.passed,
            "total": graded.total,
            "hidden_tests": bool(problem.hidden_tests) and not graded.used_public_fallback,
            "oracle_any_pass (ceiling)": graded.oracle_any_pass,
        },
        "tokens": {"prompt": state.tokens.prompt, "completion": state.tokens.completion,
                   "thinking": state.tokens.thinking},
        "candidates": len(state.candidates),
        "time_s": round(elapsed_s, 3),
        "errors": [f"{e.where}: {e.message}" for e in state.errors],
        "warnings": [f"{w.where}: {w.message}" for w in state.warnings],
        "log": {"store": str(store_path), "task_id": outcome.task_id, "events": state.n_events},
    }


def _examples_verdict(state: TaskState, candidate_id: str) -> str:
    cells = state.matrix.get(candidate_id, {})
    for test_id, cell in cells.items():
        if state.tests[test_id].kind == "public" and cell.verdict != "AC":
            return cell.verdict
    return "AC"


def _print_result(console: Console, result: dict[str, Any]) -> None:
    graded = result["graded"]
    verdict = "not graded" if graded is None else (
        f"{graded['verdict']} ({graded['passed']}/{graded['total']}"
        + ("" if graded["hidden_tests"] else ", public tests: no hidden tests") + ")"
    )
    examples = result["examples"]
    source = result["phase"] if result["phase"] not in (None, "none") else "no code (empty)"
    console.print(
        f"{result['problem']}: condition {result['condition']}, answer from {source}; examples "
        + ("-" if examples is None else f"{examples['verdict']} "
           f"({examples['passed']}/{examples['total']})")
        + f"; graded {verdict}; {result['tokens']['completion']} tokens, {result['time_s']}s",
        highlight=False, soft_wrap=True,
    )
    for error in result["errors"]:
        console.print(f"[red]error[/] {error}", highlight=False, soft_wrap=True)
    for warning in result["warnings"]:
        console.print(f"[yellow]warning[/] {warning}", highlight=False, soft_wrap=True)
    console.print(f"answer: {result['answer_file']}\nlog: {result['log']['store']} "
                  f"(task {result['log']['task_id']})", highlight=False, soft_wrap=True)


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "problem"
