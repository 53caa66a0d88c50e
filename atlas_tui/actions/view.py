"""Actions on the view: maximize a pane, switch theme, filter the queue, and the screens a key
opens (help, the errors and warnings log, replay)."""

from __future__ import annotations

from atlas_tui import theming
from atlas_tui.base import WorkbenchBase
from atlas_tui.screens.ask import AskChoice
from atlas_tui.screens.help import HelpScreen
from atlas_tui.screens.notices import NoticesScreen
from atlas_tui.screens.replay import ReplayScreen
from widgets.queue import ProblemQueue


class ViewActions(WorkbenchBase):
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
