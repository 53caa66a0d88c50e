"""The workbench app and the one factory that builds it, shared by the CLI and the tests.

The app composes the widgets, binds the keys and routes what arrives on its own (the queue's
highlight, the bridge's folded states, the clock) to the panes. Everything else lives in its
own module: the shared state and queries in `base`, the engine's parts in `resources`, the
mapping from folded state to what the panes show in `views`, the folder in `folder_sync`, and
the actions in `actions/` (solving, candidates, view). Engine events reach the panes through
the `EventBridge` (folded into `TaskState`, drawn at a bounded rate).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import get_current_worker

import themes
from atlas_tui import gpu, keys, theming
from atlas_tui.actions.candidates import CandidateActions
from atlas_tui.actions.solving import SolvingActions
from atlas_tui.actions.view import ViewActions
from atlas_tui.base import while_mounted
from atlas_tui.bridge import StatesChanged
from atlas_tui.config import Config
from atlas_tui.folder_sync import FolderSync
from atlas_tui.solving import SolveQueue
from atlas_tui.views import row_changed
from engine.store import Store, StoreError
from widgets.panes import TaskPanes
from widgets.queue import ProblemQueue
from widgets.status import StatusBar


class AtlasApp(FolderSync, SolvingActions, CandidateActions, ViewActions):
    TITLE = "atlas-tui"
    CSS_PATH: ClassVar[list[str | PurePath]] = [themes.LAYOUT]
    BINDINGS: ClassVar[list[BindingType]] = list(keys.workbench_bindings())

    # --- building -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            self.queue_widget = ProblemQueue(id="queue")
            yield self.queue_widget
            yield TaskPanes(id="panes")
        yield StatusBar(id="status")
        yield Footer(compact=True, show_command_palette=False)  # ctrl+p: in the help

    async def on_mount(self) -> None:
        theming.register(self)
        theming.apply_theme(self, self.theme_name)
        self._apply_keymap()
        try:
            self.store = Store(self.store_path)
        except StoreError as exc:  # the app still opens; this session is kept in memory only
            self.notify(f"{exc}. Sessions of this run are kept in memory only.",
                        severity="error", timeout=15)
            self.store = Store(":memory:")
        self.session_id = self.store.new_session(
            "folder", str(self.folder.root), {"condition": self.condition}
        )
        self.solver = SolveQueue(
            backend=self.resources.backend,
            sandbox=self.resources.sandbox,
            lens=self.resources.lens,
            store=self.store,
            session_id=self.session_id,
            emit=self.bridge.emit,
            on_status=self.set_status,
            pipeline=lambda: self.config.pipeline_config(self.condition),
            step_mode=self.config.step_mode,
        )
        self.bridge.start()
        if self.live_clock:
            self.set_interval(1.0, self.refresh_status, name="clock")
            if gpu.available():
                self._poll_gpu()
        self.load_folder()
        if not self.resources.scripted and not self.config.has_model:
            self.show_no_model("No model is configured.")
        self.refresh_status()

    def _apply_keymap(self) -> None:
        keymap = dict(self.config.keymap)
        unknown = keys.unknown_ids(keymap)
        if unknown:
            self.notify(f"keymap: no binding with id {', '.join(unknown)} (see ?)",
                        severity="warning", timeout=8)
        self.set_keymap({k: v for k, v in keymap.items() if k not in unknown})

    async def on_unmount(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        if self.solver is not None:
            await self.solver.stop()
        self.bridge.stop()
        await self.resources.close()
        if self.store is not None:
            self.store.close()

    # --- what arrives on its own --------------------------------------------------------------

    @on(ProblemQueue.Highlighted)
    @while_mounted
    def _highlighted(self, event: ProblemQueue.Highlighted) -> None:
        # the cursor may have moved on since: the panes follow where it is now (current_key)
        if self.current_key != self._shown_key:
            self.show_current()

    @on(ProblemQueue.Chosen)
    def _chosen(self, event: ProblemQueue.Chosen) -> None:
        self.action_solve()

    @on(StatesChanged)
    @while_mounted
    def _states_changed(self, message: StatesChanged) -> None:
        task_id = self.task_for(self.current_key)
        if task_id is not None and task_id in message.states:
            self.panes().show(message.states[task_id])
        running = self.solver.running if self.solver else None
        if running is not None and running.task_id in message.states:
            # the row follows its task: paused at a gate, a new error or warning
            item = self.folder.item(running.key)
            queue = self.query_one(ProblemQueue)
            now = self.entry(item) if item is not None else None
            if now is not None and row_changed(queue.entry(running.key), now):
                queue.upsert(now)
        self.refresh_status()

    @work(thread=True, exclusive=True, group="gpu")
    def _poll_gpu(self) -> None:
        worker = get_current_worker()
        while not worker.is_cancelled:
            self.gpu_memory = gpu.read() or ""
            for _ in range(50):  # every 5 s, and a prompt exit when the app closes
                if worker.is_cancelled:
                    return
                time.sleep(0.1)

    # --- which actions apply where ------------------------------------------------------------

    _ANYWHERE = frozenset({"help", "quit", "cycle_theme", "command_palette"})
    _WORKBENCH = frozenset(b.action for b in keys.workbench_bindings())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Workbench actions act on the main screen only: replay is read-only, and a key
        pressed in a dialog must not start a solve behind it."""
        on_main = len(self.screen_stack) <= 1
        return on_main or action not in self._WORKBENCH or action in self._ANYWHERE

    # --- the command palette ----------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in keys.workbench_bindings():
            if binding.id in ("help", "quit"):
                continue
            action = getattr(self, f"action_{binding.action}")
            yield SystemCommand(keys.describe(binding.id or ""),
                                f"key: {self.effective_keys()[binding.id or '']}"
                                f" · id: {binding.id}", action)


def create_app(
    problem_dir: Path | str,
    config: Config | None = None,
    **options: Any,
) -> AtlasApp:
    """The one way to build the app: the CLI and every test go through here."""
    return AtlasApp(Path(problem_dir), config or Config(), **options)
