"""What every part of the workbench shares: the app's state (config, folder, store, solver,
bridge, the engine's resources) and the questions every action asks of it (which problem and
which task are shown). `AtlasApp` composes the widgets and binds the keys; the actions live in
`atlas_tui/actions/`, each a mixin over this base."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.css.query import NoMatches

from atlas_tui import keys
from atlas_tui.bridge import EventBridge
from atlas_tui.config import Config, config_path
from atlas_tui.folder import Changes, Item, ProblemFolder
from atlas_tui.resources import Factory, Resources
from atlas_tui.screens.no_model import NoModelScreen
from atlas_tui.solving import SolveQueue
from atlas_tui.views import NEW, model_label, queue_entry, row_status
from atlas_tui.watcher import FolderWatcher
from engine.pipeline.gates import GateName
from engine.problems.model import Limits, Problem, TestCase
from engine.state import TaskState
from engine.store import Store
from widgets.panes import TaskPanes
from widgets.queue import ProblemQueue, QueueEntry
from widgets.status import StatusBar, StatusInfo


def while_mounted(handler: Callable[..., Any]) -> Callable[..., Any]:
    """For what arrives on its own (messages, timers, the solver's callbacks): while the app
    shuts down its widgets are gone, and there is nothing left to draw."""

    @functools.wraps(handler)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except NoMatches:
            return None

    return guarded


class WorkbenchBase(App[None]):
    def __init__(
        self,
        problem_dir: Path,
        config: Config,
        *,
        config_file: Path | None = None,
        backend_factory: Factory | None = None,
        sandbox_factory: Factory | None = None,
        store_path: Path | None = None,
        watch: bool = True,
        animate: bool = True,
        clock: Callable[[], float] = time.time,
        fps: float = 25.0,
        watch_quiet_s: float = 0.3,
    ) -> None:
        super().__init__()
        self.config = config
        self.condition = config.condition
        self.config_file = config_file or config_path()
        self.folder = ProblemFolder(problem_dir)
        self.store_path = store_path or (
            Path(config.store).expanduser() if config.store
            else self.folder.root / ".atlas" / "sessions.sqlite"
        )
        self.resources = Resources(self, lambda: self.config, backend_factory=backend_factory,
                                   sandbox_factory=sandbox_factory,
                                   on_change=self.refresh_status,
                                   on_model_failed=self.show_no_model)
        self._watch = watch
        self._watch_quiet_s = watch_quiet_s
        self.live_clock = animate  # the 1 s status tick and the GPU poll (off in tests)
        self.clock = clock
        self.theme_name = config.theme
        self.bridge = EventBridge(self, fps=fps)
        self.store: Store | None = None
        self.session_id: str | None = None
        self.solver: SolveQueue | None = None
        self.watcher: FolderWatcher | None = None
        # item key -> (status, message) as the solver last said: written by set_status only
        self.status_of: dict[str, tuple[str, str]] = {}
        self.shown_task: dict[str, str] = {}  # item key -> task shown for it (live or manual)
        self.user_tests: dict[str, list[TestCase]] = {}
        self.queue_widget: ProblemQueue | None = None  # set by compose
        self._shown_key: str | None = None  # the row the panes show
        self.folder_changes: list[Changes] = []
        self.loaded = asyncio.Event()
        self._note = ""
        self.gpu_memory = ""

    # --- what is shown ----------------------------------------------------------------------

    @property
    def current_key(self) -> str | None:
        """The queue's highlighted row, read from the queue's cursor when asked. Not the key
        its `Highlighted` message last carried: that message reaches the app only after every
        key already queued behind the move, so Down, Down, `s` typed ahead (as tmux sends them
        while the loop is busy) would solve the row the cursor had left."""
        return self.queue_widget.highlighted_key if self.queue_widget is not None else None

    def current_item(self) -> Item | None:
        return self.folder.item(self.current_key) if self.current_key else None

    def current_state(self) -> TaskState | None:
        return self.state_for(self.current_key)

    def task_for(self, key: str | None) -> str | None:
        """The task shown for a queue item: the one a person ran by hand, else its latest."""
        if key is None:
            return None
        return self.shown_task.get(key) or (self.solver.task_of.get(key) if self.solver
                                            else None)

    def state_for(self, key: str | None) -> TaskState | None:
        task_id = self.task_for(key)
        if task_id is None:
            return None
        state = self.bridge.state(task_id)
        if state is None and self.store is not None:
            # an older task the bridge let go of: fold its log again from the store
            state = self.store.state(task_id)
            if state.task_id:
                self.bridge.seed(state)
        return state

    def row_status(self, key: str | None) -> str:
        """The status the queue row of `key` shows."""
        if key is None:
            return NEW[0]
        return row_status(self.status_of.get(key, NEW), self.state_for(key))[0]

    def panes(self) -> TaskPanes:
        return self.query_one("#panes", TaskPanes)

    def effective_keys(self) -> dict[str, str]:
        defaults = {b.id: b.key for b in keys.workbench_bindings() if b.id}
        return {**defaults, **{k: v for k, v in self.config.keymap.items() if k in defaults}}

    def note(self, text: str) -> None:
        self._note = text
        self.refresh_status()

    def show_current(self) -> None:
        panes = self.panes()
        if self.current_key != self._shown_key:  # another row: its panes open at the live view
            self._shown_key = self.current_key
            panes.iteration = None
        item = self.current_item()
        if item is None:
            panes.show_problem(None)
        else:
            panes.show_problem(item.error or (item.problem.view() if item.problem else None))
        panes.show(self.current_state())
        self.refresh_status()

    @while_mounted
    def refresh_status(self) -> None:
        backend = self.resources.backend_now
        info = StatusInfo(
            model=model_label(backend, self.config, scripted=self.resources.scripted),
            backend=str(backend.info.kind) if backend is not None else "",
            sandbox_tier=str(getattr(self.resources.sandbox_now, "tier", "not started")),
            gpu_memory=self.gpu_memory,
            condition=self.condition,
            step_mode=bool(self.solver and self.solver.step_mode),
            note=self._note,
            loading=self.resources.describe_loading(time.monotonic()),
        )
        self.query_one(StatusBar).show(self.current_state(), info, now=self.clock())

    # --- the queue rows -----------------------------------------------------------------------

    @while_mounted
    def set_status(self, key: str, status: str, message: str) -> None:
        """The one writer of a row's status: the solver's callback (and a problem file that
        changed or went away, which makes the row new again)."""
        self.bridge.flush()  # a task that just ended: its last events are drawn with its status
        self.status_of[key] = (status, message)
        self.redraw_row(key)
        if key == self.current_key:
            if status == "solving" and self.solver and self.solver.task_of.get(key):
                self.shown_task[key] = self.solver.task_of[key]
            self.show_current()

    def reset_status(self, key: str) -> None:
        """A problem file that changed or went away: its row is new again (drawn by the
        caller, with the folder's other changes)."""
        self.status_of.pop(key, None)

    def entry(self, item: Item) -> QueueEntry:
        return queue_entry(item, self.status_of.get(item.key, NEW), self.state_for(item.key))

    def redraw_row(self, key: str) -> None:
        item = self.folder.item(key)
        if item is not None:
            self.query_one(ProblemQueue).upsert(self.entry(item))

    # --- solving ------------------------------------------------------------------------------

    def queue_item(self, item: Item, *, pause_at: GateName | None = None) -> bool:
        if item.problem is None or self.solver is None:
            return False
        return self.solver.submit(item.key, self.capped(item.problem), pause_at=pause_at)

    def capped(self, problem: Problem) -> Problem:
        """The problem with its per-test limits capped by the configured ones: what the
        pipeline and a person's re-test both run under."""
        mine = self.config.limits
        limits = Limits(time_s=min(problem.limits.time_s, mine.time_s),
                        memory_mb=min(problem.limits.memory_mb, mine.memory_mb))
        return problem if limits == problem.limits else dataclasses.replace(problem,
                                                                             limits=limits)

    # --- the model ----------------------------------------------------------------------------

    def show_no_model(self, reason: str) -> None:
        """What to do without a model, offering to pull the configured catalogue model (or the
        default one) right there."""
        from engine.models import catalogue

        offer = catalogue.find(self.config.model or "") or catalogue.get(catalogue.DEFAULT_MODEL)
        self.push_screen(NoModelScreen(reason, str(self.config_file), offer), self._pulled)

    def _pulled(self, name: str | None) -> None:
        if name is None:
            return
        self.config = self.config.replace(model=name, base_url=None)
        self.resources.forget_backend()  # the next solve opens the model just pulled
        self.notify(f"{name} is ready: press s to solve.", timeout=8)
        self.refresh_status()
