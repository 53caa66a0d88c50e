"""What OpenAIBackend costs per streamed token, beside a bare httpx SSE loop, side by side.

A loopback server (tests/support/fault_server.py, in the same process) streams N one-token chunks
of /v1/completions as fast as it can, so no model time hides the client's cost. Both clients read
the same stream: the bare loop parses each `data:` line with json.loads and keeps the text;
OpenAIBackend.stream does everything it does in use (semaphore, stall timeout per line, the budget
driver's plain path, the thinking splitter, Delta objects, the GenerationResult). Runs alternate
round by round; medians are reported in microseconds per token, with CPU time (process time)
beside wall time, since the machine may be shared.

    .venv/bin/python bench/openai_overhead.py [--tokens 2000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from support.fault_server import FaultServer, Reply  # noqa: E402

from engine.llm.base import Delta, SamplingParams  # noqa: E402
from engine.llm.openai_backend import OpenAIBackend  # noqa: E402

Run = tuple[int, float, float]  # tokens, wall seconds, CPU seconds


async def bare_run(server: FaultServer, tokens: int) -> Run:
    server.plan("/v1/completions", Reply.stream(["tok"] * tokens))
    wall, cpu = time.perf_counter(), time.process_time()
    texts: list[str] = []
    async with httpx.AsyncClient() as client, client.stream(
        "POST", f"{server.url}/completions",
        json={"model": "m", "prompt": "p", "max_tokens": tokens, "stream": True},
    ) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            for choice in json.loads(line[6:])["choices"]:
                if choice["text"]:
                    texts.append(choice["text"])
    assert len(texts) == tokens, len(texts)
    return tokens, time.perf_counter() - wall, time.process_time() - cpu


async def backend_run(backend: OpenAIBackend, server: FaultServer, tokens: int) -> Run:
    server.plan("/v1/completions", Reply.stream(["tok"] * tokens))
    wall, cpu = time.perf_counter(), time.process_time()
    deltas = 0
    async for item in backend.stream("p", SamplingParams(max_tokens=tokens)):
        deltas += isinstance(item, Delta)
    assert deltas == tokens, deltas
    return tokens, time.perf_counter() - wall, time.process_time() - cpu


def per_token_us(runs: list[Run], index: int) -> float:
    return statistics.median(run[index] / run[0] * 1e6 for run in runs)


async def main(tokens: int, rounds: int) -> None:
    async with FaultServer() as server:
        backend = await OpenAIBackend.connect(base_url=server.url)
        bare: list[Run] = []
        ours: list[Run] = []
        await bare_run(server, 100)  # warm-up: imports, first connections
        await backend_run(backend, server, 100)
        for _ in range(rounds):
            bare.append(await bare_run(server, tokens))
            ours.append(await backend_run(backend, server, tokens))
        await backend.close()
    print(f"{tokens} one-token chunks per run, {rounds} rounds alternating, medians")
    print(f"{'client':<28}{'wall us/token':>15}{'CPU us/token':>15}")
    for name, runs in (("bare httpx SSE loop", bare), ("OpenAIBackend.stream", ours)):
        print(f"{name:<28}{per_token_us(runs, 1):>15.1f}{per_token_us(runs, 2):>15.1f}")
    print(f"ratio (backend / bare), wall {per_token_us(ours, 1) / per_token_us(bare, 1):.2f}x, "
          f"CPU {per_token_us(ours, 2) / per_token_us(bare, 2):.2f}x; added per token: "
          f"{per_token_us(ours, 1) - per_token_us(bare, 1):.1f} us wall")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.tokens, args.rounds))
