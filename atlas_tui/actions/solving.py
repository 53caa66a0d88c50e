"""Actions on solving: start (one, all), pause, cancel, step through, choose the condition,
re-run pausing before a phase. Each turns a key into a call on the `SolveQueue`."""

from __future__ import annotations

from atlas_tui.base import WorkbenchBase
from atlas_tui.config import CONDITIONS
from atlas_tui.screens.ask import AskChoice
from engine.pipeline.gates import GATES, GateName

# the pipeline's gate names, in the order a run reaches them
PHASES = GATES


class SolvingActions(WorkbenchBase):
    def action_solve(self) -> None:
        item = self.current_item()
        if item is None:
            self.notify("No problem highlighted.", severity="warning")
        elif item.problem is None:
            self.notify("This file did not load; fix it and it reloads.", severity="error")
        elif not self.queue_item(item):
            self.notify("Already queued or solving.")

    def action_solve_all(self) -> None:
        queued = [i for i in self.folder.items
                  if self.status_of.get(i.key, ("new", ""))[0] == "new" and self.queue_item(i)]
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

        def chosen(phase: GateName | None) -> None:
            if phase and self.queue_item(item, pause_at=phase):
                self.note(f"re-running {item.problem_id}; pauses before {phase}")

        self.push_screen(AskChoice("Re-run, pausing before which phase?", PHASES), chosen)
