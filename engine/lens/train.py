"""Training C(x): a within-problem ranking loss plus a pointwise term, then Platt calibration on
problems the network never saw.

The ranking loss is what selection needs: for every pair (passing, failing) of candidates of
the same problem, -log sigmoid(E_fail - E_pass), i.e. the passing one should have the lower
energy. Pairs never cross problems, so the network cannot score well by learning which problems
are easy. The pointwise term (binary cross-entropy of sigmoid(c - E) against the label, with a
learned offset c, at a smaller weight) gives energies one scale across problems, which adaptive
k and the budget tier need: they read the energy of a single probe, with nothing to rank
it against. Problems where every candidate passes (or fails) feed only the pointwise term.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from engine.lens.artifact import LensArtifact, TrainingRecord
from engine.lens.calibration import Platt
from engine.lens.dataset import LabelSource, LensDataError, LensDataset
from engine.lens.evaluate import baseline_figures
from engine.lens.features import Standardizer, features, unit_rows
from engine.lens.metrics import (
    auroc,
    auroc_within_problems,
    expected_calibration_error,
    selection_accuracy,
)
from engine.lens.net import EnergyMLP, pick_device

# Called after every epoch with (epoch, epochs, mean training loss).
EpochCallback = Callable[[int, int, float], None]


@dataclass(frozen=True, slots=True)
class TrainConfig:
    label_source: LabelSource = "hidden"
    hidden: int = 256
    dropout: float = 0.1
    epochs: int = 30
    batch_size: int = 256  # candidates per step, whole problems at a time
    lr: float = 1e-3
    weight_decay: float = 1e-2
    pointwise_weight: float = 0.3
    calibration_fraction: float = 0.2  # of the problems, held out for Platt scaling
    seed: int = 0
    device: str | None = None  # None: CUDA when available, else CPU


def split_problems(problems: list[str], fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """(kept, held out): a seeded shuffle of whole problems, at least one on each side."""
    rng = np.random.default_rng(seed)
    order = list(rng.permutation(problems))
    held = max(1, round(len(order) * fraction)) if len(order) >= 2 else 0
    return sorted(order[held:]), sorted(order[:held])


def train(
    data: LensDataset, config: TrainConfig = TrainConfig(), on_epoch: EpochCallback | None = None
) -> LensArtifact:
    """Train a Lens on `data`'s labels from `config.label_source`."""
    started = time.perf_counter()
    source = config.label_source
    data = data.labelled(source)
    _check_trainable(data, source)
    torch.manual_seed(config.seed)
    device = pick_device(config.device)

    problems = data.problems()
    fit_problems, calib_problems = split_problems(
        problems, config.calibration_fraction, config.seed
    )
    # With very few problems a held-out calibration set would be a handful of samples:
    # calibrate on the training problems instead and say so (calibration_problems = 0).
    if len(calib_problems) < 2 or len(fit_problems) < 2:
        fit_problems, calib_problems = problems, []
    fit = data.of_problems(fit_problems)
    standardizer = Standardizer.fit(unit_rows(fit.vectors))

    net = EnergyMLP(data.spec.dim, hidden=config.hidden, dropout=config.dropout).to(device)
    _fit_network(net, fit, standardizer, config, device, on_epoch)

    calib = data.of_problems(calib_problems) if calib_problems else fit
    artifact = LensArtifact(
        spec=data.spec,
        standardizer=standardizer,
        net=net,
        platt=Platt(),
        record=TrainingRecord(
            label_source=source,
            samples=len(data),
            problems=tuple(problems),
            calibration_problems=len(calib_problems),
            epochs=config.epochs,
            seed=config.seed,
            device=str(device),
            elapsed_s=0.0,
        ),
    )
    energy = artifact.energies(calib.vectors)
    passed = calib.labels[source]
    artifact.platt = Platt.fit(energy, passed)
    artifact.calibration_energy = energy.astype(np.float32)
    artifact.calibration_passed = passed.astype(np.int8)
    heldout = (
        {
            "auroc": auroc(energy, passed),
            "auroc_within": auroc_within_problems(energy, passed, calib.problem),
            "selection_accuracy": selection_accuracy(energy, passed, calib.problem),
            "ece": expected_calibration_error(artifact.platt.probability(energy), passed),
            # what engine.lens.gate compares the Lens with before it may rank anything
            **baseline_figures(passed, calib.problem, calib.code_chars),
        }
        if calib_problems
        else {}
    )
    artifact.record = replace(
        artifact.record, elapsed_s=time.perf_counter() - started, heldout=heldout
    )
    return artifact


def _check_trainable(data: LensDataset, source: LabelSource) -> None:
    counts = data.counts(source)
    if counts["pass"] == 0 or counts["fail"] == 0:
        raise LensDataError(
            f"training needs passing and failing candidates with {source!r} labels; "
            f"have {counts['pass']} passing and {counts['fail']} failing"
        )
    if len(data.problems()) < 2:
        raise LensDataError("training needs candidates from at least two problems")


def _batches(problem: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of whole problems (a problem's candidates are never split up, so every
    same-problem pair can meet in one batch)."""
    names, inverse = np.unique(problem, return_inverse=True)
    groups = [np.flatnonzero(inverse == i) for i in range(len(names))]
    batches: list[np.ndarray] = []
    current: list[np.ndarray] = []
    size = 0
    for g in rng.permutation(len(groups)):
        current.append(groups[g])
        size += len(groups[g])
        if size >= batch_size:
            batches.append(np.concatenate(current))
            current, size = [], 0
    if current:
        batches.append(np.concatenate(current))
    return batches


def ranking_loss(energy: torch.Tensor, passed: torch.Tensor, group: torch.Tensor) -> torch.Tensor:
    """Mean of softplus(E_pass - E_fail) over same-problem (pass, fail) pairs; 0 with none."""
    pair = (group[:, None] == group[None, :]) & (passed[:, None] > 0.5) & (passed[None, :] < 0.5)
    if not bool(pair.any()):
        return energy.sum() * 0.0
    diff = energy[:, None] - energy[None, :]
    return nn.functional.softplus(diff[pair]).mean()


def _fit_network(
    net: EnergyMLP,
    data: LensDataset,
    standardizer: Standardizer,
    config: TrainConfig,
    device: torch.device,
    on_epoch: EpochCallback | None,
) -> None:
    x = torch.from_numpy(features(data.vectors, standardizer)).to(device)
    y = torch.from_numpy(data.y(config.label_source)).to(device)
    _, group_ids = np.unique(data.problem, return_inverse=True)
    group = torch.from_numpy(group_ids.astype(np.int64)).to(device)
    offset = nn.Parameter(torch.zeros((), device=device))
    optimizer = torch.optim.AdamW(
        [*net.parameters(), offset], lr=config.lr, weight_decay=config.weight_decay
    )
    rng = np.random.default_rng(config.seed)
    for epoch in range(1, config.epochs + 1):
        net.train()
        total, steps = 0.0, 0
        for batch in _batches(data.problem, config.batch_size, rng):
            idx = torch.from_numpy(batch).to(device)
            energy = net(x[idx])
            loss = ranking_loss(energy, y[idx], group[idx])
            if config.pointwise_weight > 0:
                pointwise = nn.functional.binary_cross_entropy_with_logits(offset - energy, y[idx])
                loss = loss + config.pointwise_weight * pointwise
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
            steps += 1
        if on_epoch is not None:
            on_epoch(epoch, config.epochs, total / max(steps, 1))
    net.eval()
