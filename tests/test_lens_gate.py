"""The gate that keeps a Lens out of decisions unless it beat both baselines on held-out
problems (engine.lens.gate), as the scorer, `lens_for` and `lens info` apply it."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from support.lens_figures import BEATS

from engine.lens.artifact import LensArtifact
from engine.lens.gate import ranking_gate
from engine.lens.interface import EnergyScore, NeutralLens
from engine.lens.paths import default_artifact_path
from engine.lens.scorer import GeometricLens, lens_for
from engine.lens.synthetic import planted
from engine.lens.train import TrainConfig, train

torch.set_num_threads(1)



@pytest.fixture(scope="module")
def trained() -> LensArtifact:
    data = planted(problems=40, per_problem=8, dim=16, signal=3.0, seed=0)
    return train(data, TrainConfig(hidden=32, epochs=20, seed=0))


def test_the_gate_needs_both_figures_above_both_baselines() -> None:
    assert ranking_gate(BEATS).decides
    assert "beat random and shortest code" in ranking_gate(BEATS).reason
    missing = ranking_gate({"auroc": 0.9, "selection_accuracy": 0.9})
    assert not missing.decides and "shortest_auroc" in missing.reason
    for key, value in (
        ("shortest_selection_accuracy", 0.7),  # a tie is not a win
        ("random_selection_accuracy", 0.75),
        ("shortest_auroc", 0.81),
        ("auroc", math.nan),
        ("selection_accuracy", math.nan),  # no mixed problem: never measured
    ):
        verdict = ranking_gate({**BEATS, key: value})
        assert not verdict.decides, key
        assert "shown but does not rank" in verdict.reason


def test_training_stores_the_baselines_beside_the_lens(trained: LensArtifact) -> None:
    heldout = trained.record.heldout
    assert heldout["random_auroc"] == 0.5
    for key in ("shortest_auroc", "random_selection_accuracy", "shortest_selection_accuracy"):
        assert 0.0 <= heldout[key] <= 1.0
    # a strong planted signal beats both on its calibration problems
    assert GeometricLens(trained).decides


def test_a_lens_that_did_not_beat_the_baselines_is_shown_only(trained: LensArtifact) -> None:
    losing = {**BEATS, "selection_accuracy": 0.55}
    lens = GeometricLens(replace(trained, record=replace(trained.record, heldout=losing)))
    assert lens.trained and not lens.decides
    assert lens.name.endswith("(shown only)")
    assert "selection_accuracy 0.550 <= shortest 0.600" in lens.gate.reason
    sure, unsure = EnergyScore(0.1, 0.99), EnergyScore(3.0, 0.01)
    assert lens.suggest_k(sure, 8) == 8 and lens.suggest_k(unsure, 8) == 8
    from engine.llm.base import BudgetTier

    assert lens.suggest_tier(unsure, BudgetTier.STANDARD) is BudgetTier.STANDARD
    # it still scores: the energies are shown
    assert len(lens.score([[0.0] * trained.spec.dim] * 2, trained.spec.model)) == 2
    winning = GeometricLens(replace(trained, record=replace(trained.record, heldout=BEATS)))
    assert winning.decides and not winning.name.endswith("(shown only)")
    assert winning.suggest_k(sure, 8) == 4


def test_the_neutral_lens_never_decides() -> None:
    assert NeutralLens().decides is False


def test_an_artifact_at_the_default_place_decides_only_after_beating_the_baselines(
    trained: LensArtifact, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    model = trained.spec.model
    assert isinstance(lens_for(model), NeutralLens)  # nothing there: neutral
    path = default_artifact_path(model)
    replace(trained, record=replace(trained.record, heldout={"auroc": 0.9})).save(path)
    lens = lens_for(model)
    assert isinstance(lens, GeometricLens) and lens.trained and not lens.decides
    replace(trained, record=replace(trained.record, heldout=BEATS)).save(path)
    assert lens_for(model).decides


def test_lens_info_says_whether_the_lens_ranks(trained: LensArtifact, tmp_path: Path) -> None:
    from atlas_tui.commands.lens import lens_group

    losing = replace(trained, record=replace(trained.record, heldout={"auroc": 0.9}))
    path = losing.save(tmp_path / "losing.lens")
    result = CliRunner().invoke(lens_group, ["info", str(path)])
    assert result.exit_code == 0, result.output
    assert "decisions" in result.output and "off" in result.output
    path = replace(trained, record=replace(trained.record, heldout=BEATS)).save(
        tmp_path / "winning.lens"
    )
    result = CliRunner().invoke(lens_group, ["info", str(path)])
    assert "on (on held-out problems it beat" in " ".join(result.output.split())


def test_doctor_says_whether_the_models_lens_decides(
    trained: LensArtifact, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from atlas_tui.commands.doctor import _lens_model, lens_row

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    model = trained.spec.model
    assert "none trained: neutral" in lens_row(model).value
    path = default_artifact_path(model)
    replace(trained, record=replace(trained.record, heldout={"auroc": 0.9})).save(path)
    row = lens_row(model)
    assert row.ok and "shown only, ignored in decisions" in row.value
    replace(trained, record=replace(trained.record, heldout=BEATS)).save(path)
    assert "ranks and sets k/tier" in lens_row(model).value
    path.write_bytes(b"not a lens")
    assert not lens_row(model).ok
    assert _lens_model(None) == "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    assert _lens_model("/models/Other.gguf") == "Other.gguf"
