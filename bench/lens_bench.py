"""Lens speed: scoring latency for k candidates and training time for N samples at a realistic
embedding size (5120, Qwen3-14B's hidden size).

    .venv/bin/python bench/lens_bench.py                 # the figures in BENCHMARKS.md
    .venv/bin/python bench/lens_bench.py --samples 2000  # a quicker look

Training is timed with each torch thread count in --threads, in the same run. Scoring goes
through `GeometricLens.score`, the call the pipeline makes (Python lists in,
normalization, the network, calibration, `EnergyScore`s out). Side by side in the same run:
scoring k candidates in one call vs one call per candidate (what a pipeline scoring candidates
as they arrive would pay). Training uses the default `TrainConfig` (256 hidden units, 30
epochs) on synthetic embeddings with a planted signal, on CUDA when torch sees a GPU.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import torch

from engine.lens.scorer import GeometricLens
from engine.lens.synthetic import planted
from engine.lens.train import TrainConfig, train


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=5120)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--per-problem", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=TrainConfig().epochs)
    parser.add_argument("--threads", default="1,2", help="torch threads to train with, compared")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, device {device}"
    )
    data = planted(
        problems=args.samples // args.per_problem,
        per_problem=args.per_problem,
        dim=args.dim,
        signal=3.0,
        seed=0,
    )
    print(f"data: {len(data)} samples x {args.dim} dims, {len(data.problems())} problems")

    artifact = None
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        epochs_done: list[float] = []
        started = time.perf_counter()
        artifact = train(
            data,
            TrainConfig(epochs=args.epochs),
            on_epoch=lambda *_, done=epochs_done: done.append(time.perf_counter()),
        )
        total = time.perf_counter() - started
        per_epoch = (epochs_done[-1] - epochs_done[0]) / max(len(epochs_done) - 1, 1)
        print(
            f"training, {threads} thread(s): {total:.1f} s for {args.epochs} epochs "
            f"({per_epoch:.2f} s/epoch after the first, {artifact.net.hidden} hidden units); "
            f"calibration-set AUROC {artifact.record.heldout.get('auroc', float('nan')):.3f}"
        )
    assert artifact is not None

    torch.set_num_threads(1)  # scoring runs beside the model and the sandbox
    artifact.to("cpu")
    lens = GeometricLens(artifact)
    print(f"\nscoring, 1 thread\n{'k':>4} {'one call (ms)':>14} {'k calls (ms)':>13} {'ratio':>6}")
    for k in (1, 5, 10, 20, 50):
        vectors = data.vectors[:k].tolist()
        batched = _median_ms(lambda v=vectors: lens.score(v, data.spec.model), args.repeats)
        single = _median_ms(
            lambda v=vectors: [lens.score([x], data.spec.model) for x in v], args.repeats
        )
        print(f"{k:>4} {batched:>14.2f} {single:>13.2f} {single / batched:>5.1f}x")


if __name__ == "__main__":
    main()
