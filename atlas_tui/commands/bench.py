"""`atlas-tui bench DATASET --condition C --jobs N --out RUN.sqlite [--resume]` and the
commands that read runs: `bench report RUN`, `bench compare RUN_A RUN_B ...`,
`bench export RUN --atlas DIR`.

`bench DATASET` (short for `bench run DATASET`) solves every problem of DATASET headlessly,
`--jobs` at a time against one backend and one sandbox, records every event in RUN.sqlite, and
prints the report: strict pass@1 (one submitted answer per problem, graded on hidden tests it
never saw) and, labelled as a ceiling, oracle pass@k. A run that was stopped (Ctrl-C, a killed
process) continues with `--resume`: finished problems are not redone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from atlas_tui.commands.open import config_from_flags

CONDITIONS = ("A", "B", "C", "D", "full")
SUBCOMMANDS = ("run", "report", "compare", "export")


class BenchGroup(click.Group):
    """`bench DATASET ...` is `bench run DATASET ...`: a first argument that is not one of the
    subcommands is a dataset (a file or folder named like a subcommand: `bench run NAME`)."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in SUBCOMMANDS and not args[0].startswith("-"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


@click.group("bench", cls=BenchGroup)
def bench_group() -> None:
    """Benchmark runs: solve a dataset (`bench DATASET --out RUN.sqlite`), then report,
    compare and export runs."""


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    from engine.bench.window import parse_day

    if value is None:
        return None
    try:
        return parse_day(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@bench_group.command("run")
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
              "id, or the server's model name with --base-url. Default: the default catalogue "
              "model, when it is here.")
@click.option("--base-url", default=None, help="An OpenAI-compatible server, e.g. "
              "http://127.0.0.1:8080/v1.")
@click.option("--ids", default=None, help="Only these problem ids (comma-separated).")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Only the first N problems.")
@click.option("--since", callback=_day, default=None, metavar="YYYY-MM-DD",
              help="Only problems dated on or after this day (LiveCodeBench contest_date, "
              "LeetCodeDataset estimated_date): past the model's training cut-off.")
@click.option("--until", callback=_day, default=None, metavar="YYYY-MM-DD",
              help="Only problems dated on or before this day.")
@click.option("--no-oracle", is_flag=True,
              help="Skip the oracle ceiling (grades only the submitted answer).")
@click.option("--allow-rlimits-only", is_flag=True,
              help="Run even where neither bubblewrap nor unshare isolation is available.")
@click.option("--set", "knobs", multiple=True, metavar="KEY=VALUE",
              help="A pipeline knob (VALUE is JSON, or text), e.g. --set k=3 --set "
              "max_tokens=2048, or any setting by its dotted name, e.g. --set llm.n_ctx=4096. "
              "Repeatable; the settings file and ATLAS_* variables apply beneath.")
@click.option("--lens", "lens_path", type=click.Path(dir_okay=False, path_type=Path),
              help="A trained Lens artifact (default: the model's own, if `lens train` made one).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report as JSON here.")
