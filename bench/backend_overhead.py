"""Tokens per second through LlamaCppBackend vs a direct llama-cpp-python call, side by side.

Same generated GGUF (tests/support/tiny_gguf.py BENCH_SPEC, ~42M parameters, so the model and not
Python dominates), same prompt, same greedy settings, same thread count; the two runs alternate
round by round so machine load hits both alike, and the median of each is reported. Tokens per
CPU-second (process time, all threads) is reported beside wall-clock tokens per second: on a
machine shared with other work it is the steadier measure of the backend's own overhead.

    .venv/bin/python bench/backend_overhead.py [--tokens 256] [--rounds 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import llama_cpp  # noqa: E402
from support.tiny_gguf import BENCH_SPEC, IM_END_ID, n_params, write_tiny_gguf  # noqa: E402

from engine.llm.base import SamplingParams  # noqa: E402
from engine.llm.llamacpp import LlamaCppBackend, LlamaCppConfig  # noqa: E402

PROMPT = ("<|im_start|>user\nWrite a Python program that reads n and prints the sum of the "
          "first n squares.<|im_end|>\n<|im_start|>assistant\n")


Run = tuple[int, float, float]  # tokens, wall seconds, CPU seconds


def direct_run(llm: llama_cpp.Llama, tokens: int) -> Run:
    wall, cpu = time.perf_counter(), time.process_time()
    out = llm.create_completion(PROMPT, max_tokens=tokens, temperature=0.0, seed=0,
                                logit_bias={IM_END_ID: -100.0})
    n = out["usage"]["completion_tokens"]  # type: ignore[index]
    return n, time.perf_counter() - wall, time.process_time() - cpu


async def backend_run(backend: LlamaCppBackend, tokens: int) -> Run:
    params = SamplingParams(temperature=0.0, max_tokens=tokens, seed=0,
                            logit_bias=((IM_END_ID, -100.0),))
    wall, cpu = time.perf_counter(), time.process_time()
    n = 0
    async for item in backend.stream(PROMPT, params):  # streamed, as the pipeline uses it
        if not hasattr(item, "channel"):
            n = item.completion_tokens  # type: ignore[union-attr]
    return n, time.perf_counter() - wall, time.process_time() - cpu


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--model", type=Path, default=Path(tempfile.gettempdir())
                        / "atlas-bench" / "bench.gguf")
    args = parser.parse_args()

    if not args.model.is_file():
        write_tiny_gguf(args.model, BENCH_SPEC)
    print(f"model {args.model} ({n_params(BENCH_SPEC) / 1e6:.1f}M parameters, f16), "
          f"{args.tokens} tokens per run, {args.rounds} rounds, threads={args.threads}")

    n_ctx = 2048
    direct = llama_cpp.Llama(str(args.model), n_ctx=n_ctx, n_threads=args.threads,
                             n_gpu_layers=0, verbose=False)
    backend = await LlamaCppBackend.open(args.model, LlamaCppConfig(
        n_ctx=n_ctx, n_threads=args.threads, n_gpu_layers=0, embeddings=False))
    direct_run(direct, 8)  # warm both (first-call allocations)
    await backend_run(backend, 8)

    runs: dict[str, list[Run]] = {"direct": [], "backend": []}
    for round_no in range(args.rounds):
        runs["direct"].append(direct_run(direct, args.tokens))
        runs["backend"].append(await backend_run(backend, args.tokens))
        d, b = runs["direct"][-1], runs["backend"][-1]
        print(f"round {round_no + 1}: direct {d[0] / d[1]:6.1f} tok/s {d[0] / d[2]:6.1f} tok/cpu-s"
              f"   backend {b[0] / b[1]:6.1f} tok/s {b[0] / b[2]:6.1f} tok/cpu-s")
    wall = {k: statistics.median(n / w for n, w, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(n / c for n, _, c in v) for k, v in runs.items()}
    for label, measure in (("wall-clock", wall), ("CPU time", cpu)):
        ratio = measure["backend"] / measure["direct"]
        print(f"median {label}: direct {measure['direct']:.1f}, LlamaCppBackend "
              f"{measure['backend']:.1f} tokens/s; ratio {ratio:.3f} "
              f"(overhead {100 * (1 - ratio):+.1f}%)")
    await backend.close()
    direct.close()


if __name__ == "__main__":
    asyncio.run(main())
