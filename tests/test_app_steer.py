"""Steering a solve from the keyboard: pause/resume, cancel, solve all, choose the condition,
re-run pausing before a phase."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_app_solve import SIZE, build, highlight, status
from ui_support import make_folder, script, wait_until

from atlas_tui.app import create_app
from atlas_tui.config import Config
from engine.llm.scripted import ScriptedBackend
from engine.sandbox.sandbox import Sandbox
from engine.state import TaskState

TERMINAL = ("pass", "fail", "solved", "no answer", "error", "cancelled")


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with await Sandbox.create() as box:
        yield box


def slow_backend() -> ScriptedBackend:
    """The same script, streamed a token every 5 ms: a solve lasts long enough to steer."""
    return ScriptedBackend(script(), token_delay_s=0.005)


async def test_pause_then_cancel(tmp_path: Path, sandbox: Sandbox) -> None:
    app = create_app(make_folder(tmp_path / "problems"), Config(condition="D"),
                     backend_factory=slow_backend, sandbox_factory=lambda: sandbox,
                     store_path=tmp_path / "s.sqlite", watch=False, animate=False)
    async with app.run_test(size=SIZE) as pilot:
        await highlight(pilot, app, "sum-two")
        await pilot.press("s")
        await wait_until(pilot, lambda: (app.current_state() or TaskState()).streams != {},
                         "a generation streaming")
        await pilot.press("p")  # pause before whatever step comes next
        await wait_until(pilot, lambda: status(app) == "paused", "paused at a gate")
        state = app.current_state()
        assert state is not None and state.gate is not None and not state.finished
        await pilot.press("p")  # resume: it goes on (and, unpaused, runs to the end)
        await wait_until(pilot, lambda: status(app) in TERMINAL, "finished after resume")
        assert status(app) == "pass"

        await pilot.press("m", "s")  # again, in step mode, and cancel at the first gate
        await wait_until(pilot, lambda: status(app) == "paused", "paused")
        await pilot.press("x")
        await wait_until(pilot, lambda: status(app) == "cancelled", "cancelled")
        state = app.current_state()
        assert state is not None and state.status == "cancelled"
        assert app.solver is not None and app.solver.running is None


async def test_solve_all_in_turn_with_the_chosen_condition(tmp_path: Path,
                                                            sandbox: Sandbox) -> None:
    app = build(tmp_path, sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await highlight(pilot, app, "sum-two")
        await pilot.press("c")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "AskChoice", "asked")
        await pilot.press("home", "enter")  # condition A
        await wait_until(pilot, lambda: app.condition == "A", "condition A")
        await pilot.press("S")
        keys = [i.key for i in app.folder.items]
        await wait_until(pilot, lambda: all(app.status_of.get(k, ("",))[0] in TERMINAL
                                            for k in keys), "both solved")
        assert app.solver is not None
        tasks = [app.store.task(app.solver.task_of[k]) for k in keys]  # type: ignore[union-attr]
        assert [t.condition for t in tasks if t] == ["A", "A"]
        assert tasks[0].started_at <= tasks[1].started_at  # type: ignore[union-attr,operator]
        assert app.status_of[next(k for k in keys if k.endswith("sum-two"))][0] == "fail"


async def test_rerun_pauses_before_the_chosen_phase(tmp_path: Path, sandbox: Sandbox) -> None:
    app = build(tmp_path, sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await highlight(pilot, app, "sum-two")
        await pilot.press("r")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "AskChoice", "asked")
        await pilot.press(*["down"] * 3, "enter")  # probe, plansearch, diversity, selftest
        await wait_until(pilot, lambda: status(app) == "paused", "paused")
        state = app.current_state()
        assert state is not None and state.gate is not None
        assert state.gate.step == "selftest"
        await pilot.press("n")
        await wait_until(pilot, lambda: status(app) == "pass", "finished")


async def test_every_step_the_pipeline_pauses_before_is_one_the_rerun_menu_offers(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """The re-run menu's phases are gate names the pipeline spells on its own (runner,
    repair): a full run with a gate before every step must only reach names the menu has."""
    from support.pipeline_scenarios import solve_task

    from atlas_tui.actions.solving import PHASES
    from engine.pipeline.gates import GateAction, Gates
    from engine.problems import load

    problem = load(make_folder(tmp_path / "problems") / "sum.md").problems[0]
    seen: list[str] = []

    def keep_going(step: str) -> GateAction:
        seen.append(step)
        return "continue"

    await solve_task(problem, script(), sandbox, "full",
                     gates=Gates({"*"}, policy=keep_going))
    reached = {step.split(" ")[0] for step in seen}
    assert {"probe", "repair", "final"} <= reached  # the run went through its steps
    assert reached <= set(PHASES), reached - set(PHASES)


async def test_quitting_while_a_task_runs_logs_its_end_before_the_store_closes(
    tmp_path: Path, sandbox: Sandbox,
) -> None:
    class ClosesAtOnce:
        """The sandbox, closed without yielding to the loop (as a backend in a thread is): the
        cancelled task gets no turn between the cancel and the store's close."""

        def __init__(self, box: Sandbox) -> None:
            self._box = box

        def __getattr__(self, name: str) -> object:
            return getattr(self._box, name)

        def close(self) -> None:
            pass

    store_path = tmp_path / "s.sqlite"
    app = create_app(make_folder(tmp_path / "problems"), Config(condition="D"),
                     backend_factory=slow_backend, sandbox_factory=lambda: ClosesAtOnce(sandbox),
                     store_path=store_path, watch=False, animate=False)
    async with app.run_test(size=SIZE) as pilot:
        await highlight(pilot, app, "sum-two")
        await pilot.press("s")
        await wait_until(pilot, lambda: (app.current_state() or TaskState()).streams != {},
                         "a generation streaming")
        await pilot.press("q")  # quit mid-generation
    from engine.events import TaskFinished
    from engine.store import Store

    store = Store(store_path, readonly=True)
    (task,) = store.tasks()
    ends = [e for e in store.events(task.task_id) if isinstance(e, TaskFinished)]
    assert [e.status for e in ends] == ["cancelled"]  # logged, not lost to a closed store
