"""`atlas-tui bench`: clear refusals before any model is loaded, and a whole run on the real
tiny GGUF (its answers are noise: the run must finish, grade, report and resume)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from atlas_tui.cli import main
from engine.store import Store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _bench(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["bench", *args])
    return result.exit_code, result.output


def test_bad_arguments_are_refused_clearly(tmp_path: Path) -> None:
    out = str(tmp_path / "run.sqlite")
    code, text = _bench(str(tmp_path / "missing"), "--out", out)
    assert code == 2 and "does not exist" in text
    code, text = _bench(str(EXAMPLES), "--out", out, "--ids", "sum-of-two,nope")
    assert code == 1 and "no problem with id nope" in text
    code, text = _bench(str(EXAMPLES), "--out", out, "--set", "no_such_knob=3")
    assert code == 2 and "unknown pipeline knob" in text
    code, text = _bench(str(EXAMPLES), "--out", out, "--set", "k")
    assert code == 2 and "expected KEY=VALUE" in text
    not_a_store = tmp_path / "notes.sqlite"
    not_a_store.write_text("not a database" * 200)
    code, text = _bench(str(EXAMPLES), "--out", str(not_a_store))
    assert code == 1 and "not a usable atlas-tui store" in text


def test_date_windows_are_checked_before_any_model_loads(tmp_path: Path) -> None:
    out = str(tmp_path / "run.sqlite")
    code, text = _bench(str(EXAMPLES), "--out", out, "--since", "2024-13-01")
    assert code == 2 and "is not a date" in text
    code, text = _bench(str(EXAMPLES), "--out", out, "--since", "2024-08-01", "--until",
                        "2024-07-01")
    assert code == 2 and "is after --until" in text
    # The examples carry no dates: a window leaves none of them, and says why.
    code, text = _bench(str(EXAMPLES), "--out", out, "--since", "2024-08-01")
    assert code == 1 and "without a date" in text and "is dated within 2024-08-01" in text


def test_a_file_holding_a_run_needs_resume_before_any_model_loads(tmp_path: Path) -> None:
    out = tmp_path / "run.sqlite"
    with Store(out) as store:
        store.new_session("bench", "earlier")
    code, text = _bench(str(EXAMPLES), "--out", str(out), "--model", "/nonexistent.gguf")
    assert code == 1 and "already holds a run" in text and "--resume" in text


@pytest.mark.slow
def test_a_whole_run_on_the_tiny_gguf_grades_reports_and_resumes(tiny_gguf: Path,
                                                                  tmp_path: Path) -> None:
    out, report = tmp_path / "run.sqlite", tmp_path / "report.json"
    args = [str(EXAMPLES), "--out", str(out), "--condition", "A", "--model", str(tiny_gguf),
            "--set", "max_tokens=64", "--json", str(report)]
    code, text = _bench(*args)
    assert code == 0, text
    data = json.loads(report.read_text())
    assert data["n_problems"] == 3 and data["n_finished"] == 3
    assert data["strict_pass_at_1"] == 0.0  # a random-weights model solves nothing
    assert "ceiling" in data["oracle_label"] and "strict pass@1: 0/3" in text
    with Store(out, readonly=True) as store:
        tasks = store.tasks()
        assert len(tasks) == 3 and all(t.finished and t.verdict for t in tasks)
        assert all(store.state(t.task_id).graded is not None for t in tasks)

    code, text = _bench(*args, "--resume")
    assert code == 0, text
    assert "3 problem(s) finished earlier were not redone" in text
    with Store(out, readonly=True) as store:
        assert [t.task_id for t in store.tasks()] == [t.task_id for t in tasks]


@pytest.mark.parametrize("command", ["bench", "solve"])
def test_a_backend_setting_reaches_the_model_from_the_flag_the_environment_and_the_file(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`--set llm.n_ctx=...` (as the out-of-memory advice says), ATLAS_LLM__N_CTX and [llm] in
    the settings file each reach the backend `bench` and `solve` open; a flag wins."""
    from engine.llm import resolve
    from engine.llm.base import BackendError

    opened: list[dict[str, object]] = []

    def open_backend(model: object, base_url: object, **knobs: object) -> None:
        opened.append(knobs)
        raise BackendError("stop here")  # the settings are what is checked

    monkeypatch.setattr(resolve, "open_backend", open_backend)
    monkeypatch.delenv("ATLAS_LLM__N_CTX", raising=False)
    config = tmp_path / "config.toml"
    config.write_text("[llm]\nn_ctx = 1024\nn_threads = 1\n")
    monkeypatch.setenv("ATLAS_CONFIG", str(config))
    args = {"bench": ["bench", str(EXAMPLES), "--out", str(tmp_path / "r.sqlite")],
            "solve": ["solve", str(EXAMPLES / "sum-of-two.md"),
                      "--store", str(tmp_path / "s.sqlite")]}[command]
    model = ["--model", str(tmp_path / "m.gguf")]
    for extra, env, expected in (([], None, 1024), ([], "2048", 2048),
                                 (["--set", "llm.n_ctx=4096"], "2048", 4096)):
        if env is not None:
            monkeypatch.setenv("ATLAS_LLM__N_CTX", env)
        result = CliRunner().invoke(main, [*args, *model, *extra])
        assert result.exit_code == 1 and "stop here" in result.output, result.output
        assert opened[-1]["n_ctx"] == expected and opened[-1]["n_threads"] == 1
