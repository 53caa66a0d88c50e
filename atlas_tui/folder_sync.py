"""The problem folder kept in step with the queue: loaded in a worker at start, then every
change the watcher reports (debounced) applied to the queue's rows, off the UI loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import work

from atlas_tui.base import WorkbenchBase
from atlas_tui.watcher import FolderWatcher
from widgets.queue import ProblemQueue


class FolderSync(WorkbenchBase):
    @work(exclusive=True, group="folder")
    async def load_folder(self) -> None:
        changes = await asyncio.to_thread(self.folder.load_all)
        self.folder_changes.append(changes)
        self.query_one(ProblemQueue).set_entries([self.entry(i) for i in self.folder.items])
        if self._watch:
            self.watcher = FolderWatcher(self.folder.root, self._on_files_changed,
                                         quiet_s=self._watch_quiet_s)
            self.watcher.start()
        self.loaded.set()
        if self.config.auto_solve:
            for item in self.folder.items:
                self.queue_item(item)

    async def _on_files_changed(self, paths: set[Path]) -> None:
        changes = await asyncio.to_thread(self.folder.apply, paths)
        self.folder_changes.append(changes)
        for key in changes.removed:
            self.reset_status(key)
            if self.solver is not None:
                self.solver.forget(key)
        entries = []
        for key in [*changes.added, *changes.updated]:
            item = self.folder.item(key)
            if item is None:
                continue
            if key in changes.updated and item.problem is not None:
                self.reset_status(key)  # a changed problem is new again
            entries.append(self.entry(item))
            if self.config.auto_solve and key in changes.added:
                self.queue_item(item)
        self.query_one(ProblemQueue).update(upserts=entries, removals=changes.removed)
        if self.current_key in changes.updated:
            self.show_current()
