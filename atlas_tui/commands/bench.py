"""`atlas-tui bench DATASET --condition C --jobs N --out RUN.sqlite [--resume]`.

Solves every problem of DATASET headlessly, `--jobs` at a time against one backend and one
sandbox, records every event in RUN.sqlite, and prints the report: strict pass@1 (one
submitted answer per problem, graded on hidden tests it never saw) and, labelled as a ceiling,
oracle pass@k. A run that was stopped (Ctrl-C, a killed process) continues with `--resume`:
finished problems are not redone.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

CONDITIONS = ("A", "B", "C", "D", "full")


@click.command("bench")
@click.argument("dataset", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The run's store file (SQLite); one file per run.")
@click.option("--condition", type=click.Choice(CONDITIONS), default="full", show_default=True,
              help="A baseline, B +Phase 1, C +Phase 1+2, D +Phase 1+3, full.")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Problems solved at once (against the same backend).")
@click.option("--resume", is_flag=True, help="Continue the run kept in --out.")
@click.option("--retry-errors", is_flag=True,
              help="With --resume: also redo problems whose task ended in an error.")
@click.option("--model", default=None, help="A catalogue name, GGUF path or Hugging Face repo "
              "id, or the "
              "server's model name with --base-url.")
@click.option("--base-url", default=None, help="An OpenAI-compatible server, e.g. "
              "http://127.0.0.1:8080/v1.")
@click.option("--ids", default=None, help="Only these problem ids (comma-separated).")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Only the first N problems.")
@click.option("--no-oracle", is_flag=True,
              help="Skip the oracle ceiling (grades only the submitted answer).")
@click.option("--allow-rlimits-only", is_flag=True,
              help="Run even where neither bubblewrap nor unshare isolation is available.")
@click.option("--set", "knobs", multiple=True, metavar="KNOB=VALUE",
              help="Override one pipeline knob (VALUE is JSON, or text), e.g. --set k=3 "
              "--set max_tokens=2048. Repeatable.")
@click.option("--lens", "lens_path", type=click.Path(dir_okay=False, path_type=Path),
              help="A trained Lens artifact (default: the model's own, if `lens train` made one).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report as JSON here.")
def bench_cmd(dataset: Path, out: Path, condition: str, jobs: int, resume: bool,
              retry_errors: bool, model: str | None, base_url: str | None, ids: str | None,
              limit: int | None, no_oracle: bool, allow_rlimits_only: bool,
              knobs: tuple[str, ...], lens_path: Path | None, json_out: Path | None) -> None:
    """Solve and grade every problem in DATASET; report strict pass@1."""
    from engine.bench import BenchError, bench_report, bench_session
    from engine.problems import load
    from engine.store import Store, StoreError

    console = Console(stderr=True)
    config = _config(condition, knobs)
    loaded = load(dataset)
    for error in loaded.errors:
        console.print(f"[yellow]skipped[/] {error}", highlight=False)
    problems = loaded.problems
    if ids:
        wanted = [i.strip() for i in ids.split(",") if i.strip()]
        known = {p.id for p in problems}
        missing = [i for i in wanted if i not in known]
        if missing:
            raise click.ClickException(f"no problem with id {', '.join(missing)} in {dataset}")
        problems = [p for p in problems if p.id in set(wanted)]
    if limit is not None:
        problems = problems[:limit]
    if not problems:
        raise click.ClickException(f"no problems could be loaded from {dataset}")
    try:
        store = Store(out)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    if bench_session(store) is not None and not resume:  # say so before loading a model
        store.close()
        raise click.ClickException(
            f"{out} already holds a run; pass --resume to continue it or choose another --out"
        )
    try:
        session_id = asyncio.run(_run(problems, store, config, jobs, resume, retry_errors,
                                      model, base_url, not no_oracle, allow_rlimits_only,
                                      dataset, console, lens_path))
    except BenchError as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:
        console.print(f"interrupted; continue with: atlas-tui bench {dataset} --out {out} "
                      "--resume", highlight=False)
        raise SystemExit(130) from None
    finally:
        store.close()

    with Store(out, readonly=True) as reader:
        report = bench_report(reader, session_id)
    _print_report(Console(), report)
    if json_out is not None:
        json_out.write_text(report.dumps() + "\n", encoding="utf-8")
        console.print(f"wrote {json_out}", highlight=False)


async def _run(problems: list[Any], store: Any, config: Any, jobs: int, resume: bool,
               retry_errors: bool, model: str | None, base_url: str | None, oracle: bool,
               allow_rlimits_only: bool, dataset: Path, console: Console,
               lens_path: Path | None = None) -> str:
    from engine.bench import run_bench
    from engine.events import TokenDelta
    from engine.lens.scorer import lens_for
    from engine.llm.base import BackendError
    from engine.llm.resolve import open_backend
    from engine.sandbox import Sandbox

    try:
        backend = open_backend(model, base_url)
    except (BackendError, OSError, ValueError) as exc:
        raise click.ClickException(f"cannot open the model: {exc}") from exc
    try:
        lens = lens_for(backend.info.model, lens_path)
    except (OSError, ValueError) as exc:
        await backend.close()
        raise click.ClickException(f"cannot use the Lens: {exc}") from None
    sandbox = await Sandbox.create(allow_rlimits_only=allow_rlimits_only, workers=None)
    console.print(f"model {backend.info.model} ({backend.info.kind}), isolation "
                  f"{sandbox.tier.value}, condition {config.condition}, {len(problems)} problems",
                  highlight=False)
    progress = Progress(TextColumn("solving"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[score]}"), TextColumn("{task.fields[speed]}"),
                        TextColumn("{task.fields[last]}"), TimeElapsedColumn(),
                        console=console)
    solved = [0, 0]  # solved, finished (this run)
    started, tokens, shown = time.monotonic(), [0], [0.0]

    def on_event(event: Any) -> None:
        # Generated tokens of every task, shown as one rate at most a few times a second.
        if isinstance(event, TokenDelta):
            tokens[0] += event.tokens
            now = time.monotonic()
            if now - shown[0] > 0.25:
                shown[0] = now
                rate = tokens[0] / max(now - started, 1e-9)
                progress.update(bar, speed=f"{rate:.0f} tok/s")

    def done(problem: Any, outcome: Any) -> None:
        solved[1] += 1
        solved[0] += outcome.verdict == "AC"
        progress.update(bar, advance=1, score=f"pass@1 {solved[0]}/{solved[1]}",
                        last=f"{problem.id}: {outcome.verdict or outcome.status}")

    meta = {"dataset": str(dataset), "model": backend.info.model, "backend": backend.info.kind,
            "base_url": base_url or "", "config": json.loads(config.to_json())}
    try:
        with progress:
            bar = progress.add_task("bench", total=len(problems), score="", speed="", last="")
            run = await run_bench(problems, backend, sandbox, config, store, jobs=jobs,
                                  resume=resume, retry_errors=retry_errors, oracle=oracle,
                                  title=dataset.name, meta=meta, emit=on_event, lens=lens,
                                  on_task_done=done)
            progress.update(bar, completed=len(problems))
    finally:
        await sandbox.close()
        await backend.close()
    if run.skipped:
        console.print(f"{len(run.skipped)} problem(s) finished earlier were not redone",
                      highlight=False)
    if run.restarted:
        console.print(f"restarted after an interruption: {', '.join(run.restarted)}",
                      highlight=False)
    return run.session_id


def _config(condition: str, knobs: tuple[str, ...]) -> Any:
    """The condition's preset with `--set` overrides; a wrong knob is a usage error."""
    from engine.pipeline.config import PipelineConfig

    overrides: dict[str, Any] = {}
    for knob in knobs:
        name, sep, text = knob.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{knob!r} is not KNOB=VALUE", param_hint="--set")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        overrides[name.strip()] = tuple(value) if isinstance(value, list) else value
    try:
        return PipelineConfig.preset(condition, **overrides)
    except TypeError as exc:
        raise click.BadParameter(f"unknown pipeline knob: {exc}", param_hint="--set") from exc


def _print_report(console: Console, report: Any) -> None:
    if len(report.rows) <= 40:
        table = Table("problem", "status", "verdict", "passed", "phase", "time (s)", "attempt")
        for row in report.rows:
            style = "green" if row.verdict == "AC" else "red"
            passed = f"{row.passed}/{row.total}" if row.total is not None else ""
            table.add_row(row.problem_id, row.status, f"[{style}]{row.verdict or ''}[/]", passed,
                          row.answer_phase or "", f"{row.elapsed_s or 0:.1f}", str(row.attempt))
        console.print(table)
    console.print(report.to_text(), highlight=False)
