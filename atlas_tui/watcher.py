"""Watch a problem folder with watchdog and report changed files in debounced batches.

Editors fire several events for one save (write a temp file, rename it over the original,
touch the swap file), and a `git checkout` fires hundreds at once. The watcher collects the
paths of every event in a set and hands the set over once the folder has been quiet for
`quiet_s` (or at the latest every `max_wait_s` while events keep coming), so each file is
processed once per burst. Swap, backup and temporary files, hidden folders and the tool's own
output are dropped before they reach the set.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

ANSWER_SUFFIX = ".answer.py"  # accepted programs the workbench writes; never problems

_NOISE_SUFFIXES = (
    ".swp", ".swo", ".swx", ".swpx", "~", ".tmp", ".temp", ".part", ".crdownload", ".bak",
    ".orig", ".lock", ".pyc", ".sqlite", ".sqlite-wal", ".sqlite-shm", ".sqlite-journal",
    ANSWER_SUFFIX,
)
_NOISE_NAMES = {"4913", ".DS_Store", "Thumbs.db"}  # 4913: vim's write-permission probe
_NOISE_DIRS = {".git", ".hg", ".svn", "__pycache__", ".atlas", "node_modules", ".venv"}


def is_noise(path: Path, root: Path) -> bool:
    """True for files no person means as a problem: editor droppings, hidden files, our own
    output and anything inside a hidden or tool folder."""
    name = path.name
    if name in _NOISE_NAMES or name.endswith(_NOISE_SUFFIXES):
        return True
    if name.startswith((".#", "#")) or (name.startswith(".") and name != "."):
        return True  # emacs lock/autosave files, hidden files (vim's .x.swp, sed's .sedXXXX)
    try:
        parts = path.relative_to(root).parts[:-1]
    except ValueError:
        return True  # outside the folder (the far end of a move out of it is a deletion)
    return any(part in _NOISE_DIRS or part.startswith(".") for part in parts)


class FolderWatcher:
    """Calls `on_batch(paths)` in the event loop with each debounced set of changed paths
    (created, modified, deleted, and both ends of a move). A path that no longer exists was
    deleted or moved away; a directory path means everything under it."""

    def __init__(
        self,
        root: Path,
        on_batch: Callable[[set[Path]], object],
        *,
        quiet_s: float = 0.3,
        max_wait_s: float = 2.0,
        ignore: Callable[[Path], bool] | None = None,
    ) -> None:
        self.root = root.resolve()
        self._on_batch = on_batch
        self._quiet_s = quiet_s
        self._max_wait_s = max_wait_s
        self._extra_ignore = ignore
        self._lock = threading.Lock()
        self._pending: set[Path] = set()
        self._first_at = 0.0
        self._last_at = 0.0
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        """Start watching; call from inside the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._flusher = self._loop.create_task(self._flush_loop())
        observer = Observer()
        observer.schedule(_Handler(self), str(self.root), recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=2)
            self._observer = None
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None

    def _ignored(self, path: Path) -> bool:
        return is_noise(path, self.root) or bool(self._extra_ignore and self._extra_ignore(path))

    def _record(self, paths: list[Path]) -> None:
        """Called from watchdog's thread."""
        kept = [p for p in paths if not self._ignored(p)]
        if not kept or self._loop is None:
            return
        now = time.monotonic()
        with self._lock:
            if not self._pending:
                self._first_at = now
            self._pending.update(kept)
            self._last_at = now
        self._loop.call_soon_threadsafe(self._wake.set)

    async def _flush_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while True:
                with self._lock:
                    if not self._pending:
                        break
                    now = time.monotonic()
                    quiet_for = now - self._last_at
                    waited = now - self._first_at
                    if quiet_for >= self._quiet_s or waited >= self._max_wait_s:
                        batch, self._pending = self._pending, set()
                    else:
                        batch = None
                        delay = min(self._quiet_s - quiet_for, self._max_wait_s - waited)
                if batch is None:
                    await asyncio.sleep(max(delay, 0.01))
                    continue
                result = self._on_batch(batch)
                if asyncio.iscoroutine(result):
                    await result


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: FolderWatcher) -> None:
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return  # reads are not changes
        if event.is_directory and event.event_type == "modified":
            return  # a folder's mtime changes with every file in it; the files report
        paths = [Path(_text(event.src_path))]
        dest = getattr(event, "dest_path", "")
        if dest:
            paths.append(Path(_text(dest)))
        self._watcher._record(paths)


def _text(path: str | bytes) -> str:
    return path.decode() if isinstance(path, bytes) else path
