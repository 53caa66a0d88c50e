"""The real-model tier: the default catalogue model (Qwen2.5-Coder-0.5B-Instruct Q4_K_M), run
in-process, on the project's own examples. What is checked holds for any sane run of that
model, never an exact text. Skipped with the reason where the model is absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from atlas_tui.cli import main
from engine.models.catalogue import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.real_model, pytest.mark.slow]


def test_condition_a_answers_sum_of_two_correctly(
    real_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One answer from the model (condition A: the probe alone), through the solve command by
    its catalogue name: the real sandbox runs it on the examples, the grader on the hidden
    tests."""
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    result = CliRunner().invoke(main, [
        "solve", str(ROOT / "examples" / "sum-of-two.md"), "--condition", "A",
        "--model", DEFAULT_MODEL, "--store", str(tmp_path / "s.sqlite"),
        "--answer", str(tmp_path / "answer.py"), "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output[result.output.index("{"):])
    assert answer["status"] != "error" and not answer["errors"], answer
    assert answer["answer"].strip() and answer["phase"] == "probe"
    assert answer["examples"] == {"verdict": "AC", "passed": 2, "total": 2}
    graded = answer["graded"]
    assert graded["verdict"] == "AC" and graded["passed"] == graded["total"] > 2
    assert graded["hidden_tests"]
    assert answer["tokens"]["completion"] > 0
