"""Replay: a stored session opened from the store and stepped through, read-only, reaching the
same final state as the live run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from ui_support import THINK_1, make_folder, screen_text, scripted_backend, wait_until

from atlas_tui.app import create_app
from atlas_tui.config import Config
from atlas_tui.screens.replay import Replayer, ReplayScreen
from engine import events as ev
from engine.sandbox.sandbox import Sandbox
from engine.state import reduce
from engine.store import Store
from widgets.panes import TaskPanes
from widgets.reasoning import ReasoningPane

SIZE = (160, 50)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with await Sandbox.create() as box:
        yield box


async def test_replay_of_a_stored_session_reaches_the_live_final_state(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    store_path = tmp_path / "store.sqlite"
    settings = Config(condition="D", pipeline={"k": 3, "n_diverse": 2})  # the scripted story
    app = create_app(make_folder(tmp_path / "problems"), settings,
                     backend_factory=scripted_backend, sandbox_factory=lambda: sandbox,
                     store_path=store_path, watch=False, animate=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, app.loaded.is_set, "loaded")
        key = next(i.key for i in app.folder.items if i.problem and i.problem.id == "sum-two")
        app.query_one("#queue-table").move_cursor(  # type: ignore[attr-defined]
            row=app.query_one("ProblemQueue").shown_keys.index(key))  # type: ignore[attr-defined]
        await pilot.press("s")
        await wait_until(pilot, lambda: app.status_of.get(key, ("",))[0] == "pass", "solved")
        await pilot.pause()
        live = app.current_state()
        assert live is not None and live.finished

        await pilot.press("R")  # choose the task among the stored ones
        await wait_until(pilot, lambda: type(app.screen).__name__ == "AskChoice", "asked")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen), "replaying")
        replay = app.screen
        assert isinstance(replay, ReplayScreen)
        assert replay.state == live  # opened at the end: the same state as the live run
        assert "REPLAY" in screen_text(app) and "event" in screen_text(app)

        await pilot.press("home")
        assert replay.replayer.position == 0 and replay.state.candidates == {}
        await pilot.press("right", "right", "right")
        assert replay.replayer.position == 3
        assert replay.state == reduce(replay.replayer.events[:3])
        await pilot.press("left")
        assert replay.state == reduce(replay.replayer.events[:2])

        await pilot.press("right_square_bracket")  # to the first repair iteration
        await pilot.pause()
        first = next(i for i, e in enumerate(replay.replayer.events)
                     if isinstance(e, ev.RepairIteration))
        assert replay.replayer.position == first + 1
        panes = replay.query_one(TaskPanes)
        assert panes.iteration == 1 and panes.chosen_candidate == "c5"
        assert THINK_1 in replay.query_one(ReasoningPane).plain_text
        assert [r.iteration for r in replay.state.repairs] == [1]
        assert replay.state.graded is None  # nothing after this step is shown

        await pilot.press("end")
        assert replay.state == live
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ReplayScreen), "closed")

    # the store file, read by another reader afterwards, folds to the same state
    with Store(store_path, readonly=True) as store:
        (task,) = [t for t in store.tasks() if t.problem_id == "sum-two"]
        assert store.state(task.task_id) == live


def test_stepping_back_from_a_checkpoint_equals_folding_from_the_start() -> None:
    events: list[ev.Event] = [ev.TaskStarted(task_id="t", seq=1, title="x", condition="A")]
    events += [ev.GenerationStarted(task_id="t", seq=2, stream_id="g1", purpose="probe",
                                    template="probe", template_version="1", prompt="p")]
    events += [ev.TokenDelta(task_id="t", seq=3 + n, stream_id="g1", text=f"{n} ")
               for n in range(700)]
    replayer = Replayer(events)
    replayer.seek(len(events))
    for position in (650, 300, 1, 0, 512, 513):
        assert replayer.seek(position) == reduce(events[:position])
