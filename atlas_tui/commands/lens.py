"""`atlas-tui lens export|train|eval|info`: collect labelled candidates, train the Geometric Lens,
judge it on problems it never saw, and show what an artifact is.

DATA arguments are event stores (the SQLite files runs write) or data files made by
`lens export` (.npz); several are merged. See the README's "Lens" section for the workflow.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import replace
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from engine.lens.artifact import LensArtifact, LensArtifactError, LensMismatchError
from engine.lens.dataset import LABEL_SOURCES, LabelSource, LensDataError, LensDataset
from engine.lens.evaluate import EvalReport, evaluate
from engine.lens.features import DEFAULT_POOLING
from engine.lens.metrics import auroc
from engine.lens.report import energy_histogram
from engine.lens.scorer import GeometricLens, default_artifact_path
from engine.lens.train import TrainConfig, split_problems, train

_ERRORS = (LensDataError, LensArtifactError, LensMismatchError)
_DATA = click.argument(
    "data", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
_MODEL = click.option(
    "--model", default=None, help="The model whose embeddings to use (when a store holds several)."
)
_POOLING = click.option(
    "--pooling",
    type=click.Choice(["mean", "last"]),
    default=DEFAULT_POOLING,
    show_default=True,
    help="How the backend pooled the stored embeddings (its `pooling` setting).",
)
_LABELS = click.option(
    "--labels",
    type=click.Choice(LABEL_SOURCES),
    default=None,
    help="Label source: hidden-test verdicts, public examples, or self-tests.",
)


@click.group("lens")
def lens_group() -> None:
    """The Geometric Lens: an energy model over the model's own embeddings of candidates."""


def load_data(paths: tuple[Path, ...], model: str | None, pooling: str) -> LensDataset:
    """Stores and data files, merged into one data set."""
    merged: LensDataset | None = None
    for path in paths:
        data = (
            LensDataset.load(path)
            if zipfile.is_zipfile(path)
            else _from_store(path, model, pooling)
        )
        merged = data if merged is None else merged.merged(data)
    assert merged is not None
    return merged


def _from_store(path: Path, model: str | None, pooling: str) -> LensDataset:
    from engine.lens.collect import collect
    from engine.store import Store, StoreError

    try:
        with Store(path, readonly=True) as store:
            return collect(store, model=model, pooling=pooling)
    except StoreError as exc:
        raise LensDataError(f"{path}: {exc}") from exc


def _counts_line(data: LensDataset) -> str:
    parts = []
    for source in LABEL_SOURCES:
        c = data.counts(source)
        parts.append(f"{source} {c['pass']} pass / {c['fail']} fail")
    return f"{len(data)} candidates, {len(data.problems())} problems; labels: " + ", ".join(parts)


@lens_group.command("export")
@click.argument(
    "stores", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The data file to write (.npz).",
)
@_MODEL
@_POOLING
def export_cmd(stores: tuple[Path, ...], out: Path, model: str | None, pooling: str) -> None:
    """Collect embedded, labelled candidates from event STORES into one data file."""
    console = Console(stderr=True)
    try:
        data = load_data(stores, model, pooling)
    except _ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
    data.save(out)
    console.print(f"{out}: {_counts_line(data)} (model {data.spec.model}, {data.spec.dim} dims)")


