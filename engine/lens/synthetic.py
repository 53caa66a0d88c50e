"""Synthetic labelled embeddings with a known, planted signal: for tests and the benchmark.

They imitate what makes real LLM embeddings hard: one large direction every vector shares
(anisotropy), a per-problem offset much larger than the difference between candidates, and
problems of different difficulty. Passing candidates are shifted by `signal` along one hidden
direction; with `signal=0` the labels carry no information at all.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.lens.dataset import LABEL_SOURCES, UNKNOWN, LensDataset
from engine.lens.features import FeatureSpec


def planted(
    *,
    problems: int = 60,
    per_problem: int = 8,
    dim: int = 64,
    signal: float = 1.0,
    seed: int = 0,
    model: str = "synthetic.gguf",
) -> LensDataset:
    rng = np.random.default_rng(seed)
    common = rng.normal(size=dim) * 8.0
    direction = rng.normal(size=dim)
    direction /= np.linalg.norm(direction)
    n = problems * per_problem
    problem_of = np.repeat(np.arange(problems), per_problem)
    difficulty = rng.uniform(0.1, 0.9, size=problems)  # each problem's pass rate
    passed = (rng.uniform(size=n) < difficulty[problem_of]).astype(np.int8)
    topics = rng.normal(size=(problems, dim)) * 3.0
    # Problems differ in every direction but the planted one, so the signal is the same
    # across problems and a held-out problem's candidates can be judged by it.
    topics -= np.outer(topics @ direction, direction)
    vectors = common + topics[problem_of] + rng.normal(size=(n, dim))
    vectors += np.outer(np.where(passed == 1, 1.0, -1.0) * signal / 2, direction)
    code_chars = rng.integers(80, 1200, size=n)  # unrelated to the label
    labels = {s: np.full(n, UNKNOWN, dtype=np.int8) for s in LABEL_SOURCES}
    labels["hidden"] = passed
    return LensDataset(
        spec=FeatureSpec(model=model, dim=dim),
        vectors=vectors.astype(np.float32),
        problem=np.array([f"p{p:04d}" for p in problem_of], dtype=np.str_),
        task=np.array([f"t{p:04d}" for p in problem_of], dtype=np.str_),
        candidate=np.array([f"c{i}" for i in range(n)], dtype=np.str_),
        code_chars=code_chars.astype(np.int64),
        labels=labels,
    )


def shuffled(data: LensDataset, seed: int = 0) -> LensDataset:
    """The same vectors with the hidden labels permuted: no signal left to find."""
    rng = np.random.default_rng(seed)
    labels = dict(data.labels)
    labels["hidden"] = rng.permutation(labels["hidden"])
    return replace(data, labels=labels)
