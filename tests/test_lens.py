"""The Geometric Lens on synthetic embeddings with a known signal: training, calibration,
evaluation, artifacts, model checks, adaptive k/tier and online recalibration."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from support.lens_figures import BEATS

from engine.lens.artifact import LensArtifact, LensArtifactError, LensMismatchError
from engine.lens.calibration import Platt
from engine.lens.dataset import LensDataError, LensDataset
from engine.lens.evaluate import evaluate
from engine.lens.features import FeatureSpec, model_key
from engine.lens.interface import EnergyScore, EnergyScorer, NeutralLens
from engine.lens.metrics import (
    auroc,
    auroc_within_problems,
    expected_calibration_error,
    selection_accuracy,
)
from engine.lens.online import OnlineRecalibrator, RecalibrationGuard
from engine.lens.report import energy_histogram
from engine.lens.scorer import GeometricLens, lens_for
from engine.lens.synthetic import planted, shuffled
from engine.lens.train import TrainConfig, split_problems, train
from engine.llm.base import BudgetTier

torch.set_num_threads(1)

QUICK = TrainConfig(hidden=64, epochs=20, seed=0)


def _train_and_evaluate(data: LensDataset, seed: int = 0):
    fit, _ = split_problems(data.problems(), 0.3, seed)
    artifact = train(data.of_problems(fit), replace(QUICK, seed=seed))
    return artifact, evaluate(artifact, data)


@pytest.fixture(scope="module")
def planted_data() -> LensDataset:
    return planted(problems=100, per_problem=8, dim=32, signal=2.0, seed=0)


@pytest.fixture(scope="module")
def trained(planted_data: LensDataset) -> LensArtifact:
    fit, _ = split_problems(planted_data.problems(), 0.3, 0)
    return train(planted_data.of_problems(fit), QUICK)


# --- learning ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_a_planted_signal_is_recovered_on_problems_never_trained_on(seed: int) -> None:
    data = planted(problems=100, per_problem=8, dim=32, signal=2.0, seed=seed)
    _, report = _train_and_evaluate(data, seed)
    assert report.excluded_problems == 70 and report.problems == 30
    assert report.lens.auroc > 0.7
    assert report.lens.auroc_within > 0.8
    assert report.lens.selection_accuracy > report.random.selection_accuracy + 0.2
    assert report.lens.selection_accuracy > report.shortest.selection_accuracy + 0.2
    assert report.lens.ece < 0.2


@pytest.mark.parametrize("seed", [0, 1])
def test_shuffled_labels_leave_the_lens_at_chance(seed: int) -> None:
    data = shuffled(planted(problems=100, per_problem=8, dim=32, signal=2.0, seed=seed), seed)
    _, report = _train_and_evaluate(data, seed)
    assert abs(report.lens.auroc - 0.5) < 0.1
    assert abs(report.lens.auroc_within - 0.5) < 0.12
    assert abs(report.lens.selection_accuracy - report.random.selection_accuracy) < 0.2


def test_training_is_reproducible_with_a_seed(planted_data: LensDataset) -> None:
    small = planted_data.of_problems(planted_data.problems()[:20])
    config = replace(QUICK, epochs=3)
    first, second = train(small, config), train(small, config)
    np.testing.assert_array_equal(first.energies(small.vectors), second.energies(small.vectors))


def test_training_without_both_classes_says_what_is_missing(planted_data: LensDataset) -> None:
    data = planted_data.take(np.flatnonzero(planted_data.labels["hidden"] == 1))
    with pytest.raises(LensDataError, match="0 failing"):
        train(data, QUICK)
    with pytest.raises(LensDataError, match="0 passing"):
        train(planted_data, replace(QUICK, label_source="public"))  # no public labels at all


def test_progress_is_reported_every_epoch(planted_data: LensDataset) -> None:
    seen: list[tuple[int, int]] = []
    train(planted_data, replace(QUICK, epochs=3), on_epoch=lambda e, n, loss: seen.append((e, n)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


# --- artifacts and the model check ------------------------------------------------------------


def test_artifact_round_trips(
    trained: LensArtifact, planted_data: LensDataset, tmp_path: Path
) -> None:
    path = trained.save(tmp_path / "lens" / "synthetic.lens")
    loaded = LensArtifact.load(path)
    assert loaded.spec == trained.spec
    assert loaded.platt == trained.platt
    assert loaded.record == trained.record
    np.testing.assert_array_equal(loaded.calibration_energy, trained.calibration_energy)
    np.testing.assert_allclose(
        loaded.energies(planted_data.vectors), trained.energies(planted_data.vectors), rtol=1e-6
    )
    assert not list(tmp_path.glob("lens/*.tmp"))


def test_a_broken_artifact_is_refused_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.lens"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(LensArtifactError, match=r"bad\.lens"):
        LensArtifact.load(bad)
    with pytest.raises(LensArtifactError, match="no Lens artifact"):
        LensArtifact.load(tmp_path / "absent.lens")


def test_another_models_embeddings_are_refused(trained: LensArtifact, tmp_path: Path) -> None:
    lens = GeometricLens(trained)
    vectors = np.ones((2, 32), dtype=np.float32).tolist()
    with pytest.raises(LensMismatchError, match=r"qwen3-14b.*synthetic\.gguf"):
        lens.score(vectors, model="qwen3-14b-q4.gguf")
    with pytest.raises(LensMismatchError, match="64 dimensions"):
        lens.score(np.ones((2, 64)).tolist(), model="synthetic.gguf")
    other = planted(problems=4, dim=32, model="other.gguf")
    with pytest.raises(LensMismatchError, match=r"other\.gguf"):
        evaluate(trained, other)
    path = trained.save(tmp_path / "a.lens")
    with pytest.raises(LensMismatchError):
        lens_for("other.gguf", path)


def test_the_same_model_from_another_folder_matches(trained: LensArtifact) -> None:
    assert model_key("/models/Synthetic.GGUF") == model_key("synthetic.gguf")
    scores = GeometricLens(trained).score(np.ones((3, 32)).tolist(), "/elsewhere/synthetic.gguf")
    assert len(scores) == 3
    assert all(s.energy >= 0 and 0 < s.pass_probability < 1 for s in scores)  # type: ignore[operator]


def test_evaluation_never_uses_a_trained_problem(
    trained: LensArtifact, planted_data: LensDataset
) -> None:
    seen = planted_data.of_problems(list(trained.record.problems))
    with pytest.raises(LensDataError, match="used to train"):
        evaluate(trained, seen)


# --- the pipeline interface -------------------------------------------------------------------


def test_the_trained_lens_is_an_energy_scorer_that_ranks(
    trained: LensArtifact, planted_data: LensDataset
) -> None:
    lens = GeometricLens(trained)
    assert isinstance(lens, EnergyScorer) and lens.trained
    assert lens.name.startswith("lens:synthetic.gguf@")
    unseen = sorted(set(planted_data.problems()) - set(trained.record.problems))
    held = planted_data.of_problems(unseen)
    scores = lens.score(held.vectors.tolist(), "synthetic.gguf")
    energy = np.array([s.energy for s in scores])
    prob = np.array([s.pass_probability for s in scores])
    passed = held.labels["hidden"]
    assert energy[passed == 1].mean() < energy[passed == 0].mean()
    assert prob[passed == 1].mean() > prob[passed == 0].mean()
    # lower energy, higher probability: one ordering
    assert np.all(np.diff(prob[np.argsort(energy)]) <= 1e-12)


def test_adaptive_k_and_tier_follow_the_probe_only_for_a_skilled_lens(
    trained: LensArtifact,
) -> None:
    skilled = GeometricLens(
        replace(trained, record=replace(trained.record, heldout=BEATS))
    )
    unskilled = GeometricLens(replace(trained, record=replace(trained.record, heldout={})))
    sure, unsure, middle = (EnergyScore(0.1, 0.9), EnergyScore(3.0, 0.1), EnergyScore(1.0, 0.5))
    assert skilled.suggest_k(sure, 8) == 4
    assert skilled.suggest_k(unsure, 8) == 16
    assert skilled.suggest_k(middle, 8) == 8
    assert skilled.suggest_k(None, 8) == 8
    assert skilled.suggest_tier(sure, BudgetTier.STANDARD) is BudgetTier.LIGHT
    assert skilled.suggest_tier(sure, BudgetTier.LIGHT) is BudgetTier.LIGHT  # never to NONE
    assert skilled.suggest_tier(unsure, BudgetTier.STANDARD) is BudgetTier.HARD
    assert skilled.suggest_tier(unsure, BudgetTier.EXTREME) is BudgetTier.EXTREME
    assert skilled.suggest_tier(unsure, BudgetTier.NONE) is BudgetTier.NONE
    assert unskilled.suggest_k(sure, 8) == 8
    assert unskilled.suggest_tier(unsure, BudgetTier.STANDARD) is BudgetTier.STANDARD


def test_without_an_artifact_the_neutral_lens_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    lens = lens_for("qwen3-14b.gguf")
    assert isinstance(lens, NeutralLens) and not lens.trained


# --- online recalibration ---------------------------------------------------------------------


def test_online_recalibration_waits_for_enough_evidence(
    trained: LensArtifact, tmp_path: Path
) -> None:
    artifact = LensArtifact.load(trained.save(tmp_path / "a.lens"))
    online = OnlineRecalibrator(
        GeometricLens(artifact), save_to=tmp_path / "a.lens", guard=RecalibrationGuard(20, 4)
    )
    before = artifact.platt
    # New problems whose labels are the opposite of what the Lens learned: the calibration
    # should lose confidence, but not on a handful of samples.
    fresh = planted(problems=40, per_problem=8, dim=32, signal=2.0, seed=0)
    fresh = replace(fresh, problem=np.char.add("new-", fresh.problem))
    labels = dict(fresh.labels)
    labels["hidden"] = (1 - labels["hidden"]).astype(np.int8)
    fresh = replace(fresh, labels=labels)
    first = online.observe(fresh.of_problems(fresh.problems()[:1]))
    assert not first.updated and first.pending == 8 and artifact.platt == before
    trained_problem = planted(problems=100, per_problem=8, dim=32, signal=2.0, seed=0)
    ignored = online.observe(trained_problem.of_problems([trained.record.problems[0]]))
    assert ignored.used == 0 and ignored.pending == 8  # in-sample energies are not evidence
    result = online.observe(fresh.of_problems(fresh.problems()[1:]))
    assert result.updated and artifact.online_updates == 1
    assert artifact.platt.slope < before.slope
    reloaded = LensArtifact.load(tmp_path / "a.lens")
    assert reloaded.platt == artifact.platt and len(reloaded.online_energy) == 320


# --- figures ----------------------------------------------------------------------------------


def test_auroc_counts_ties_as_half_and_knows_perfect_order() -> None:
    passed = np.array([1, 1, 0, 0])
    assert auroc(np.array([0.1, 0.2, 0.8, 0.9]), passed) == 1.0
    assert auroc(np.array([0.9, 0.8, 0.2, 0.1]), passed) == 0.0
    assert auroc(np.zeros(4), passed) == 0.5
    assert math.isnan(auroc(np.zeros(2), np.array([1, 1])))


def test_selection_accuracy_of_a_constant_is_the_random_expectation() -> None:
    problem = np.array(["a", "a", "a", "a", "b", "b", "c", "c"])
    passed = np.array([1, 0, 0, 0, 1, 0, 1, 1])  # "c" is not mixed: left out
    assert selection_accuracy(np.zeros(8), passed, problem) == pytest.approx((0.25 + 0.5) / 2)
    best = np.array([0.1, 0.5, 0.6, 0.7, 0.2, 0.3, 9, 9])
    assert selection_accuracy(best, passed, problem) == 1.0
    assert auroc_within_problems(best, passed, problem) == 1.0


def test_calibration_error_and_platt_scaling() -> None:
    rng = np.random.default_rng(0)
    energy = rng.uniform(0, 4, 4000)
    truth = 1 / (1 + np.exp(-(1.5 - 1.0 * energy)))
    passed = (rng.uniform(size=4000) < truth).astype(int)
    platt = Platt.fit(energy, passed)
    assert platt.slope == pytest.approx(1.0, abs=0.15)
    assert platt.bias == pytest.approx(1.5, abs=0.2)
    assert expected_calibration_error(platt.probability(energy), passed) < 0.03
    assert expected_calibration_error(np.full(4000, 0.99), passed) > 0.4
    backwards = Platt.fit(-energy, passed)  # high energy passing: no usable signal
    assert backwards.slope == 0.0


def test_the_histogram_shows_both_classes() -> None:
    text = energy_histogram(np.array([0.1, 0.2, 0.9, 1.0]), np.array([1, 1, 0, 0]), bins=4)
    lines = text.splitlines()
    assert "pass" in lines[0] and "fail" in lines[0]
    assert "#" in lines[1].split("|")[0] and "=" not in lines[1].split("|")[1]
    assert lines[1].rstrip().endswith("2 / 0") and lines[4].rstrip().endswith("0 / 2")
    assert "pass: 2 samples; fail: 2" in lines[-1]


# --- data files -------------------------------------------------------------------------------


def test_a_data_file_round_trips_and_a_bad_one_is_named(
    planted_data: LensDataset, tmp_path: Path
) -> None:
    path = planted_data.save(tmp_path / "data.lensdata")
    back = LensDataset.load(path)
    assert back.spec == planted_data.spec
    np.testing.assert_array_equal(back.vectors, planted_data.vectors)
    np.testing.assert_array_equal(back.problem, planted_data.problem)
    for source, labels in planted_data.labels.items():
        np.testing.assert_array_equal(back.labels[source], labels)
    (tmp_path / "junk.npz").write_text("junk")
    with pytest.raises(LensDataError, match=r"junk\.npz"):
        LensDataset.load(tmp_path / "junk.npz")


def test_merging_refuses_another_model(planted_data: LensDataset) -> None:
    other = planted(problems=2, dim=32, model="other.gguf")
    with pytest.raises(LensDataError, match=r"other\.gguf"):
        planted_data.merged(other)
    twice = planted_data.merged(planted_data)
    assert len(twice) == len(planted_data)  # the same candidates are not counted twice


def test_feature_spec_names_what_differs() -> None:
    spec = FeatureSpec(model="m.gguf", dim=8)
    assert spec.mismatch(FeatureSpec(model="M.gguf", dim=8)) is None
    assert "pooled" in (spec.mismatch(FeatureSpec(model="m.gguf", dim=8, pooling="last")) or "")
    assert "feature text" in (
        spec.mismatch(FeatureSpec(model="m.gguf", dim=8, text_version="v0")) or ""
    )


def test_online_recalibration_learns_from_finished_task_logs(trained: LensArtifact) -> None:
    from engine import events as ev

    artifact = replace(trained, online_energy=trained.online_energy[:0])
    online = OnlineRecalibrator(GeometricLens(artifact), guard=RecalibrationGuard(20, 4))
    fresh = planted(problems=5, per_problem=6, dim=32, signal=2.0, seed=9)
    results = []
    for name in fresh.problems():
        task = fresh.of_problems([name])
        events: list[ev.Event] = []
        for cid, vector, passed in zip(
            task.candidate, task.vectors, task.labels["hidden"], strict=True
        ):
            events += [
                ev.CandidateCreated(task_id="t", candidate_id=cid, origin="diversity", code="x"),
                ev.CandidateEmbedded(
                    task_id="t",
                    candidate_id=cid,
                    dim=32,
                    model="synthetic.gguf",
                    vector=tuple(float(v) for v in vector),
                ),
                ev.CandidateGraded(
                    task_id="t",
                    candidate_id=cid,
                    verdict="AC" if passed else "WA",
                    passed=int(passed),
                    total=1,
                ),
            ]
        results.append(online.observe_task(f"online-{name}", events))
    assert [r.updated for r in results] == [False, False, False, True, False]
    assert [r.pending for r in results] == [6, 12, 18, 0, 6]
    assert artifact.online_updates == 1 and len(artifact.online_energy) == 24


def test_the_default_place_is_a_safe_file_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.lens.scorer import default_artifact_path

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    path = default_artifact_path("Qwen/Qwen3-14B-GGUF:Q4_K_M")
    assert path.parent == tmp_path / "atlas-tui" / "lens"
    assert path.name == "qwen3-14b-gguf_q4_k_m.lens"


def test_a_lens_failing_on_the_users_problems_loses_its_say(trained: LensArtifact) -> None:
    from engine.lens.scorer import ONLINE_EVIDENCE

    skilled = replace(trained, record=replace(trained.record, heldout=BEATS))
    sure = EnergyScore(0.1, 0.9)
    energy = np.linspace(0, 1, ONLINE_EVIDENCE).astype(np.float32)
    agrees = (energy < 0.5).astype(np.int8)  # low energy passed: the Lens keeps working
    assert (
        GeometricLens(replace(skilled, online_energy=energy, online_passed=agrees)).suggest_k(
            sure, 8
        )
        == 4
    )
    lens = GeometricLens(replace(skilled, online_energy=energy, online_passed=1 - agrees))
    assert not lens.has_skill and lens.suggest_k(sure, 8) == 8
    few = GeometricLens(replace(skilled, online_energy=energy[:10], online_passed=1 - agrees[:10]))
    assert few.has_skill  # ten samples are not enough to overrule the held-out figure


def test_torch_native_library_loads_before_torch_and_the_import_then_uses_it() -> None:
    """`preload_torch` (the workbench calls it in the worker that loads a trained Lens) maps
    torch._C without importing torch; the import that follows finds it loaded and works. In a
    fresh interpreter: this one imported torch already."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import os
        import sys
        from engine.lens.native import preload_torch, torch_extension

        path = str(torch_extension())
        assert preload_torch(), "nothing loaded"
        assert "torch" not in sys.modules, "preloading imported torch"
        with open("/proc/self/maps") as maps:
            assert os.path.realpath(path) in maps.read(), "torch._C is not mapped"
        import torch

        assert torch._C.__file__ == path and float(torch.ones(3).sum()) == 3.0
        assert not preload_torch()  # torch is imported: nothing more to do
        print("ok")
    """)
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
