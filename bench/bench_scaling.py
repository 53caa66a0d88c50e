"""How `atlas-tui bench` throughput grows with `--jobs` against a server with parallel slots.

A stand-in for a GPU server runs in its own process: an OpenAI-compatible loopback server
(tests/support/fault_server.py) that streams every generation at a fixed delay per token and
serves at most `--slots` generations at once (the rest queue, as llama-server's `--parallel`
slots or a vLLM batch limit make them). The real command, `atlas-tui bench DATASET --base-url
... --jobs N`, solves the same synthetic problems (LiveCodeBench-shaped stdin rows, public and
hidden tests, graded in the real sandbox) once per N; problems per minute are counted from the
first task's start to the last task's end in the run's store, so start-up (imports, sandbox
probe) is left out. Every N runs in the same invocation against the same server.

    .venv/bin/python bench/bench_scaling.py [--jobs 1,2,4,8] [--slots 4] [--problems 16]
        [--tokens 120] [--token-ms 10] [--condition A]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from support.fault_server import FaultServer, Reply, Request  # noqa: E402

from engine.store import Store  # noqa: E402

ANSWER = "```python\nprint(int(input()) * 2)\n```\n"
STATS = "/v1/stats"


class SlotServer(FaultServer):
    """Streams every generation token by token, `slots` generations at a time."""

    def __init__(self, slots: int, tokens: int, token_s: float) -> None:
        super().__init__()
        self.slots = asyncio.Semaphore(slots)
        self.tokens = tokens
        self.token_s = token_s
        self.in_slots = 0
        self.most_in_slots = 0
        self.generations = 0

    def _reply_for(self, request: Request) -> Reply:
        if request.path == STATS:
            stats = {"most_in_slots": self.most_in_slots, "generations": self.generations}
            self.most_in_slots, self.generations = 0, 0  # each run reads and resets
            return Reply(body=stats)
        body = request.body if isinstance(request.body, dict) else {}
        if request.path in ("/v1/completions", "/v1/chat/completions") and body.get("stream"):
            count = min(self.tokens, int(body.get("max_tokens") or self.tokens))
            pieces = _pieces(count)
            chat = request.path.endswith("chat/completions")
            return Reply.stream(pieces, chat=chat, event_delay_s=self.token_s,
                                finish="stop" if count == self.tokens else "length",
                                usage={"prompt_tokens": 200, "completion_tokens": count,
                                       "total_tokens": 200 + count})
        return super()._reply_for(request)

    async def _answer(self, request: Request, reader: Any, writer: Any) -> None:
        body = request.body if isinstance(request.body, dict) else {}
        if not body.get("stream"):
            await super()._answer(request, reader, writer)
            return
        async with self.slots:  # a generation waits for a free slot, as on a GPU server
            self.in_slots += 1
            self.most_in_slots = max(self.most_in_slots, self.in_slots)
            self.generations += 1
            try:
                await super()._answer(request, reader, writer)
            finally:
                self.in_slots -= 1


def _pieces(count: int) -> list[str]:
    """The answer's code block first (as a few tokens), then filler text up to `count`."""
    code = [line + "\n" for line in ANSWER.splitlines()]
    return (code + [" ok"] * max(0, count - len(code)))[:max(count, len(code))]


async def serve(slots: int, tokens: int, token_s: float) -> None:
    async with SlotServer(slots, tokens, token_s) as server:
        print(server.url, flush=True)
        await asyncio.Event().wait()


def write_dataset(path: Path, problems: int) -> None:
    """LiveCodeBench-shaped rows: double a number, one public and three hidden tests."""
    rows = []
    for i in range(problems):
        public = [{"input": f"{i}\n", "output": f"{2 * i}\n", "testtype": "stdin"}]
        hidden = [{"input": f"{i + k}\n", "output": f"{2 * (i + k)}\n", "testtype": "stdin"}
                  for k in (1, 7, 100)]
        rows.append({"question_id": f"double-{i:03d}", "question_title": f"Double {i}",
                     "question_content": "Read an integer n and print 2 * n.",
                     "platform": "atcoder", "contest_date": "2024-06-01T00:00:00",
                     "difficulty": "easy", "public_test_cases": json.dumps(public),
                     "private_test_cases": json.dumps(hidden), "metadata": "{}"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def stats(url: str) -> dict[str, int]:
    import httpx

    return httpx.get(url.removesuffix("/v1") + STATS, timeout=10).json()


def one_run(dataset: Path, out: Path, url: str, jobs: int, condition: str) -> dict[str, Any]:
    command = [str(Path(sys.executable).parent / "atlas-tui"), "bench", str(dataset),
               "--out", str(out), "--base-url", url, "--model", "fault-model",
               "--condition", condition, "--jobs", str(jobs), "--no-oracle"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"bench --jobs {jobs} failed:\n{done.stdout}\n{done.stderr}")
    with Store(out, readonly=True) as store:
        tasks = store.tasks()
    start = min(t.started_at or t.created_at for t in tasks)
    end = max(t.finished_at or 0.0 for t in tasks)
    return {"jobs": jobs, "problems": len(tasks), "solved": sum(t.verdict == "AC" for t in tasks),
            "seconds": end - start, "per_minute": 60 * len(tasks) / (end - start),
            "completion_tokens": sum(t.completion_tokens for t in tasks), **stats(url)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", default="1,2,4,8")
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--problems", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=120, help="tokens per generation")
    parser.add_argument("--token-ms", type=float, default=10.0, help="delay per token")
    parser.add_argument("--condition", default="A")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.slots, args.tokens, args.token_ms / 1000))
        return

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--slots", str(args.slots), "--tokens",
         str(args.tokens), "--token-ms", str(args.token_ms)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as tmp:
            dataset = Path(tmp) / "doubles.jsonl"
            write_dataset(dataset, args.problems)
            results = []
            for jobs in (int(j) for j in args.jobs.split(",")):
                began = time.monotonic()
                result = one_run(dataset, Path(tmp) / f"jobs{jobs}.sqlite", url, jobs,
                                 args.condition)
                result["wall_s"] = time.monotonic() - began
                results.append(result)
                print(json.dumps(result), file=sys.stderr, flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)

    base = results[0]["per_minute"]
    print(f"server: {args.slots} slots, {args.tokens} tokens per generation at "
          f"{args.token_ms:g} ms per token; {args.problems} problems, condition "
          f"{args.condition}\n")
    print("| --jobs | problems/min | speed-up vs first | run time (s) | generations at once "
          "(most) | generations | solved |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['jobs']} | {r['per_minute']:.1f} | {r['per_minute'] / base:.2f}x | "
              f"{r['seconds']:.1f} | {r['most_in_slots']} | {r['generations']} | "
              f"{r['solved']}/{r['problems']} |")


if __name__ == "__main__":
    main()
