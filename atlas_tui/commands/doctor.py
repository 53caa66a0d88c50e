"""`atlas-tui doctor`: what this machine offers: the sandbox's isolation tier and a live check,
Python, and the model side (llama.cpp build, GPUs; a model or server when named)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import click

from engine.sandbox.doctor import SandboxFact, live_check, static_facts


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    value: str
    ok: bool = True
    hint: str = ""


def render(title: str, rows: list[Row]) -> str:
    """One fact a line, failures marked with what to try."""
    width = max((len(r.name) for r in rows), default=0)
    lines = [title]
    for row in rows:
        mark = "ok  " if row.ok else "FAIL"
        lines.append(f"  {mark} {row.name:<{width}}  {row.value}")
        if row.hint:
            lines.append(f"       {'':<{width}}  try: {row.hint}")
    return "\n".join(lines)


def catalogue_rows() -> list[Row]:
    """Which catalogue models are here, by their stamps (no model file is read)."""
    from engine.models import catalogue
    from engine.models.cache import ModelCache

    cache = ModelCache.default()
    rows = []
    for entry in catalogue.CATALOGUE:
        state = cache.state(entry)
        where = f" at {cache.path(entry)}" if state in ("verified", "unverified") else ""
        hint = ""
        if state != "verified":
            hint = f"atlas-tui models pull {entry.name} ({entry.size / 1e6:.0f} MB)"
            if entry.name != catalogue.DEFAULT_MODEL and state == "absent":
                hint = ""  # only the default model is expected on every machine
        rows.append(Row(f"model {entry.name}", f"{state}{where}", hint=hint))
    return rows


def lens_row(model: str) -> Row:
    """Whether a trained Lens is there for `model` and whether it may take part in decisions
    (engine.lens.gate); torch is imported only when an artifact is there to read."""
    from engine.lens.paths import default_artifact_path

    path = default_artifact_path(model)
    if not path.is_file():
        return Row(f"lens {model}", "none trained: neutral (equal energies, no effect on choices)")
    try:
        from engine.lens.scorer import GeometricLens

        lens = GeometricLens.load(path)
    except Exception as exc:  # a broken artifact: the solve would refuse it too
        return Row(f"lens {model}", f"unreadable at {path}: {exc}", ok=False,
                   hint=f"atlas-tui lens train ... -o {path}")
    use = "ranks and sets k/tier" if lens.decides else "shown only, ignored in decisions"
    return Row(f"lens {model}", f"{use} ({lens.gate.reason}) at {path}")


def _lens_model(model: str | None) -> str:
    """The name a backend gives `model` (a catalogue entry's file name, else the path's)."""
    from engine.models import catalogue

    wanted = model or catalogue.DEFAULT_MODEL
    entry = catalogue.find(wanted) or catalogue.for_model_file(wanted)
    return entry.file_name if entry is not None else (Path(wanted).name or wanted)


def _rows(facts: list[SandboxFact] | list) -> list[Row]:
    return [Row(f.name, f.value, f.ok, f.hint) for f in facts]


async def sandbox_rows(allow_rlimits_only: bool) -> list[Row]:
    return _rows(static_facts()) + _rows(await live_check(allow_rlimits_only))


async def model_rows(model: str | None, base_url: str | None) -> list[Row]:
    """The model side comes from engine.llm.doctor (engineer "llamacpp"); this is the one place
    that calls it."""
    try:
        from engine.llm import doctor as llm_doctor
    except ImportError as exc:
        return [Row("model side", f"unavailable: {exc}", ok=False)]
    facts = list(llm_doctor.build_facts())
    present = catalogue_rows()
    if model and not base_url:  # with --base-url, --model names the server's model
        facts += await llm_doctor.model_facts(model)
    if base_url:
        facts += await llm_doctor.server_facts(base_url, model=model)
    lens = [lens_row(name)] if (name := _lens_model(model)) else []
    return [*present, *_rows(facts), *lens]


@click.command("doctor")
@click.option("--model", default=None,
              help="Also load this model (catalogue name, GGUF path or Hugging Face repo id).")
@click.option("--base-url", default=None, help="Also probe this OpenAI-compatible server.")
@click.option(
    "--allow-rlimits-only",
    is_flag=True,
    help="Run the sandbox check even without bubblewrap or unshare isolation.",
)
def doctor_cmd(model: str | None, base_url: str | None, allow_rlimits_only: bool) -> None:
    """Show what this machine offers: sandbox isolation, Python, llama.cpp build, GPUs."""

    async def gather() -> tuple[list[Row], list[Row]]:
        return await sandbox_rows(allow_rlimits_only), await model_rows(model, base_url)

    sandbox, model_side = asyncio.run(gather())
    click.echo(render("Sandbox", sandbox))
    click.echo(render("Model", model_side))
    if not all(row.ok for row in [*sandbox, *model_side]):
        raise SystemExit(1)
