"""k answers from one context: sequential calls against one batched call, side by side, on the
real default model (Qwen2.5-Coder-0.5B-Instruct Q4_K_M), in-process llama.cpp.

For k = 1, 3, 8, from a cold cache each time, the same chat prompt (a problem statement) and k
seeds at temperature 0.7, every answer exactly `--tokens` long (end-of-text biased off so all
modes generate the same number of tokens):

- sequential, cold: k `generate` calls, the prefix cache dropped before each (k prefills: what
  drawing answers one after another cost without a prefix cache),
- sequential: k `generate` calls one after another (finished sequences stay cached, so the
  prompt is prefilled once),
- batched: one `generate_many` of k requests (one decode per step for all k).

Reported: total generated tokens per second (wall clock) and prompt tokens prefilled. Then
prompt lookup (n-gram speculation) on a repair-like prompt, whose answer repeats the program
in the prompt: greedy, `prompt_lookup` 0 against 8, alone and 3 at once.

    .venv/bin/python bench/batched_generation.py [--tokens 64] [--model PATH] [--threads 1,2]
                                                 [--ks 1,3,8] [--no-lookup]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.llm.base import ChatMessage, GenerationRequest, SamplingParams  # noqa: E402
from engine.llm.llamacpp import LlamaCppBackend, LlamaCppConfig  # noqa: E402


def default_model() -> Path | None:
    """The project's default model as set-up fetched it (verified by digest)."""
    from engine.models.catalogue import DEFAULT_MODEL, get
    from engine.models.pull import local

    return local(get(DEFAULT_MODEL))


STATEMENT = """You are given an array a of n integers and q queries. Each query is a pair (l, r)
and asks for the number of distinct values among a[l], a[l+1], ..., a[r] (1-indexed).

Input: the first line holds n and q (1 <= n, q <= 2 * 10^5). The second line holds the n
integers of a (1 <= a[i] <= 10^9). Each of the next q lines holds l and r (1 <= l <= r <= n).

Output: for each query, print the answer on its own line.

Example input:
5 3
1 2 1 3 2
1 3
2 5
4 4

Example output:
2
3
1

Think about an offline approach: sort the queries by their right end and sweep over the
array with a Fenwick tree that counts, for each value, only its last occurrence so far."""

CHAT = [ChatMessage("system", "You are an expert competitive programmer. Answer with one "
                              "Python 3 program that reads stdin and writes stdout."),
        ChatMessage("user", STATEMENT)]

PROGRAM = """import sys

def main():
    data = sys.stdin.buffer.read().split()
    n, q = int(data[0]), int(data[1])
    a = [int(x) for x in data[2:2 + n]]
    queries = []
    pos = 2 + n
    for i in range(q):
        l, r = int(data[pos]), int(data[pos + 1])
        pos += 2
        queries.append((r, l, i))
    queries.sort()
    tree = [0] * (n + 1)

    def add(i, v):
        while i <= n:
            tree[i] += v
            i += i & -i

    def total(i):
        s = 0
        while i > 0:
            s += tree[i]
            i -= i & -i
        return s

    last = {}
    answers = [0] * q
    j = 0
    for r, l, i in queries:
        while j < r:
            value = a[j]
            if value in last:
                add(last[value], -1)
            last[value] = j
            add(j + 1, 1)
            j += 1
        answers[i] = total(r) - total(l - 1)
    print("\\n".join(map(str, answers)))

main()
"""

REPAIR = [CHAT[0], ChatMessage("user", STATEMENT + "\n\nThis program fails the example (it "
                                "prints 1 2 0). Find the bug and answer with the whole "
                                "corrected program.\n\n```python\n" + PROGRAM + "```")]