@lens_group.command("train")
@_DATA
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the artifact (default: the model's place in the user data "
    "folder, where the workbench finds it).",
)
@click.option(
    "--labels",
    type=click.Choice(LABEL_SOURCES),
    default="hidden",
    show_default=True,
    help="Label source to train on.",
)
@click.option(
    "--holdout",
    type=click.FloatRange(0, 0.9),
    default=0.2,
    show_default=True,
    help="Fraction of problems kept out of training and evaluated at the end.",
)
@click.option("--epochs", type=click.IntRange(min=1), default=30, show_default=True)
@click.option(
    "--hidden",
    type=click.IntRange(min=4),
    default=256,
    show_default=True,
    help="Hidden units of the energy network.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default=None, help="torch device (default: cuda when available).")
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="CPU threads for torch (default: torch's choice; 1 is often faster on a "
    "busy machine, see BENCHMARKS.md).",
)
@_MODEL
@_POOLING
def train_cmd(
    data: tuple[Path, ...],
    out: Path | None,
    labels: LabelSource,
    holdout: float,
    epochs: int,
    hidden: int,
    seed: int,
    device: str | None,
    threads: int | None,
    model: str | None,
    pooling: str,
) -> None:
    """Train a Lens on DATA (stores or data files), keeping whole problems out for evaluation."""
    console, out_console = Console(stderr=True), Console()
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    try:
        dataset = load_data(data, model, pooling)
        console.print(_counts_line(dataset))
        labelled = dataset.labelled(labels)
        kept, held = (
            split_problems(labelled.problems(), holdout, seed + 1)
            if holdout
            else (labelled.problems(), [])
        )
        config = TrainConfig(
            label_source=labels, hidden=hidden, epochs=epochs, seed=seed, device=device
        )
        with _progress(console) as progress:
            task = progress.add_task("training", total=epochs, loss=math.nan)

            def on_epoch(epoch: int, total: int, loss: float) -> None:
                progress.update(task, completed=epoch, loss=loss)

            artifact = train(labelled.of_problems(kept), config, on_epoch=on_epoch)
    except _ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
    report: EvalReport | None = None
    not_evaluated = ""
    if held:
        try:
            report = evaluate(artifact, labelled.of_problems(held))
        except _ERRORS as exc:
            not_evaluated = str(exc)
    if report is not None:
        # The held-out problems (never trained or calibrated on) are the artifact's stored
        # evaluation: the gate that lets a Lens take part in decisions reads it.
        artifact.record = replace(artifact.record, heldout=report.heldout())
    path = artifact.save(out or default_artifact_path(artifact.spec.model))
    out_console.print(
        f"wrote {path} ({artifact.name}, {artifact.record.elapsed_s:.1f} s on "
        f"{artifact.record.device})"
    )
    if report is None:
        _print_heldout(out_console, artifact)
    if held:
        out_console.print(f"\n[bold]Held-out problems[/] ({len(held)}, never trained on):")
        if report is not None:
            _print_report(out_console, report)
        else:
            out_console.print(f"[yellow]not evaluated: {not_evaluated}[/]")
    lens = GeometricLens(artifact)
    out_console.print(
        f"decisions: {'on' if lens.decides else 'off'} ({lens.gate.reason})",
        markup=False,
        highlight=False,
    )


