"""`atlas-tui open PROBLEM_DIR` (also plain `atlas-tui PROBLEM_DIR`): the workbench."""

from __future__ import annotations

from pathlib import Path

import click

from atlas_tui.config import BACKENDS, CONDITIONS, THEMES, ConfigError, config_path, load_config


@click.command("open")
@click.argument("problem_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
                default=".")
@click.option("--model", "-m", help="A catalogue name (atlas-tui models list), a GGUF file, or "
              "a Hugging Face repo id with its file (owner/repo:file.gguf). Default: the "
              "default catalogue model, when it is here.")
@click.option("--base-url", help="An OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1.")
@click.option("--backend", type=click.Choice(BACKENDS), help="Which backend runs the model.")
@click.option("--condition", "-c", type=click.Choice(CONDITIONS), help="Pipeline condition.")
@click.option("--theme", type=click.Choice(THEMES), help="Colour theme.")
@click.option("--auto-solve/--no-auto-solve", default=None, help="Solve problems as they appear.")
@click.option("--step-mode/--no-step-mode", default=None, help="Pause before every step.")
@click.option("--output-dir", type=click.Path(file_okay=False),
              help="Write accepted answers here instead of next to each problem.")
@click.option("--time-limit", type=float, help="Seconds per test.")
@click.option("--memory-mb", type=int, help="Memory per test, MB.")
@click.option("--store", type=click.Path(dir_okay=False),
              help="Session store (default PROBLEM_DIR/.atlas/sessions.sqlite).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Config file (default: the user config directory; or ATLAS_CONFIG).")
def open_cmd(problem_dir: Path, config_file: Path | None, **flags: object) -> None:
    """Open the workbench on PROBLEM_DIR: browse, watch and solve its problems."""
    flat = {
        "model": flags["model"],
        "base_url": flags["base_url"],
        "backend": flags["backend"],
        "condition": flags["condition"],
        "theme": flags["theme"],
        "auto_solve": flags["auto_solve"],
        "step_mode": flags["step_mode"],
        "output_dir": flags["output_dir"],
        "store": flags["store"],
        "limits.time_s": flags["time_limit"],
        "limits.memory_mb": flags["memory_mb"],
    }
    try:
        config = load_config(path=config_file, flags=flat)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if not config.has_model:
        from engine.models.pull import default_if_here

        if default := default_if_here():
            config = config.replace(model=default)
    from atlas_tui.app import create_app  # Textual loads only when the app is opened

    create_app(problem_dir, config, config_file=config_file or config_path()).run()
