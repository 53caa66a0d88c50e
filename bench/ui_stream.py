"""How the workbench holds up under a fast event stream.

A synthetic task streams three candidates' thinking at a total of several thousand tokens a
second (a few tokens per TokenDelta event, as the pipeline batches them), with test runs and
energies in between, into the real app running headless. Measured:

- event-loop lag: a probe task asks to wake every 10 ms; lag is how late it wakes (p50, p99);
- frames: state redraws of the panes per second (the bridge's StatesChanged messages);
- memory: the process's resident size after 100k tokens, and its growth over the run.

The same stream runs twice in one process: with the bridge (fold and redraw at most 25 times a
second; tree, matrix and energies at most 5) and, for comparison, folding and redrawing every
pane after every event (what "one widget call per token" costs). Usage:

    .venv/bin/python bench/ui_stream.py [--tokens 100000] [--rate 6000] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from engine import events as ev

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROBLEM = """---
id: stream
---
# Stream
Print the sum of two integers.

## Example
Input
```
1 2
```
Output
```
3
```
"""
MAX_CANDIDATES = 30  # a full run: probe, plans, diverse samples and repairs
TESTS = 8  # self-generated tests besides the public example
WORDS = ("consider", "the", "array", "and", "its", "prefix", "sums;", "then", "check", "each",
         "boundary", "case", "carefully,", "because", "n", "can", "be", "one.", "Wait,")


@dataclass
class Result:
    mode: str
    tokens: int
    seconds: float
    tokens_per_s: float
    events: int
    lag_p50_ms: float
    lag_p99_ms: float
    lag_max_ms: float
    frames: int
    frames_per_s: float
    rss_start_mb: float
    rss_end_mb: float


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def stream_events(task_id: str, tokens: int, per_event: int) -> list[ev.Event]:
    """The whole synthetic log, made up front so making it is not measured."""
    out: list[ev.Event] = []

    def add(cls: type[ev.Event], **fields: object) -> None:
        out.append(cls(task_id=task_id, seq=len(out) + 1, **fields))  # type: ignore[arg-type]

    add(ev.TaskStarted, title="stream", condition="full", model="synthetic", backend="bench")
    add(ev.PhaseStarted, phase="diversity")
    add(ev.TestAdded, test_id="e1", kind="public", input="1 2\n", expected="3\n",
        origin="statement")
    streams = ("g1", "g2", "g3")
    for stream in streams:
        add(ev.GenerationStarted, stream_id=stream, purpose="diversity", template="diversity",
            template_version="1", prompt="...")
    for number in range(1, TESTS + 1):
        add(ev.TestAdded, test_id=f"s{number}", kind="self", input=f"{number} {number}\n",
            expected=f"{2 * number}\n", origin="agreement 2/2")
    sent = 0
    word = 0
    made = 0
    while sent < tokens:
        for stream in streams:
            text = " ".join(WORDS[(word + k) % len(WORDS)] for k in range(per_event)) + " "
            add(ev.TokenDelta, stream_id=stream, text=text, channel="thinking",
                tokens=per_event)
            sent += per_event
            word += per_event
            # each stream ends a candidate every ~4,000 of its tokens (as a generation would);
            # the candidate is run on every test and scored, up to a run's realistic size
            if made < MAX_CANDIDATES and sent % 12_000 < per_event * 3 and sent > per_event * 3:
                made += 1
                candidate = f"c{made}"
                add(ev.CandidateCreated, candidate_id=candidate, origin="diversity",
                    code="print(sum(map(int, input().split())))\n", stream_id=stream,
                    label=f"diverse {made}")
                for test in ["e1", *(f"s{n}" for n in range(1, TESTS + 1))]:
                    add(ev.TestRun, candidate_id=candidate, test_id=test,
                        verdict="AC" if (made + len(test)) % 3 else "WA", got="3\n",
                        expected="3\n", time_s=0.01)
                add(ev.EnergyScored, candidate_id=candidate, energy=(made * 7 % 11) / 2.0,
                    pass_probability=0.5, lens="bench")
    return out


async def run(mode: str, tokens: int, rate: float, per_event: int) -> Result:
    from atlas_tui.app import create_app
    from atlas_tui.config import Config

    folder = Path(tempfile.mkdtemp(prefix="ui-stream-"))
    (folder / "stream.md").write_text(PROBLEM)
    app = create_app(folder, Config(model="synthetic"), store_path=folder / "s.sqlite",
                     watch=False, animate=True, config_file=folder / "none.toml")
    events = stream_events("bench", tokens, per_event)
    lags: list[float] = []

    async with app.run_test(headless=True, size=(160, 50)) as pilot:
        await app.loaded.wait()
        if len(app.screen_stack) > 1:
            app.pop_screen()
        await pilot.pause()
        key = app.folder.items[0].key
        app.shown_task[key] = "bench"
        app.current_key = key
        if mode == "per-event":  # the naive way: every pane redrawn for every event
            app.query_one("#panes")._structure_interval = 0.0  # type: ignore[attr-defined]
        await pilot.pause()

        stop = asyncio.Event()

        async def probe() -> None:
            interval = 0.010
            while not stop.is_set():
                asked = time.perf_counter()
                await asyncio.sleep(interval)
                lags.append(time.perf_counter() - asked - interval)

        probe_task = asyncio.create_task(probe())
        frames_before = app.bridge.frames
        rss_start = rss_mb()
        started = time.perf_counter()
        tokens_sent = 0
        tick = 0.005  # the emitter wakes every 5 ms and sends what the rate allows
        for event in events:
            app.bridge.emit(event)
            if mode == "per-event":
                app.bridge.flush()  # redraw after every event: the naive way
            if isinstance(event, ev.TokenDelta):
                tokens_sent += event.tokens
                due = started + tokens_sent / rate
                if due - time.perf_counter() > tick:
                    await asyncio.sleep(due - time.perf_counter())
        await asyncio.sleep(0.2)  # the last frame
        elapsed = time.perf_counter() - started
        stop.set()
        await probe_task
        frames = app.bridge.frames - frames_before
        rss_end = rss_mb()
        state = app.bridge.state("bench")
        assert state is not None and sum(s.live_tokens for s in state.streams.values()) == \
            tokens_sent, "every token reached the folded state"

    lags_ms = sorted(lag * 1000 for lag in lags)
    return Result(
        mode=mode,
        tokens=tokens_sent,
        seconds=round(elapsed, 2),
        tokens_per_s=round(tokens_sent / elapsed),
        events=len(events),
        lag_p50_ms=round(statistics.median(lags_ms), 2),
        lag_p99_ms=round(lags_ms[int(len(lags_ms) * 0.99) - 1], 2),
        lag_max_ms=round(lags_ms[-1], 2),
        frames=frames,
        frames_per_s=round(frames / elapsed, 1),
        rss_start_mb=round(rss_start, 1),
        rss_end_mb=round(rss_end, 1),
    )


async def queue_scale(problems: int) -> dict[str, float]:
    """A folder of `problems` rows: load time, and one filter pass of the queue beside what a
    DataTable holding the same rows costs to rebuild (the widget the queue used before)."""
    from textual.widgets import DataTable

    from atlas_tui.app import create_app
    from atlas_tui.config import Config

    folder = Path(tempfile.mkdtemp(prefix="ui-queue-"))
    rows = [{"task_id": f"HumanEval/{n}", "prompt": f'def f{n}(x):\n    """Return x."""\n',
             "entry_point": f"f{n}", "canonical_solution": "    return x\n",
             "test": "def check(c):\n    assert c(1) == 1\n"} for n in range(problems)]
    (folder / "big.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    from atlas_tui.folder import ProblemFolder

    started = time.perf_counter()
    ProblemFolder(folder).load_all()  # what the app runs in a worker thread at start
    loaded_s = time.perf_counter() - started
    app = create_app(folder, Config(model="synthetic"), store_path=folder / "s.sqlite",
                     watch=False, animate=False, config_file=folder / "none.toml")
    async with app.run_test(headless=True, size=(160, 50)) as pilot:
        await app.loaded.wait()
        await pilot.pause()
        queue = app.query_one("ProblemQueue")
        passes = []
        for needle in ("humaneval/4", "", "f12", "", "return", ""):
            queue._filter = needle  # type: ignore[attr-defined]
            began = time.perf_counter()
            queue._refilter()  # type: ignore[attr-defined]
            passes.append(time.perf_counter() - began)
            await pilot.pause()
        table: DataTable[str] = DataTable()
        await app.screen.mount(table)
        table.add_columns(" ", "id", "title")
        began = time.perf_counter()
        for row in rows:
            table.add_row("·", row["task_id"], row["entry_point"])
        table_s = time.perf_counter() - began
    return {"problems": problems, "load_s": round(loaded_s, 2),
            "filter_ms": round(statistics.median(passes) * 1000, 2),
            "datatable_rebuild_ms": round(table_s * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=6000.0, help="tokens per second, total")
    parser.add_argument("--per-event", type=int, default=4, help="tokens per TokenDelta")
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument("--skip-baseline", action="store_true",
                        help="only the bridged run (no per-event comparison)")
    parser.add_argument("--problems", type=int, default=5000,
                        help="rows in the queue-scale check (0: skip it)")
    args = parser.parse_args()

    results = [asyncio.run(run("bridge 25 fps", args.tokens, args.rate, args.per_event))]
    if not args.skip_baseline:
        results.append(asyncio.run(run("per-event", args.tokens, args.rate, args.per_event)))
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    header = ("mode", "tokens", "s", "tok/s", "lag p50 ms", "lag p99 ms", "lag max ms",
              "frames/s", "RSS MB start→end")
    print(" | ".join(header))
    for r in results:
        print(" | ".join(str(x) for x in (
            r.mode, r.tokens, r.seconds, r.tokens_per_s, r.lag_p50_ms, r.lag_p99_ms,
            r.lag_max_ms, r.frames_per_s, f"{r.rss_start_mb}→{r.rss_end_mb}")))
    if len(results) == 2:
        print(f"lag p99 ratio per-event / bridge: "
              f"{results[1].lag_p99_ms / max(results[0].lag_p99_ms, 0.01):.1f}x")
    scale = asyncio.run(queue_scale(args.problems)) if args.problems else None
    if scale:
        print(f"queue with {scale['problems']} problems: read in {scale['load_s']} s (a worker "
              f"thread, off the event loop); one "
              f"filter pass {scale['filter_ms']} ms vs rebuilding a DataTable of the same rows "
              f"{scale['datatable_rebuild_ms']} ms "
              f"({scale['datatable_rebuild_ms'] / max(scale['filter_ms'], 0.01):.0f}x)")
    if args.json:
        args.json.write_text(json.dumps({"stream": [asdict(r) for r in results],
                                         "queue": scale}, indent=2))


if __name__ == "__main__":
    main()
