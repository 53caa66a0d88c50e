"""The `atlas-tui` command line: one click group; each subcommand lives in its own module
under atlas_tui/commands and is imported only when used, so `atlas-tui --help` stays fast."""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute"; a command module owns its options and help text.
COMMANDS: dict[str, str] = {
    "open": "atlas_tui.commands.open:open_cmd",
    "grade": "atlas_tui.commands.grade:grade_cmd",
    "doctor": "atlas_tui.commands.doctor:doctor_cmd",
    "solve": "atlas_tui.commands.solve:solve_cmd",
    "lens": "atlas_tui.commands.lens:lens_group",
    "bench": "atlas_tui.commands.bench:bench_group",
    "models": "atlas_tui.commands.models:models_group",
    "config": "atlas_tui.commands.config:config_cmd",
}


class AtlasGroup(click.Group):
    """Lazily loaded subcommands; a first argument that is not a command opens the workbench
    on it (`atlas-tui PROBLEM_DIR` is `atlas-tui open PROBLEM_DIR`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None  # not built yet
            raise
        return getattr(module, attr)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in COMMANDS and not args[0].startswith("-"):
            args = ["open", *args]
        return super().resolve_command(ctx, args)


@click.group(cls=AtlasGroup, invoke_without_command=True)
@click.version_option(package_name="atlas-tui")
@click.pass_context
def main(ctx: click.Context) -> None:
    """atlas-tui: a verified solver for coding problems on a frozen local LLM.

    Run `atlas-tui PROBLEM_DIR` to open the workbench on a folder of problems.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