async def timed(backend: LlamaCppBackend, requests: list[GenerationRequest], batched: bool,
                cold: bool) -> tuple[int, float, float, int]:
    """(tokens generated, wall seconds, CPU seconds, prompt tokens prefilled), from a cold
    cache. CPU time (this process, all threads) is the steadier measure on a shared machine."""
    await backend.clear_cache()
    prefilled = backend.counters.prompt_tokens_decoded
    started, cpu = time.perf_counter(), time.process_time()
    if batched:
        results = await backend.generate_many(requests)
    else:
        results = []
        for request in requests:
            if cold:
                await backend.clear_cache()
            results.append(await backend.generate(request.prompt, request.params))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return (sum(r.completion_tokens for r in results), wall, cpu,
            backend.counters.prompt_tokens_decoded - prefilled)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=64, help="tokens per answer")
    parser.add_argument("--repair-tokens", type=int, default=160)
    parser.add_argument("--ks", default="1,3,8")
    # one thread count for single-token and batched decodes: llama-cpp-python's defaults differ
    # (half the cores for one token, all for a batch), which would compare thread counts, and
    # on a loaded machine threads that wait for each other at every step are slower than one;
    # several counts ("1,2") run one after another in this run, each with its own backend
    parser.add_argument("--threads", default="1", help="thread counts, comma-separated")
    parser.add_argument("--no-lookup", action="store_true", help="skip prompt lookup")
    parser.add_argument("--model", type=Path, help="a GGUF file (default: the default model)")
    args = parser.parse_args()
    args.model = args.model or default_model()
    if args.model is None or not args.model.is_file():
        sys.exit(f"no model at {args.model}: run scripts/setup.sh or pass --model")
    ks = [int(x) for x in args.ks.split(",")]
    first_rates: dict[int, float] = {}  # k -> sequential tok/s at the first thread count
    for threads in (int(x) for x in args.threads.split(",")):
        backend = await LlamaCppBackend.open(args.model, LlamaCppConfig(
            n_ctx=8192, n_threads=threads, n_threads_batch=threads, embeddings=False))
        await decoding(backend, args, threads, ks, first_rates)
        if not args.no_lookup:
            await lookup(backend, args)
        await backend.close()
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


async def decoding(backend: LlamaCppBackend, args: argparse.Namespace, threads: int,
                   ks: list[int], first_rates: dict[int, float]) -> None:
    """The table for one thread count; `x 1st` is tok/s against sequential decoding at the
    first thread count asked for."""
    end_ids = backend._llm.tokenize(b"<|im_end|><|endoftext|>", add_bos=False, special=True)
    no_end = tuple((token, -100.0) for token in end_ids)
    prompt_tokens = await backend.count_tokens(backend.render_chat(CHAT))
    print(f"\nmodel {args.model.name}, prompt {prompt_tokens} tokens, {args.tokens} tokens per "
          f"answer, {threads} thread(s), load average {os.getloadavg()[0]:.1f}")
    await backend.generate(CHAT, SamplingParams(max_tokens=4, seed=0))  # warm up

    print(f"{'k':>2} {'mode':<17} {'tokens':>6} {'wall s':>7} {'tok/s':>6} {'x seq':>6}"
          f" {'x 1st':>6} {'tok/cpu-s':>9} {'x seq':>6} {'prefilled':>9}")
    for k in ks:
        requests = [GenerationRequest(CHAT, SamplingParams(
            temperature=0.7, top_k=40, top_p=0.95, max_tokens=args.tokens, seed=seed,
            logit_bias=no_end)) for seed in range(k)]
        rows = {"sequential, cold": await timed(backend, requests, False, True),
                "sequential": await timed(backend, requests, False, False),
                "batched": await timed(backend, requests, True, False)}
        base = rows["sequential"][0] / rows["sequential"][1]
        first = first_rates.setdefault(k, base)
        cpu_base = rows["sequential"][0] / rows["sequential"][2]
        for mode, (tokens, wall, cpu, prefilled) in rows.items():
            rate, cpu_rate = tokens / wall, tokens / cpu
            print(f"{k:>2} {mode:<17} {tokens:>6} {wall:>7.1f} {rate:>6.1f} {rate / base:>6.2f}"
                  f" {rate / first:>6.2f} {cpu_rate:>9.1f} {cpu_rate / cpu_base:>6.2f}"
                  f" {prefilled:>9}")


async def lookup(backend: LlamaCppBackend, args: argparse.Namespace) -> None:
    repair_tokens = await backend.count_tokens(backend.render_chat(REPAIR))
    print(f"\nprompt lookup on a repair prompt ({repair_tokens} tokens), up to "
          f"{args.repair_tokens} tokens per answer (k=1 greedy, k=3 at temperature 0.3)")
    for k in (1, 3):
        rates = {}
        for lookup in (0, 8):
            before = (backend.counters.draft_tokens, backend.counters.draft_accepted)
            requests = [GenerationRequest(REPAIR, SamplingParams(
                temperature=0.0 if k == 1 else 0.3, seed=seed, max_tokens=args.repair_tokens,
                prompt_lookup=lookup)) for seed in range(k)]
            tokens, wall, cpu, _ = await timed(backend, requests, k > 1, False)
            rates[lookup] = tokens / wall
            drafted = backend.counters.draft_tokens - before[0]
            accepted = backend.counters.draft_accepted - before[1]
            print(f"k={k} prompt_lookup={lookup}: {tokens} tokens in {wall:.1f} s = "
                  f"{rates[lookup]:.1f} tok/s, {tokens / cpu:.1f} tok/cpu-s, drafts "
                  f"{accepted}/{drafted} accepted")
        print(f"k={k} lookup speed-up x{rates[8] / rates[0]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