@lens_group.command("eval")
@click.argument(
    "artifact_path",
    metavar="ARTIFACT",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@_DATA
@_LABELS
@click.option(
    "--bins",
    type=click.IntRange(min=2),
    default=12,
    show_default=True,
    help="Bins of the energy histogram.",
)
@_MODEL
@_POOLING
def eval_cmd(
    artifact_path: Path,
    data: tuple[Path, ...],
    labels: LabelSource | None,
    bins: int,
    model: str | None,
    pooling: str,
) -> None:
    """Judge ARTIFACT on DATA's problems it never trained on, beside random and shortest-code
    baselines, with the energy histogram of passing vs failing candidates."""
    console = Console()
    try:
        artifact = LensArtifact.load(artifact_path)
        dataset = load_data(data, model, pooling)
        report = evaluate(artifact, dataset, labels)
    except _ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
    _print_report(console, report, bins=bins)


@lens_group.command("info")
@click.argument(
    "artifact_path",
    metavar="[ARTIFACT]",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option("--model", default=None, help="Show the artifact in this model's default place.")
def info_cmd(artifact_path: Path | None, model: str | None) -> None:
    """What an artifact is: model, pooling, size, training data, held-out figures."""
    if artifact_path is None:
        if model is None:
            raise click.UsageError("give an ARTIFACT path or --model")
        artifact_path = default_artifact_path(model)
    try:
        artifact = LensArtifact.load(artifact_path)
    except _ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
    console = Console()
    spec, record = artifact.spec, artifact.record
    lens = GeometricLens(artifact)
    table = Table(show_header=False, box=None)
    rows = [
        ("artifact", str(artifact_path)),
        ("name", artifact.name),
        ("model", spec.model),
        ("embedding", f"{spec.dim} dims, {spec.pooling} pooling, feature text {spec.text_version}"),
        (
            "network",
            f"{artifact.net.hidden} hidden units, "
            f"{sum(p.numel() for p in artifact.net.parameters()):,} parameters",
        ),
        ("labels", record.label_source),
        (
            "trained on",
            f"{record.samples} candidates of {len(record.problems)} problems "
            f"({record.calibration_problems} held out for calibration)",
        ),
        (
            "training",
            f"{record.epochs} epochs, seed {record.seed}, {record.device}, "
            f"{record.elapsed_s:.1f} s",
        ),
        ("calibration", f"p = sigmoid({artifact.platt.bias:.3f} - {artifact.platt.slope:.3f} E)"),
        (
            "online updates",
            f"{artifact.online_updates} ({len(artifact.online_energy)} samples, "
            f"AUROC {_fmt(auroc(artifact.online_energy, artifact.online_passed))})",
        ),
        (
            "decisions",
            f"on ({lens.gate.reason})" if lens.decides else f"off ({lens.gate.reason})",
        ),
        (
            "adaptive k/tier",
            "on (the Lens has shown skill)"
            if lens.decides and lens.has_skill
            else "off (no demonstrated skill)",
        ),
    ]
    for key, value in rows:
        table.add_row(f"[bold]{key}[/]", value)
    console.print(table)
    _print_heldout(console, artifact)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("epochs  loss {task.fields[loss]:.4f}"),
        TimeElapsedColumn(),
        console=console,
    )


def _print_heldout(console: Console, artifact: LensArtifact) -> None:
    heldout = artifact.record.heldout
    if not heldout:
        console.print(
            "calibration problems: none (too few problems; calibrated on training "
            "data, so adaptive k and tier stay at their defaults)"
        )
        return
    counts = ("problems", "mixed_problems")
    figures = ", ".join(f"{k} {_fmt(v)}" for k, v in heldout.items() if k not in counts)
    if "problems" in heldout:  # an evaluation on held-out problems (lens train, lens_real.py)
        where = (
            f"held-out problems ({int(heldout['problems'])}, "
            f"{int(heldout.get('mixed_problems', 0))} mixed)"
        )
    else:
        where = f"calibration problems ({artifact.record.calibration_problems})"
    console.print(f"{where}: {figures}")


def _fmt(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3f}"


def _print_report(console: Console, report: EvalReport, bins: int = 12) -> None:
    console.print(
        f"{report.samples} candidates of {report.problems} problems ({report.mixed_problems} "
        f"mixed), labels: {report.label_source}, pass rate {report.pass_rate:.2f}\n"
        f"{report.excluded_problems} problems left out (trained on)"
    )
    if report.mixed_problems < 10:
        console.print(
            f"[yellow]only {report.mixed_problems} mixed problems: these figures are mostly "
            "noise; collect more runs before trusting them[/]"
        )
    table = Table()
    for column in ("", "AUROC", "AUROC within problems", "selection accuracy", "ECE", "Brier"):
        table.add_column(column, justify="right" if column else "left")
    for name, figures in (
        ("Lens", report.lens),
        ("random", report.random),
        ("shortest code", report.shortest),
    ):
        table.add_row(
            name,
            _fmt(figures.auroc),
            _fmt(figures.auroc_within),
            _fmt(figures.selection_accuracy),
            _fmt(figures.ece),
            _fmt(figures.brier),
        )
    console.print(table)
    console.print(
        energy_histogram(report.energy, report.passed, bins=bins), markup=False, highlight=False
    )
