"""The debounced watcher on a real folder with real watchdog events."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from atlas_tui.watcher import FolderWatcher, is_noise


async def collect(root: Path, action, *, until, quiet_s: float = 1.0) -> list[set[Path]]:  # type: ignore[no-untyped-def]
    """Run `action` against a watched folder and return the batches. The quiet period is wide
    (1 s) so a burst written in a few milliseconds is one burst even on a loaded machine."""
    batches: list[set[Path]] = []
    watcher = FolderWatcher(root, batches.append, quiet_s=quiet_s, max_wait_s=10.0)
    watcher.start()
    try:
        await asyncio.sleep(0.1)  # the observer is scheduled
        action()
        for _ in range(1000):  # bounded by steps, not a timed assertion
            if until(batches):
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(quiet_s * 1.5)  # nothing more should come
    finally:
        watcher.stop()
    return batches


async def test_many_events_for_one_file_are_one_change(tmp_path: Path) -> None:
    target = tmp_path / "p.md"

    def save_like_an_editor() -> None:
        for n in range(20):
            target.write_text(f"version {n}")
        os.utime(target)

    batches = await collect(tmp_path, save_like_an_editor, until=lambda b: bool(b))
    assert batches == [{target}]


async def test_a_burst_of_100_files_is_one_batch_with_each_path_once(tmp_path: Path) -> None:
    paths = [tmp_path / f"p{n:03d}.md" for n in range(100)]

    def burst() -> None:
        for path in paths:
            path.write_text("x")

    batches = await collect(tmp_path, burst, until=lambda b: sum(map(len, b)) >= 100)
    seen = [p for batch in batches for p in batch]
    assert sorted(seen) == sorted(paths)  # each path exactly once
    assert len(batches) <= 2  # one burst, at most split by the max-wait cap


async def test_moves_report_both_ends_and_deletions_are_reported(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("a")
    (tmp_path / "gone.md").write_text("g")

    def change() -> None:
        (tmp_path / "a.md").rename(tmp_path / "b.md")
        (tmp_path / "gone.md").unlink()

    batches = await collect(tmp_path, change,
                            until=lambda b: len(set().union(*b)) >= 3 if b else False)
    assert set().union(*batches) == {tmp_path / "a.md", tmp_path / "b.md", tmp_path / "gone.md"}


async def test_noise_never_reaches_the_batch(tmp_path: Path) -> None:
    def droppings() -> None:
        (tmp_path / ".p.md.swp").write_text("")
        (tmp_path / "p.md~").write_text("")
        (tmp_path / "#p.md#").write_text("")
        (tmp_path / "x.answer.py").write_text("")
        (tmp_path / ".git").mkdir()
        (tmp_path / ".git" / "index").write_text("")
        (tmp_path / "real.md").write_text("")

    batches = await collect(tmp_path, droppings, until=lambda b: bool(b))
    assert set().union(*batches) == {tmp_path / "real.md"}


def test_is_noise_rules(tmp_path: Path) -> None:
    root = tmp_path
    assert is_noise(root / "4913", root) and is_noise(root / ".#p.md", root)
    assert is_noise(root / "sub" / ".hidden" / "p.md", root)
    assert is_noise(root / "p.md.tmp", root) and is_noise(root / "s.sqlite-wal", root)
    assert not is_noise(root / "sub" / "p.md", root)
    assert not is_noise(root / "data.jsonl.gz", root)
    assert is_noise(tmp_path.parent / "elsewhere.md", root)
