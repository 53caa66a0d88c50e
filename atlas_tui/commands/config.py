"""`atlas-tui config`: every setting the workbench would use, its value and where it came from
(the default, the config file, an ATLAS_* variable or a flag). Takes the same flags as
`atlas-tui open`, so it shows what those flags would make."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from atlas_tui.commands.open import config_from_flags, settings_options
from atlas_tui.config import _LIMITS, _SCALARS, Config, config_path
from atlas_tui.knobs import LLM, PIPELINE_FIELDS, SECRET


def rows(config: Config) -> list[tuple[str, Any, str]]:
    """(dotted name, effective value, where it came from) for every setting."""
    def source(*names: str) -> str:
        return next((config.sources[n] for n in names if n in config.sources), "default")

    out: list[tuple[str, Any, str]] = []
    for name in _SCALARS:
        out.append((name, getattr(config, name), source(name)))
    for name in _LIMITS:
        out.append((f"limits.{name}", getattr(config.limits, name), source(f"limits.{name}")))
    for name, keys in sorted(config.keymap.items()):
        out.append((f"keymap.{name}", keys, source(f"keymap.{name}")))
    for name, (_, backends, _) in LLM.items():
        value = config.llm.get(name)
        if value is not None and name in SECRET:
            value = "***"
        used = config.backend_kind in backends
        where = source(f"llm.{name}") if name in config.llm else "default (the backend's)"
        if not used:
            where += f"; not used by {config.backend_kind}"
        out.append((f"llm.{name}", value, where))
    pipeline = config.pipeline_config()
    for name in PIPELINE_FIELDS:
        where = source(f"pipeline.{config.condition}.{name}", f"pipeline.{name}")
        if where == "default":
            where = f"default (condition {config.condition})"
        out.append((f"pipeline.{name}", getattr(pipeline, name), where))
    for condition, table in sorted(config.pipeline_by_condition.items()):
        if condition != config.condition:
            for name, value in table.items():
                out.append((f"pipeline.{condition}.{name}", value,
                            source(f"pipeline.{condition}.{name}")))
    return out


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    if dataclasses.is_dataclass(value) or isinstance(value, dict | tuple | list):
        return json.dumps(value, default=str)
    return "-" if value is None else str(value)


@click.command("config")
@settings_options
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
def config_cmd(config_file: Any, settings: tuple[str, ...], as_json: bool,
               **flags: Any) -> None:
    """Show every setting in effect and where it came from."""
    config = config_from_flags(config_file, settings, flags)
    found = rows(config)
    if as_json:
        click.echo(json.dumps({name: {"value": value, "source": where}
                               for name, value, where in found}, indent=1, default=str))
        return
    table = Table(title=f"atlas-tui settings (file: {config_file or config_path()})",
                  title_justify="left")
    for column in ("setting", "value", "from"):
        table.add_column(column, overflow="fold")
    for name, value, where in found:
        table.add_row(name, _shown(value), where,
                      style="bold" if not where.startswith("default") else None)
    Console().print(table)
