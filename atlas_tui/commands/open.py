"""`atlas-tui open PROBLEM_DIR` (also plain `atlas-tui PROBLEM_DIR`): the workbench. Its
settings flags are shared with `atlas-tui config`, which shows what they make."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from atlas_tui.config import (
    BACKENDS,
    CONDITIONS,
    THEMES,
    Config,
    ConfigError,
    config_path,
    load_config,
)
from atlas_tui.knobs import PIPELINE_FIELDS, parse_text

_OPTIONS = (
    click.option("--model", "-m", help="A catalogue name (atlas-tui models list), a GGUF file, "
                 "or a Hugging Face repo id with its file (owner/repo:file.gguf). Default: the "
                 "default catalogue model, when it is here."),
    click.option("--base-url", help="An OpenAI-compatible server, e.g. "
                 "http://127.0.0.1:8080/v1."),
    click.option("--backend", type=click.Choice(BACKENDS), help="Which backend runs the model."),
    click.option("--condition", "-c", type=click.Choice(CONDITIONS), help="Pipeline condition."),
    click.option("--theme", type=click.Choice(THEMES), help="Colour theme."),
    click.option("--auto-solve/--no-auto-solve", default=None,
                 help="Solve problems as they appear."),
    click.option("--step-mode/--no-step-mode", default=None, help="Pause before every step."),
    click.option("--output-dir", type=click.Path(file_okay=False),
                 help="Write accepted answers here instead of next to each problem."),
    click.option("--time-limit", type=float, help="Seconds per test."),
    click.option("--memory-mb", type=int, help="Memory per test, MB."),
    click.option("--store", type=click.Path(dir_okay=False),
                 help="Session store (default PROBLEM_DIR/.atlas/sessions.sqlite)."),
    click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
                 help="Config file (default: the user config directory; or ATLAS_CONFIG)."),
    click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
                 help="Any setting by its dotted name, e.g. --set llm.n_ctx=4096 --set "
                 "pipeline.k=3 --set pipeline.D.repair_iterations=1 (repeatable; `atlas-tui "
                 "config` lists them)."),
)
# flag -> the dotted setting it gives
_FLAGS = {"model": "model", "base_url": "base_url", "backend": "backend",
          "condition": "condition", "theme": "theme", "auto_solve": "auto_solve",
          "step_mode": "step_mode", "output_dir": "output_dir", "store": "store",
          "time_limit": "limits.time_s", "memory_mb": "limits.memory_mb"}


def settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def set_flags(settings: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`--set KEY=VALUE` flags: settings by their dotted name (llm.n_ctx, pipeline.D.k,
    limits.time_s), and bare pipeline knobs (k, seed), which are the running condition's."""
    flat: dict[str, Any] = {}
    bare: dict[str, Any] = {}
    for setting in settings:
        name, sep, raw = setting.partition("=")
        name = name.strip()
        if not sep or not name:
            raise click.BadParameter(f"{setting!r}: expected KEY=VALUE", param_hint="--set")
        if "." not in name:
            if name.replace("-", "_") not in PIPELINE_FIELDS:
                raise click.BadParameter(
                    f"{setting!r}: unknown pipeline knob {name!r}; a knob is one of "
                    f"{', '.join(sorted(PIPELINE_FIELDS))}, and other settings go by their "
                    "dotted name (llm.n_ctx; `atlas-tui config` lists them)", param_hint="--set")
            bare[name.replace("-", "_")] = parse_text(raw)
        else:
            flat[name] = parse_text(raw)
    return flat, bare


def config_from_flags(config_file: Path | None, settings: tuple[str, ...],
                      flags: dict[str, Any]) -> Config:
    """The layered config with these flags on top; a bad one is a click error naming it."""
    flat: dict[str, Any] = {_FLAGS[name]: value for name, value in flags.items()}
    dotted, bare = set_flags(settings)
    flat.update(dotted)
    try:
        config = load_config(path=config_file, flags=flat)
        if not bare:
            return config
        # a bare knob is the running condition's, so it wins over that condition's own table
        flat.update({f"pipeline.{config.condition}.{k}": v for k, v in bare.items()})
        return load_config(path=config_file, flags=flat)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("open")
@click.argument("problem_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
                default=".")
@settings_options
def open_cmd(problem_dir: Path, config_file: Path | None, settings: tuple[str, ...],
             **flags: Any) -> None:
    """Open the workbench on PROBLEM_DIR: browse, watch and solve its problems."""
    config = config_from_flags(config_file, settings, flags)
    if not config.has_model:
        from engine.models.pull import default_if_here

        if default := default_if_here():
            config = config.replace(model=default)
    from atlas_tui.app import create_app  # Textual loads only when the app is opened

    create_app(problem_dir, config, config_file=config_file or config_path()).run()