def run_cmd(dataset: Path, out: Path, condition: str, jobs: int, resume: bool,
            retry_errors: bool, model: str | None, base_url: str | None, ids: str | None,
            limit: int | None, since: dt.date | None, until: dt.date | None, no_oracle: bool,
            allow_rlimits_only: bool, knobs: tuple[str, ...], lens_path: Path | None,
            json_out: Path | None) -> None:
    """Solve and grade every problem in DATASET; report strict pass@1."""
    from engine.bench import BenchError, bench_report, bench_session
    from engine.bench.window import in_window
    from engine.problems import load
    from engine.store import Store, StoreError

    console = Console(stderr=True)
    # the settings ([llm], [pipeline], ATLAS_*) under this command's flags, as solve does
    settings = config_from_flags(None, knobs, {"model": model, "base_url": base_url,
                                               "condition": condition})
    config = settings.pipeline_config()
    model, base_url = settings.model, settings.base_url
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
    if since is not None and until is not None and since > until:
        raise click.BadParameter(f"--since {since} is after --until {until}")
    problems, undated = in_window(problems, since, until)
    if undated:
        console.print(f"[yellow]left out[/] {len(undated)} problem(s) without a date "
                      f"(e.g. {undated[0]}): --since/--until need one", highlight=False)
    if since is not None or until is not None:
        if not problems:
            raise click.ClickException(f"no problem of {dataset} is dated within "
                                       f"{since or '...'} to {until or '...'}")
        console.print(f"date window {since or '...'} to {until or '...'}: {len(problems)} "
                      "problem(s)", highlight=False)
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
                                      dataset, console, lens_path, settings.backend_knobs()))
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
               lens_path: Path | None = None,
               backend_knobs: dict[str, Any] | None = None) -> str:
    from engine.bench import run_bench
    from engine.events import TokenDelta
    from engine.lens.scorer import lens_for
    from engine.llm.base import BackendError
    from engine.llm.resolve import open_backend
    from engine.models.pull import model_or_default
    from engine.sandbox import Sandbox

    model = model_or_default(model, base_url)
    try:
        backend = open_backend(model, base_url, **{**(backend_knobs or {}),
                                                   **_server_knobs(model, base_url, jobs)})
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

    meta = {"dataset": str(dataset.resolve()), "model": backend.info.model,
            "backend": backend.info.kind,
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


def _server_knobs(model: str | None, base_url: str | None, jobs: int) -> dict[str, Any]:
    """With a server, let at least `jobs` requests be in flight: the backend's own cap (4 by
    default) would otherwise hold `--jobs 8` to 4 generations at once whatever the server's
    slots (measured by bench/bench_scaling.py)."""
    import dataclasses
    import os

    from engine.llm.openai_backend import OpenAIConfig

    if not (base_url or (model is None and os.environ.get("OPENAI_BASE_URL"))):
        return {}  # as open_backend decides: an in-process model has no such cap
    default = next(f.default for f in dataclasses.fields(OpenAIConfig)
                   if f.name == "max_concurrency")
    assert isinstance(default, int)
    return {"max_concurrency": max(jobs, default)}


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


_RUN_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _read_report(path: Path, problem_info: dict[str, Any] | None = None) -> Any:
    """The report of the run kept in store file `path` (a clear error when there is none)."""
    from engine.bench import bench_report, bench_session
    from engine.store import Store, StoreError

    try:
        with Store(path, readonly=True) as store:
            session_id = bench_session(store)
            if session_id is None:
                raise click.ClickException(f"{path} holds no benchmark run")
            return bench_report(store, session_id, problem_info)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc


def _dataset_of(path: Path, dataset: Path | None) -> tuple[Path | None, list[Any]]:
    """The run's dataset (given, or the one it recorded, if still there) and its problems."""
    from engine.bench import bench_session
    from engine.problems import load
    from engine.store import Store

    if dataset is None:
        with Store(path, readonly=True) as store:
            session = store.session(bench_session(store) or "")
            recorded = str(session.meta.get("dataset") or "") if session else ""
        dataset = Path(recorded) if recorded and Path(recorded).exists() else None
    return dataset, load(dataset).problems if dataset is not None else []


@bench_group.command("report")
@click.argument("run", type=_RUN_FILE)
@click.option("--dataset", type=click.Path(exists=True, path_type=Path), default=None,
              help="The run's dataset (default: the file the run recorded), for difficulty and "
              "platform of older runs and for --check-selftests.")
@click.option("--check-selftests", is_flag=True,
              help="Run the dataset's reference solutions on the kept self-tests' inputs "
              "(in the sandbox) and count how many kept self-tests were right.")
@click.option("--allow-rlimits-only", is_flag=True,
              help="With --check-selftests: run where no isolating sandbox is available.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report as JSON here.")
def report_cmd(run: Path, dataset: Path | None, check_selftests: bool,
               allow_rlimits_only: bool, json_out: Path | None) -> None:
    """The report of a run kept in RUN (a store file `bench` wrote), read from its events."""
    from engine.bench.runner import problem_info

    console = Console(stderr=True)
    dataset, problems = _dataset_of(run, dataset)
    info = problem_info(problems) if problems else None
    report = _read_report(run, info or None)
    if check_selftests:
        if not problems:
            raise click.ClickException(
                "--check-selftests needs the run's dataset (with reference solutions): pass "
                "--dataset")
        report = asyncio.run(_check(run, report, problems, allow_rlimits_only))
    _print_report(Console(), report)
    if json_out is not None:
        json_out.write_text(report.dumps() + "\n", encoding="utf-8")
        console.print(f"wrote {json_out}", highlight=False)


async def _check(run: Path, report: Any, problems: list[Any], allow_rlimits_only: bool) -> Any:
    from engine.bench.selfcheck import check_selftests
    from engine.sandbox import Sandbox
    from engine.store import Store

    with Store(run, readonly=True) as store:
        async with await Sandbox.create(allow_rlimits_only=allow_rlimits_only) as sandbox:
            checked, _ = await check_selftests(store, report, {p.id: p for p in problems},
                                               sandbox)
    return checked


@bench_group.command("compare")
@click.argument("runs", nargs=-1, required=True)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the comparison as JSON here.")
@click.option("--markdown", "md_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the Markdown table here.")
def compare_cmd(runs: tuple[str, ...], json_out: Path | None, md_out: Path | None) -> None:
    """Compare runs on their common problems: strict pass@1 with 95% intervals, problems won
    and lost between each pair, McNemar's paired test, tokens and time per problem.

    A RUN is a store file, or several joined with + (one condition on different datasets,
    e.g. he-A.sqlite+mbpp-A.sqlite), compared as one run over all their problems."""
    from engine.bench.compare import compare_runs, pooled

    if len(runs) < 2:
        raise click.UsageError("compare needs at least two runs")
    reports = []
    for run in runs:
        paths = [Path(part) for part in run.split("+")]
        for path in paths:
            if not path.is_file():
                raise click.BadParameter(f"no store file {path}", param_hint="RUNS")
        parts = [_read_report(path) for path in paths]
        try:
            reports.append(parts[0] if len(parts) == 1 else pooled(parts))
        except ValueError as exc:
            raise click.BadParameter(f"{run}: {exc}", param_hint="RUNS") from exc
    comparison = compare_runs(reports, _labels(runs))
    if not comparison.common:
        raise click.ClickException("the runs share no problem with tests to grade on")
    text = comparison.to_markdown()
    click.echo(text, nl=False)
    if md_out is not None:
        md_out.write_text(text, encoding="utf-8")
    if json_out is not None:
        json_out.write_text(comparison.dumps() + "\n", encoding="utf-8")


def _labels(runs: tuple[str, ...]) -> list[str]:
    """Each run's file name without its suffix (pooled ones joined by +); with the folder when
    two names clash."""
    def label(run: str, folder: bool) -> str:
        paths = [Path(part) for part in run.split("+")]
        return "+".join(f"{p.parent.name}/{p.stem}" if folder else p.stem for p in paths)

    stems = [label(run, False) for run in runs]
    if len(set(stems)) == len(stems):
        return stems
    labels = [label(run, True) for run in runs]
    return labels if len(set(labels)) == len(labels) else list(runs)


@bench_group.command("export")
@click.argument("run", type=_RUN_FILE)
@click.option("--atlas", "folder", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Write one JSON file per task here, in ATLAS's per-task layout.")
def export_cmd(run: Path, folder: Path) -> None:
    """Export a run in ATLAS's per-task layout (task_id, passed, code, phase_solved,
    candidates_generated, total_tokens, total_time_ms)."""
    from engine.bench.export import export_atlas

    written = export_atlas(_read_report(run), folder)
    click.echo(f"wrote {len(written)} task file(s) to {folder}")
