"""Actions on a task's candidates: move between repair iterations, accept a candidate (write
it), edit one in $EDITOR and re-test it, add a test. While the problem is solving, an edit or
a test goes to the pipeline at its next step; otherwise the program is re-tested by hand
(`atlas_tui.manual`) under the same limits the pipeline uses."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from textual import work

from atlas_tui.base import WorkbenchBase
from atlas_tui.folder import Item
from atlas_tui.manual import retest
from atlas_tui.screens.ask import AskLine, AskTest
from atlas_tui.solving import write_answer
from engine.problems.model import TestCase
from widgets.panes import iterations


class CandidateActions(WorkbenchBase):
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
        panes = self.panes()
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
            self.panes().set_iteration(number)
            self.note(f"iteration {number}")

        self.push_screen(AskLine("Jump to repair iteration:", placeholder="1"), chosen)

    def _chosen_code(self) -> tuple[str | None, str]:
        state = self.current_state()
        candidate_id = self.panes().chosen_candidate
        if state is not None and candidate_id is not None and candidate_id in state.candidates:
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
            self.show_current()
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
