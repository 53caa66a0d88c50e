"""`atlas-tui solve`: one problem solved headless, its answer written, its log stored, the result
as JSON. In process (click's runner) with a scripted model for a deterministic solve, and as a
real subprocess on the tiny GGUF through llama.cpp."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.pipeline_scenarios import PROBE, fenced

from atlas_tui.cli import main
from engine import events as ev
from engine.llm.scripted import ScriptedBackend
from engine.store import Store

PROBLEM_MD = """---
id: sum-two
---
# Sum of two
Read two integers a and b on one line and print a + b.

## Example
Input
```
1 2
```
Output
```
3
```
"""
HIDDEN = [{"input": "5 7\n", "output": "12\n"}, {"input": "-3 3\n", "output": "0\n"}]
RIGHT = "a, b = map(int, input().split())\nprint(a + b)\n"


@pytest.fixture
def problem_dir(tmp_path: Path) -> Path:
    (tmp_path / "sum-two.md").write_text(PROBLEM_MD)
    (tmp_path / "sum-two.tests.jsonl").write_text("\n".join(json.dumps(t) for t in HIDDEN))
    return tmp_path


@pytest.fixture
def scripted_model(monkeypatch: pytest.MonkeyPatch) -> ScriptedBackend:
    backend = ScriptedBackend({PROBE: fenced(RIGHT)})
    monkeypatch.setattr("engine.llm.resolve.open_backend", lambda model, base_url: backend)
    return backend


def test_solve_writes_the_answer_stores_the_log_and_reports_json(
    problem_dir: Path, scripted_model: ScriptedBackend
) -> None:
    result = CliRunner().invoke(
        main,
        ["solve", str(problem_dir / "sum-two.md"), "--condition", "A", "--model", "x", "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["problem"] == "sum-two" and report["condition"] == "A"
    assert report["status"] == "submitted" and report["phase"] == "probe"
    assert report["answer"] == RIGHT
    assert report["examples"] == {"verdict": "AC", "passed": 1, "total": 1}
    assert report["graded"]["verdict"] == "AC" and report["graded"]["hidden_tests"] is True
    assert report["graded"]["total"] == 3  # the example and the two hidden tests
    assert report["tokens"]["completion"] > 0 and report["errors"] == []
    answer_file = Path(report["answer_file"])
    assert answer_file == problem_dir / ".atlas" / "answers" / "sum-two.py"
    assert answer_file.read_text() == RIGHT
    store_path = Path(report["log"]["store"])
    assert store_path == problem_dir / ".atlas" / "sessions.sqlite"
    with Store(store_path, readonly=True) as store:
        events = store.events(report["log"]["task_id"])
    assert len(events) == report["log"]["events"]
    assert isinstance(events[0], ev.TaskStarted) and isinstance(events[-1], ev.TaskFinished)
    assert scripted_model.closed


def test_solve_takes_knobs_and_says_what_is_wrong(
    problem_dir: Path, scripted_model: ScriptedBackend, tmp_path: Path
) -> None:
    runner = CliRunner()
    target = str(problem_dir / "sum-two.md")
    answer = tmp_path / "out" / "answer.py"
    ok = runner.invoke(main, ["solve", target, "--condition", "B", "--set", "k=0",
                              "--set", "token_batch=2", "--answer", str(answer), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["candidates"] == 1 and answer.read_text() == RIGHT

    bad_knob = runner.invoke(main, ["solve", target, "--set", "no_such=1"])
    assert bad_knob.exit_code == 2 and "unknown pipeline knob 'no_such'" in bad_knob.output
    no_id = runner.invoke(main, ["solve", target, "--id", "nope"])
    assert no_id.exit_code == 1 and "no problem with id 'nope'" in no_id.output


def test_a_dataset_needs_an_id(shared_data: Path, scripted_model: ScriptedBackend) -> None:
    dataset = shared_data / "mbpp" / "sanitized-mbpp.json.gz"
    result = CliRunner().invoke(main, ["solve", str(dataset)])
    assert result.exit_code == 1 and "pick one with --id" in result.output


@pytest.mark.slow
def test_solve_as_a_real_process_on_the_tiny_gguf(problem_dir: Path, tiny_gguf: Path) -> None:
    """A real model (noise answers) in a real process: a clean finish and a graded failure."""
    cli = Path(sys.executable).with_name("atlas-tui")
    run = subprocess.run(
        [str(cli), "solve", str(problem_dir / "sum-two.md"), "--model", str(tiny_gguf),
         "--condition", "A", "--set", "max_tokens=32", "--json"],
        capture_output=True, text=True, timeout=240,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["status"] in ("submitted", "no_answer")
    assert report["graded"]["verdict"] != "AC"
    assert 0 < report["tokens"]["completion"] <= 32
    assert Path(report["answer_file"]).exists()
    with Store(Path(report["log"]["store"]), readonly=True) as store:
        assert len(store.events(report["log"]["task_id"])) == report["log"]["events"]


def test_solve_uses_a_lens_and_refuses_one_it_cannot(
    problem_dir: Path, scripted_model: ScriptedBackend, tmp_path: Path
) -> None:
    """--lens: a trained artifact of this model scores every candidate; another model's
    artifact or a file that is no artifact is a clear error before anything runs."""
    from engine.lens.synthetic import planted
    from engine.lens.train import TrainConfig, train

    target = str(problem_dir / "sum-two.md")
    dim = scripted_model.info.embedding_size or 64
    own = train(planted(problems=6, dim=dim, model=scripted_model.info.model),
                TrainConfig(hidden=8, epochs=1)).save(tmp_path / "own.pt")
    used = CliRunner().invoke(main, ["solve", target, "--condition", "full", "--lens", str(own),
                                     "--set", "early_exit=false", "--json"])
    assert used.exit_code == 0, used.output
    with Store(Path(json.loads(used.stdout)["log"]["store"]), readonly=True) as store:
        events = store.events(json.loads(used.stdout)["log"]["task_id"])
    scored = [e for e in events if isinstance(e, ev.EnergyScored)]
    assert scored and all(e.lens != "neutral" and e.pass_probability is not None for e in scored)

    foreign = train(planted(problems=6, dim=dim, model="qwen3-14b.gguf"),
                    TrainConfig(hidden=8, epochs=1)).save(tmp_path / "foreign.pt")
    refused = CliRunner().invoke(main, ["solve", target, "--lens", str(foreign)])
    assert refused.exit_code == 1 and "cannot use the Lens" in refused.output
    assert "qwen3-14b.gguf" in refused.output
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a lens")
    broken = CliRunner().invoke(main, ["solve", target, "--lens", str(garbage)])
    assert broken.exit_code == 1 and "cannot use the Lens" in broken.output


def test_solve_uses_the_workbench_settings_under_its_own_flags(
    problem_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[llm] knobs reach the backend and [pipeline] knobs the pipeline (TaskStarted's config);
    a --set flag wins over the file."""
    opened: list[dict[str, object]] = []
    backend = ScriptedBackend({PROBE: fenced(RIGHT)})

    def open_backend(model: str | None, base_url: str | None, **knobs: object) -> object:
        opened.append({"model": model, **knobs})
        return backend

    monkeypatch.setattr("engine.llm.resolve.open_backend", open_backend)
    settings = tmp_path / "settings.toml"
    settings.write_text('model = "from-file"\n[llm]\nn_ctx = 2048\n'
                        "[pipeline.A]\nprobe_temperature = 0.25\nseed = 7\n")
    monkeypatch.setenv("ATLAS_CONFIG", str(settings))
    store = tmp_path / "s.sqlite"
    result = CliRunner().invoke(main, ["solve", str(problem_dir / "sum-two.md"), "--condition",
                                       "A", "--set", "seed=11", "--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    assert opened == [{"model": "from-file", "n_ctx": 2048}]
    with Store(store) as log:
        task_id = json.loads(result.stdout)["log"]["task_id"]
        started = next(e for e in log.events(task_id) if isinstance(e, ev.TaskStarted))
    config = json.loads(started.config)
    assert config["probe_temperature"] == 0.25 and config["seed"] == 11
