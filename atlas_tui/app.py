"""The workbench app and the one factory that builds it, shared by the CLI and the tests.

The app is a shell: the queue's model is `ProblemFolder`, solving is `SolveQueue` over
`engine.task.run_task`, engine events reach the panes through the `EventBridge` (folded into
`TaskState`, drawn at a bounded rate), and every pane renders folded state only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import os
import shlex
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path, PurePath
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import get_current_worker

import themes
from atlas_tui import gpu, keys, theming
from atlas_tui.bridge import EventBridge, StatesChanged
from atlas_tui.config import CONDITIONS, Config, config_path
from atlas_tui.folder import Changes, Item, ProblemFolder
from atlas_tui.manual import retest
from atlas_tui.resources import Factory, Resources
from atlas_tui.screens.ask import AskChoice, AskLine, AskTest
from atlas_tui.screens.help import HelpScreen
from atlas_tui.screens.no_model import NoModelScreen
from atlas_tui.screens.notices import NoticesScreen
from atlas_tui.screens.replay import ReplayScreen
from atlas_tui.solving import SolveQueue, write_answer
from atlas_tui.watcher import FolderWatcher
from engine.problems.model import Limits, Problem, TestCase
from engine.state import TaskState
from engine.store import Store, StoreError
from widgets.notices import summary as notice_summary
from widgets.panes import TaskPanes, iterations
from widgets.queue import ProblemQueue, QueueEntry
from widgets.status import StatusBar, StatusInfo

# the pipeline's gate names, in the order a run reaches them
PHASES = (
    "probe", "plansearch", "diversity", "selftest", "select", "differential", "repair", "final"
)


def _while_mounted(handler: Callable[..., Any]) -> Callable[..., Any]:
    """For what arrives on its own (messages, timers, the solver's callbacks): while the app
    shuts down its widgets are gone, and there is nothing left to draw."""

    @functools.wraps(handler)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except NoMatches:
            return None

    return guarded


class AtlasApp(App[None]):
    TITLE = "atlas-tui"
    CSS_PATH: ClassVar[list[str | PurePath]] = [themes.LAYOUT]
    BINDINGS: ClassVar[list[BindingType]] = list(keys.workbench_bindings())

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
                                   on_change=self._resources_changed,
                                   on_model_failed=self.show_no_model)
        self._watch = watch
        self._watch_quiet_s = watch_quiet_s
        self.animate = animate
        self.clock = clock
        self.theme_name = config.theme
        self.bridge = EventBridge(self, fps=fps)
        self.store: Store | None = None
        self.session_id: str | None = None
        self.solver: SolveQueue | None = None
        self.watcher: FolderWatcher | None = None
        self.status_of: dict[str, tuple[str, str]] = {}
        self.shown_task: dict[str, str] = {}  # item key -> task shown for it (live or manual)
        self.user_tests: dict[str, list[TestCase]] = {}
        self.current_key: str | None = None
        self.folder_changes: list[Changes] = []
        self.loaded = asyncio.Event()
        self._note = ""
        self._gpu_memory = ""
        self._notices_shown: dict[str, int] = {}  # item key -> notices its queue row shows

    # --- building -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            yield ProblemQueue(id="queue")
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
        if self.animate:
            self.set_interval(1.0, self._tick, name="clock")
            if gpu.available():
                self._poll_gpu()
        self._load_folder()
        if not self.resources.scripted and not self.config.has_model:
            self.show_no_model("No model is configured.")
        self._refresh_status()

    def _apply_keymap(self) -> None:
        keymap = dict(self.config.keymap)
        unknown = keys.unknown_ids(keymap)
        if unknown:
            self.notify(f"keymap: no binding with id {', '.join(unknown)} (see ?)",
                        severity="warning", timeout=8)
        self.set_keymap({k: v for k, v in keymap.items() if k not in unknown})

    def effective_keys(self) -> dict[str, str]:
        defaults = {b.id: b.key for b in keys.workbench_bindings() if b.id}
        return {**defaults, **{k: v for k, v in self.config.keymap.items() if k in defaults}}

    async def on_unmount(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        if self.solver is not None:
            self.solver.cancel_all()
        self.bridge.stop()
        await self.resources.close()
        if self.store is not None:
            self.store.close()

    # --- the folder -------------------------------------------------------------------------

    @work(exclusive=True, group="folder")
    async def _load_folder(self) -> None:
        changes = await asyncio.to_thread(self.folder.load_all)
        self.folder_changes.append(changes)
        self.query_one(ProblemQueue).set_entries([self._entry(i) for i in self.folder.items])
        if self._watch:
            self.watcher = FolderWatcher(self.folder.root, self._on_files_changed,
                                         quiet_s=self._watch_quiet_s)
            self.watcher.start()
        self.loaded.set()
        if self.config.auto_solve:
            for item in self.folder.items:
                self._queue_item(item)

    async def _on_files_changed(self, paths: set[Path]) -> None:
        changes = await asyncio.to_thread(self.folder.apply, paths)
        self.folder_changes.append(changes)
        for key in changes.removed:
            self.status_of.pop(key, None)
            if self.solver is not None:
                self.solver.forget(key)
        entries = []
        for key in [*changes.added, *changes.updated]:
            item = self.folder.item(key)
            if item is None:
                continue
            if key in changes.updated and item.problem is not None:
                self.status_of.pop(key, None)  # a changed problem is new again
            entries.append(self._entry(item))
            if self.config.auto_solve and key in changes.added:
                self._queue_item(item)
        self.query_one(ProblemQueue).update(upserts=entries, removals=changes.removed)
        if self.current_key in changes.updated:
            self._show_current()

    def _entry(self, item: Item) -> QueueEntry:
        if item.error is not None:
            return QueueEntry(item.key, item.problem_id, item.title, "error", item.error.message)
        status, message = self.status_of.get(item.key, ("new", ""))
        state = self.state_for(item.key)
        self._notices_shown[item.key] = len(state.notices) if state else 0
        return QueueEntry(item.key, item.problem_id, item.title, status, message,
                          notice_summary(state))

    @_while_mounted
    def set_status(self, key: str, status: str, message: str) -> None:
        self.bridge.flush()  # a task that just ended: its last events are drawn with its status
        self.status_of[key] = (status, message)
        item = self.folder.item(key)
        if item is not None:
            self.query_one(ProblemQueue).upsert(self._entry(item))
        if key == self.current_key:
            if status == "solving" and self.solver and self.solver.task_of.get(key):
                self.shown_task[key] = self.solver.task_of[key]
            self._show_current()

    # --- showing ----------------------------------------------------------------------------

    @on(ProblemQueue.Highlighted)
    @_while_mounted
    def _highlighted(self, event: ProblemQueue.Highlighted) -> None:
        if event.key != self.current_key:
            self.current_key = event.key
            panes = self.query_one("#panes", TaskPanes)
            panes.iteration = None
            self._show_current()

    @on(ProblemQueue.Chosen)
    def _chosen(self, event: ProblemQueue.Chosen) -> None:
        self.action_solve()

    def current_item(self) -> Item | None:
        return self.folder.item(self.current_key) if self.current_key else None

    def current_state(self) -> TaskState | None:
        return self.state_for(self.current_key)

    def state_for(self, key: str | None) -> TaskState | None:
        """The task shown for a queue item: the one a person ran by hand, else its latest."""
        if key is None:
            return None
        task_id = self.shown_task.get(key) or (self.solver.task_of.get(key) if self.solver
                                               else None)
        if task_id is None:
            return None
        state = self.bridge.state(task_id)
        if state is None and self.store is not None:
            # an older task the bridge let go of: fold its log again from the store
            state = self.store.state(task_id)
            if state.task_id:
                self.bridge.seed(state)
        return state

    def _show_current(self) -> None:
        panes = self.query_one("#panes", TaskPanes)
        item = self.current_item()
        if item is None:
            panes.show_problem(None)
        else:
            panes.show_problem(item.error or (item.problem.view() if item.problem else None))
        panes.show(self.current_state())
        self._refresh_status()

    @on(StatesChanged)
    @_while_mounted
    def _states_changed(self, message: StatesChanged) -> None:
        key = self.current_key
        task_id = None
        if key is not None:
            task_id = self.shown_task.get(key) or (self.solver.task_of.get(key)
                                                   if self.solver else None)
        if task_id in message.states:
            self.query_one("#panes", TaskPanes).show(message.states[task_id])
        running = self.solver.running if self.solver else None
        if running is not None and running.task_id in message.states:
            state = message.states[running.task_id]
            item = self.folder.item(running.key)
            if item is not None and len(state.notices) != self._notices_shown.get(running.key):
                self.query_one(ProblemQueue).upsert(self._entry(item))  # a new error or warning
            # the queue row says when the running task waits at a step gate
            gated = message.states[running.task_id].gate is not None
            want, now = ("paused" if gated else "solving"), self.status_of.get(running.key)
            if now and now[0] in ("solving", "paused") and now[0] != want:
                self.set_status(running.key, want, "")
        self._refresh_status()

    @_while_mounted
    def _tick(self) -> None:
        self._refresh_status()

    @work(thread=True, exclusive=True, group="gpu")
    def _poll_gpu(self) -> None:
        worker = get_current_worker()
        while not worker.is_cancelled:
            self._gpu_memory = gpu.read() or ""
            for _ in range(50):  # every 5 s, and a prompt exit when the app closes
                if worker.is_cancelled:
                    return
                time.sleep(0.1)

    def _refresh_status(self) -> None:
        info = StatusInfo(
            model=self._model_label(),
            backend=self._backend_kind(),
            sandbox_tier=str(getattr(self.resources.sandbox_now, "tier", "not started")),
            gpu_memory=self._gpu_memory,
            condition=self.condition,
            step_mode=bool(self.solver and self.solver.step_mode),
            note=self._note,
            loading=self.resources.describe_loading(time.monotonic()),
        )
        self.query_one(StatusBar).show(self.current_state(), info, now=self.clock())

    def _model_label(self) -> str:
        backend = self.resources.backend_now
        if backend is not None:
            return str(backend.info.model)
        if self.resources.scripted:
            return "model on first solve"
        if self.config.base_url:
            return self.config.base_url
        return Path(self.config.model).name if self.config.model else "no model"

    def _backend_kind(self) -> str:
        backend = self.resources.backend_now
        return str(backend.info.kind) if backend is not None else ""

    @_while_mounted
    def _resources_changed(self) -> None:
        self._refresh_status()

    def note(self, text: str) -> None:
        self._note = text
        self._refresh_status()

    # --- the model ------------------------------------------------------------------------

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
        self._refresh_status()

    # --- actions: solving -------------------------------------------------------------------

    def _queue_item(self, item: Item, *, pause_at: str | None = None) -> bool:
        if item.problem is None or self.solver is None:
            return False
        return self.solver.submit(item.key, self.capped(item.problem), pause_at=pause_at)

    def capped(self, problem: Problem) -> Problem:
        """The problem with its per-test limits capped by the configured ones."""
        mine = self.config.limits
        limits = Limits(time_s=min(problem.limits.time_s, mine.time_s),
                        memory_mb=min(problem.limits.memory_mb, mine.memory_mb))
        return problem if limits == problem.limits else dataclasses.replace(problem,
                                                                             limits=limits)

    def action_solve(self) -> None:
        item = self.current_item()
        if item is None:
            self.notify("No problem highlighted.", severity="warning")
        elif item.problem is None:
            self.notify("This file did not load; fix it and it reloads.", severity="error")
        elif not self._queue_item(item):
            self.notify("Already queued or solving.")

    def action_solve_all(self) -> None:
        queued = [i for i in self.folder.items
                  if self.status_of.get(i.key, ("new", ""))[0] == "new" and self._queue_item(i)]
        self.notify(f"Queued {len(queued)} problems.")

    def action_pause(self) -> None:
        if self.solver is not None:
            self.note(self.solver.toggle_pause())

    def action_cancel(self) -> None:
        if self.solver is None or not self.solver.cancel():
            self.notify("Nothing is solving.")

    def action_step_mode(self) -> None:
        if self.solver is not None:
            self.solver.set_step_mode(not self.solver.step_mode)
            self.note("step mode on: pauses before every step" if self.solver.step_mode
                      else "step mode off")

    def action_next_step(self) -> None:
        if self.solver is None or not self.solver.next_step():
            self.notify("Not paused at a step.")

    def action_condition(self) -> None:
        def chosen(condition: str | None) -> None:
            if condition:
                self.condition = condition
                self.note(f"condition {condition} for the next solve")

        self.push_screen(AskChoice("Condition for the next solve", CONDITIONS,
                                   current=self.condition), chosen)

    def action_rerun(self) -> None:
        item = self.current_item()
        if item is None or item.problem is None:
            self.notify("No problem to re-run.", severity="warning")
            return

        def chosen(phase: str | None) -> None:
            if phase and self._queue_item(item, pause_at=phase):
                self.note(f"re-running {item.problem_id}; pauses before {phase}")

        self.push_screen(AskChoice("Re-run, pausing before which phase?", PHASES), chosen)

    # --- actions: iterations, candidates ----------------------------------------------------

    def _panes(self) -> TaskPanes:
        return self.query_one("#panes", TaskPanes)

    def action_prev_iteration(self) -> None:
        self._move_iteration(-1)

    def action_next_iteration(self) -> None:
        self._move_iteration(1)

    def _move_iteration(self, delta: int) -> None:
        state = self.current_state()
        found = iterations(state) if state else []
        if not found:
            self.notify("No repair iterations yet.")
            return
        panes = self._panes()
        current = panes.iteration
        if current is None:
            target = found[-1] if delta < 0 else None
        else:
            index = found.index(current) + delta if current in found else len(found) - 1
            target = found[index] if 0 <= index < len(found) else (found[0] if index < 0
                                                                    else None)
        panes.set_iteration(target)
        self.note("live" if target is None else f"iteration {target}")

    def action_jump_iteration(self) -> None:
        def chosen(answer: str | None) -> None:
            if not answer:
                return
            state = self.current_state()
            found = iterations(state) if state else []
            try:
                number = int(answer)
            except ValueError:
                self.notify(f"{answer!r} is not a number.", severity="error")
                return
            if number not in found:
                self.notify(f"No iteration {number} (have {found or 'none'}).", severity="error")
                return
            self._panes().set_iteration(number)
            self.note(f"iteration {number}")

        self.push_screen(AskLine("Jump to repair iteration:", placeholder="1"), chosen)

    def _chosen_code(self) -> tuple[str | None, str]:
        state = self.current_state()
        candidate_id = self._panes().chosen_candidate
        if state is not None and candidate_id in state.candidates:
            return candidate_id, state.candidates[candidate_id].code
        item = self.current_item()
        starter = item.problem.starter_code if item and item.problem else ""
        return None, starter

    def action_accept(self) -> None:
        item = self.current_item()
        candidate_id, code = self._chosen_code()
        if item is None or item.problem is None or candidate_id is None:
            self.notify("Highlight a candidate first.", severity="warning")
            return
        path = write_answer(item.problem, code, self.config.output_dir)
        if self.solver is not None and self.solver.running and \
                self.solver.running.key == item.key:
            self.solver.pin(candidate_id)
        self.note(f"accepted {candidate_id} → {path}")
        self.notify(f"Answer written to {path}")

    def action_edit(self) -> None:
        item = self.current_item()
        if item is None or item.problem is None:
            self.notify("No problem highlighted.", severity="warning")
            return
        candidate_id, code = self._chosen_code()
        edits = self.folder.root / ".atlas" / "edits"
        edits.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f"{candidate_id or 'new'}-", suffix=".py",
                                        dir=edits)
        path = Path(name)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(code)
        self._run_editor(path)
        edited = path.read_text(encoding="utf-8")
        path.unlink(missing_ok=True)
        if edited == code:
            self.notify("Not changed.")
            return
        running = self.solver.running if self.solver else None
        if running is not None and running.key == item.key and candidate_id is not None:
            self.solver.edit(candidate_id, edited)  # type: ignore[union-attr]
            self.note(f"edit of {candidate_id} goes to the pipeline at its next step")
        else:
            self._retest(item, edited, candidate_id)

    def _run_editor(self, path: Path) -> None:
        editor = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
        try:
            with self.suspend():
                subprocess.run([*editor, str(path)], check=False)
        except Exception:  # no terminal to hand over (headless): run it as it is
            subprocess.run([*editor, str(path)], check=False, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.refresh()

    @work(group="retest")
    async def _retest(self, item: Item, code: str, parent_id: str | None) -> None:
        assert item.problem is not None
        try:
            sandbox = await self.resources.sandbox()
        except Exception as exc:
            self.notify(f"No sandbox: {exc}", severity="error")
            return
        self.note("running your program on the examples…")

        def emit(event: Any) -> None:
            self.bridge.emit(event)

        task_id = await retest(self.capped(item.problem), code, sandbox, store=self.store,
                               session_id=self.session_id, emit=emit, parent_id=parent_id,
                               extra_tests=self.user_tests.get(item.key, ()))
        self.shown_task[item.key] = task_id
        self.bridge.flush()
        if item.key == self.current_key:
            self._show_current()
        state = self.bridge.state(task_id)
        tally = state.candidates["edit1"].public if state and "edit1" in state.candidates \
            else None
        self.note(f"your program: {tally.passed}/{tally.total} examples" if tally
                  else "your program ran")

    def action_add_test(self) -> None:
        item = self.current_item()
        if item is None or item.problem is None:
            self.notify("No problem highlighted.", severity="warning")
            return

        def added(test: tuple[str, str] | None) -> None:
            if test is None or item.problem is None:
                return
            given, expected = test
            running = self.solver.running if self.solver else None
            if running is not None and running.key == item.key:
                self.solver.add_test(given, expected)  # type: ignore[union-attr]
                self.note("test goes to the pipeline at its next step")
                return
            self.user_tests.setdefault(item.key, []).append(
                TestCase(given, expected, item.problem.test_kind, origin="you"))
            candidate_id, code = self._chosen_code()
            if code.strip():
                self._retest(item, code, candidate_id)
            else:
                self.note("test kept: it runs with your next edit")

        self.push_screen(AskTest(), added)

    # --- actions: view ----------------------------------------------------------------------

    def action_maximize(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        pane_ids = {"queue", "problem", "candidates", "energy", "tests", "reasoning"}
        focused = self.focused
        pane = None
        if focused is not None:
            pane = next((n for n in focused.ancestors_with_self if n.id in pane_ids), None)
        if pane is None:
            self.notify("Focus a pane first (tab).")
            return
        screen.maximize(pane, container=False)  # type: ignore[arg-type]

    def action_cycle_theme(self) -> None:
        self.set_theme(theming.next_theme(self.theme_name))

    def set_theme(self, name: str) -> None:
        theming.apply_theme(self, name)
        self.theme_name = name
        dark = name != "light"
        for tree in self.query("CandidateTree"):
            tree.code_theme = "ansi_dark" if dark else "ansi_light"  # type: ignore[attr-defined]
        self.note(f"theme {name}")

    def action_notices(self) -> None:
        item = self.current_item()
        self.push_screen(NoticesScreen(self.current_state(),
                                       item.problem_id if item else "no problem"))

    def action_filter(self) -> None:
        self.query_one(ProblemQueue).open_filter()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.effective_keys(), str(self.config_file)))

    def action_replay(self) -> None:
        if self.store is None:
            return
        tasks = [t for t in self.store.tasks() if t.last_seq > 0]
        if not tasks:
            self.notify("No stored sessions yet.")
            return
        labels = [f"{t.problem_id} · attempt {t.attempt} · {t.condition or '-'} · {t.status}"
                  f"{' · ' + t.verdict if t.verdict else ''} · {t.task_id}" for t in tasks]

        def chosen(label: str | None) -> None:
            if label is not None:
                self.open_replay(tasks[labels.index(label)].task_id)

        self.push_screen(AskChoice("Replay which task?", labels[::-1]), chosen)

    def open_replay(self, task_id: str, *, at: int | None = None) -> ReplayScreen:
        assert self.store is not None
        info = self.store.task(task_id)
        events = self.store.events(task_id)
        problem = next((i.problem.view() for i in self.folder.items
                        if i.problem and info and i.problem.id == info.problem_id), None)
        screen = ReplayScreen(events, problem, f"{info.problem_id if info else task_id}",
                              start=at)
        self.push_screen(screen)
        return screen

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
