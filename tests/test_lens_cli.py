"""`atlas-tui lens export|train|eval|info` through the real command line entry point."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner, Result

from atlas_tui.cli import main
from engine.lens.artifact import LensArtifact
from engine.lens.synthetic import planted

torch.set_num_threads(1)


def _text(result: Result) -> str:
    """The output with line wrapping undone (rich wraps at the terminal's width)."""
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lens") / "data.npz"
    return planted(problems=60, per_problem=6, dim=16, signal=2.5, seed=4).save(path)


def test_train_then_eval_then_info(data_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    artifact = tmp_path / "lens.lens"
    trained = runner.invoke(
        main,
        [
            "lens",
            "train",
            str(data_file),
            "-o",
            str(artifact),
            "--epochs",
            "8",
            "--hidden",
            "32",
            "--holdout",
            "0.25",
            "--threads",
            "1",
        ],
    )
    assert trained.exit_code == 0, _text(trained)
    assert "wrote" in _text(trained) and "Held-out problems (15" in _text(trained)
    assert "shortest code" in _text(trained)

    evaluated = runner.invoke(main, ["lens", "eval", str(artifact), str(data_file)])
    assert evaluated.exit_code == 0, _text(evaluated)
    # only the 15 held-out problems: the 45 trained on are left out and said so
    assert "of 15 problems" in _text(evaluated) and "45 problems left out" in _text(evaluated)
    assert "shortest code" in _text(evaluated) and "Brier" in _text(evaluated)
    assert "pass: " in _text(evaluated)

    info = runner.invoke(main, ["lens", "info", str(artifact)])
    assert info.exit_code == 0, _text(info)
    assert "synthetic.gguf" in _text(info) and "16 dims, mean pooling" in _text(info)
    assert LensArtifact.load(artifact).record.label_source == "hidden"


def test_clear_errors_for_bad_input(data_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "lens",
            "train",
            str(data_file),
            "-o",
            str(tmp_path / "x"),
            "--labels",
            "public",
            "--epochs",
            "1",
        ],
    )
    assert result.exit_code != 0 and "0 passing and 0 failing" in _text(result)
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database")
    result = runner.invoke(main, ["lens", "export", str(junk), "-o", str(tmp_path / "d.npz")])
    assert result.exit_code != 0 and "junk.sqlite" in _text(result)
    assert "Traceback" not in _text(result)
    result = runner.invoke(main, ["lens", "info", str(tmp_path / "none.lens")])
    assert result.exit_code != 0 and "no Lens artifact" in _text(result)
