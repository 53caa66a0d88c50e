"""Config layers: defaults < TOML file < ATLAS_* environment < flags; bad values are clear
errors naming where they came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_tui.config import Config, ConfigError, load_config, write_default_config
from atlas_tui.keys import BINDING_IDS, unknown_ids, workbench_bindings


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_config(path=tmp_path / "none.toml", env={})
    assert config == Config()
    assert not config.has_model and config.condition == "full" and config.theme == "dark"


def test_each_layer_overrides_the_one_before(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", """
model = "/models/a.gguf"
condition = "B"
theme = "light"
auto_solve = true
[limits]
time_s = 2
[keymap]
solve = "ctrl+s"
quit = "q,ctrl+q"
""")
    from_file = load_config(path=path, env={})
    assert from_file.model == "/models/a.gguf" and from_file.condition == "B"
    assert from_file.limits.time_s == 2.0 and from_file.limits.memory_mb == 1024
    assert from_file.keymap == {"solve": "ctrl+s", "quit": "q,ctrl+q"} and from_file.auto_solve

    env = {"ATLAS_CONDITION": "D", "ATLAS_BASE_URL": "http://127.0.0.1:8080/v1",
           "ATLAS_AUTO_SOLVE": "no", "ATLAS_MEMORY_MB": "512", "ATLAS_KEY_SOLVE": "f5"}
    from_env = load_config(path=path, env=env)
    assert from_env.condition == "D" and from_env.base_url == "http://127.0.0.1:8080/v1"
    assert from_env.auto_solve is False and from_env.limits.memory_mb == 512
    assert from_env.keymap["solve"] == "f5" and from_env.keymap["quit"] == "q,ctrl+q"

    flags = {"condition": "full", "theme": None, "limits.time_s": 9.5, "model": ""}
    final = load_config(path=path, env=env, flags=flags)
    assert final.condition == "full" and final.theme == "light"  # None: flag not given
    assert final.limits.time_s == 9.5 and final.model is None  # "" clears the file's model
    assert final.has_model  # the base URL is enough


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("condition = 'Z'", {}, "condition 'Z'"),
        ("theme = 3", {}, "theme: expected str"),
        ("colour = 'red'", {}, "unknown setting 'colour'"),
        ("[limits]\ntime_s = -1", {}, "limits must be positive"),
        ("[limits]\ncpu = 1", {}, "unknown limit 'cpu'"),
        ("[keymap]\nsolve = 5", {}, "keymap.solve"),
        ("model = ", {}, "not valid TOML"),
        ("", {"ATLAS_AUTO_SOLVE": "maybe"}, "ATLAS_AUTO_SOLVE='maybe'"),
        ("", {"ATLAS_TIME_LIMIT": "fast"}, "ATLAS_TIME_LIMIT='fast'"),
    ],
)
def test_bad_settings_are_clear_errors(tmp_path: Path, text: str, env: dict[str, str],
                                       message: str) -> None:
    path = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_config(path=path, env=env)


def test_the_error_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "mine.toml", "backend = 'gpu'")
    with pytest.raises(ConfigError) as caught:
        load_config(path=path, env={})
    assert str(path) in str(caught.value) and "backend 'gpu'" in str(caught.value)


def test_atlas_config_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "other.toml", "theme = 'high-contrast'")
    monkeypatch.setenv("ATLAS_CONFIG", str(path))
    assert load_config(env={}).theme == "high-contrast"


def test_the_starting_file_is_valid_and_never_overwritten(tmp_path: Path) -> None:
    path = write_default_config(tmp_path / "cfg" / "config.toml")
    assert load_config(path=path, env={}) == Config()
    path.write_text("theme = 'light'\n")
    write_default_config(path)
    assert path.read_text() == "theme = 'light'\n"


def test_every_binding_has_a_unique_id_and_typos_are_found() -> None:
    bindings = workbench_bindings()
    assert [b.id for b in bindings] == list(BINDING_IDS)
    assert len(set(BINDING_IDS)) == len(BINDING_IDS)
    assert len({b.key for b in bindings}) == len(bindings)  # no two share a default key
    assert unknown_ids({"solve": "x", "sovle": "y"}) == ["sovle"]


def test_configured_limits_cap_each_problems_own(tmp_path: Path) -> None:
    from atlas_tui.app import create_app
    from atlas_tui.config import Limits
    from engine.problems.model import Limits as ProblemLimits
    from engine.problems.model import Problem, TestKind

    app = create_app(tmp_path, Config(limits=Limits(time_s=2.0, memory_mb=4096)))
    problem = Problem(id="p", title="p", statement="s", test_kind=TestKind.STDIN,
                      limits=ProblemLimits(time_s=6.0, memory_mb=256))
    capped = app.capped(problem)
    assert (capped.limits.time_s, capped.limits.memory_mb) == (2.0, 256)
    loose = app.capped(Problem(id="q", title="q", statement="s", test_kind=TestKind.STDIN,
                               limits=ProblemLimits(time_s=1.0, memory_mb=128)))
    assert (loose.limits.time_s, loose.limits.memory_mb) == (1.0, 128)


def test_gpu_memory_is_read_from_nvidia_smi_output() -> None:
    from atlas_tui import gpu

    assert gpu.parse("9120, 16376\n") == "8.9/16.0 GiB"
    assert gpu.parse("1024, 81559\n2048, 81559\n") == "3.0/159.3 GiB"  # summed over GPUs
    assert gpu.parse("") is None and gpu.parse("[N/A], [N/A]") is None


def test_the_open_command_refuses_a_bad_config_with_its_reason(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from atlas_tui.cli import main

    bad = write(tmp_path / "bad.toml", "condition = 'E'\n")
    folder = tmp_path / "problems"
    folder.mkdir()
    result = CliRunner().invoke(main, [str(folder), "--config", str(bad)])
    assert result.exit_code != 0
    assert "condition 'E'" in result.output and str(bad) in result.output
    result = CliRunner().invoke(main, [str(tmp_path / "nowhere")])
    assert result.exit_code != 0 and "does not exist" in result.output
