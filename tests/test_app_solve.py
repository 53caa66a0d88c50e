"""Pilot tests: the real app, driven by keys, solving with the scripted model through the real
pipeline, sandbox, grader and store. Each test asserts on what the panes render."""

from __future__ import annotations

import os
import shutil
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import Tree
from ui_support import (
    RIGHT,
    THINK_1,
    THINK_2,
    WRONG_REPAIR,
    make_folder,
    screen_text,
    scripted_backend,
    wait_until,
)

from atlas_tui.app import AtlasApp, create_app
from atlas_tui.config import Config
from engine.sandbox.sandbox import Sandbox
from widgets.candidates import CandidateTree
from widgets.panes import TaskPanes
from widgets.queue import ProblemQueue
from widgets.reasoning import ReasoningPane
from widgets.status import StatusBar

SIZE = (160, 50)
SCRIPTED_DRAW = {"k": 3, "n_diverse": 2}


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with await Sandbox.create() as box:
        yield box


def build(tmp_path: Path, sandbox: Sandbox, **config: object) -> AtlasApp:
    folder = make_folder(tmp_path / "problems")
    # The scripted story draws two diverse samples (candidate ids below depend on it).
    settings = Config(**{"condition": "D", "pipeline": SCRIPTED_DRAW,  # type: ignore[arg-type]
                         **config})
    return create_app(folder, settings, backend_factory=scripted_backend,
                      sandbox_factory=lambda: sandbox, store_path=tmp_path / "store.sqlite",
                      watch=False, animate=False)


async def highlight(pilot, app: AtlasApp, problem_id: str) -> None:  # type: ignore[no-untyped-def]
    await wait_until(pilot, app.loaded.is_set, "folder loaded")
    queue = app.query_one(ProblemQueue)
    await wait_until(pilot, lambda: bool(queue.shown_keys), "queue filled")
    row = next(i for i, k in enumerate(queue.shown_keys) if k.endswith(f"::{problem_id}"))
    queue.table.focus()
    queue.table.move_cursor(row=row)
    await wait_until(pilot, lambda: (app.current_key or "").endswith(f"::{problem_id}"),
                     f"{problem_id} highlighted")
    await pilot.pause()  # let the statement's Markdown render


def status(app: AtlasApp) -> str:
    return app.row_status(app.current_key)


async def test_solve_by_keys_and_every_pane_changes(tmp_path: Path, sandbox: Sandbox) -> None:
    app = build(tmp_path, sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await highlight(pilot, app, "sum-two")
        before = screen_text(app)
        assert "Read two integers" in before  # the problem pane shows the statement
        assert "c1" not in before

        await pilot.press("s")
        await wait_until(pilot, lambda: status(app) in ("pass", "fail", "error"), "solved")
        await pilot.pause()

        assert app.status_of[app.current_key] == ("pass", "3/3")  # graded on hidden tests
        state = app.current_state()
        assert state is not None and state.graded is not None and state.graded.verdict == "AC"
        text = screen_text(app)
        # queue row, candidate tree, code of the submitted repair, diff, matrix, reasoning
        assert "✔   sum-two" in text
        assert "c6 repair 2" in text and "★ submitted" in text
        assert "print(a + b)" in text and "-print(a * b)" in text
        assert "e1" in text and "s1" in text and "AC" in text and "WA" in text
        assert THINK_2 in text and "── answer ──" in text
        assert "cond D" in text and "submitted" in text and "sandbox" in text
        tree = app.query_one(CandidateTree)
        assert tree.chosen_id == state.submitted.candidate_id == "c6"  # type: ignore[union-attr]


async def test_step_mode_stops_before_a_repair_iteration_and_continues_on_the_key(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    app = build(tmp_path, sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await highlight(pilot, app, "sum-two")
        await pilot.press("m")  # step mode: pause before every step
        assert app.solver is not None and app.solver.step_mode
        await pilot.press("s")

        def gate() -> str | None:
            state = app.current_state()
            return state.gate.step if state and state.gate else None

        seen = []
        while True:
            await wait_until(pilot, lambda: gate() is not None, "paused at a gate")
            seen.append(gate())
            if gate() == "repair 1":
                break
            await pilot.press("n")
            await wait_until(pilot, lambda s=seen[-1]: gate() != s, "went past the gate")
        state = app.current_state()
        assert state is not None
        assert seen[0] == "probe" and "selftest" in seen
        assert state.repairs == ()  # stopped before the first repair
        assert "paused before repair 1" in screen_text(app)
        assert status(app) == "paused"  # the queue row too

        await pilot.press("n")
        await wait_until(pilot, lambda: gate() == "repair 2", "repair 1 ran, paused again")
        state = app.current_state()
        assert [r.iteration for r in state.repairs] == [1]  # type: ignore[union-attr]

        await pilot.press("m")  # step mode off, then let it finish
        await pilot.press("n")
        await wait_until(pilot, lambda: status(app) == "pass", "finished")


async def test_previous_and_next_iteration_show_that_iterations_code_and_reasoning(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    app = build(tmp_path, sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await highlight(pilot, app, "sum-two")
        await pilot.press("s")
        await wait_until(pilot, lambda: status(app) == "pass", "solved")
        await pilot.pause()
        panes = app.query_one(TaskPanes)
        reasoning = app.query_one(ReasoningPane)

        await pilot.press("left_square_bracket")  # live -> the last iteration
        assert panes.iteration == 2
        assert panes.chosen_candidate == "c6"
        assert THINK_2 in reasoning.plain_text and "print(a + b)" in screen_text(app)

        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert panes.iteration == 1
        assert panes.chosen_candidate == "c5"
        assert THINK_1 in reasoning.plain_text and THINK_2 not in reasoning.plain_text
        text = screen_text(app)
        assert "print(a * b)" in text and "repair iteration 1" in text

        await pilot.press("right_square_bracket")
        assert panes.iteration == 2 and THINK_2 in reasoning.plain_text

        await pilot.press("g")  # jump to iteration N
        await wait_until(pilot, lambda: type(app.screen).__name__ == "AskLine", "asked")
        await pilot.press("1", "enter")
        await pilot.pause()
        assert panes.iteration == 1 and panes.chosen_candidate == "c5"
        state = app.current_state()
        assert state is not None and state.candidates["c5"].code == WRONG_REPAIR


async def test_accept_writes_the_highlighted_candidate_next_to_the_problem(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    app = build(tmp_path, sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await highlight(pilot, app, "sum-two")
        await pilot.press("s")
        await wait_until(pilot, lambda: status(app) == "pass", "solved")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        answer = tmp_path / "problems" / "sum.answer.py"
        assert answer.read_text() == RIGHT
        assert "sum.answer.py" in str(app.query_one(StatusBar).render())

        # another candidate, chosen in the tree by a person, into a configured output folder
        app.config = app.config.replace(output_dir=str(tmp_path / "out"))
        tree = app.query_one(CandidateTree)
        tree.tree.focus()
        await pilot.pause()
        node = next(n for n in _nodes(tree.tree) if n.data == "c5")
        tree.tree.move_cursor(node)
        await pilot.pause()
        assert tree.chosen_id == "c5"
        await pilot.press("a")
        assert (tmp_path / "out" / "sum.answer.py").exists() is False  # ids name answers there
        assert (tmp_path / "out" / "sum-two.answer.py").read_text() == WRONG_REPAIR


def _nodes(tree: Tree[str]) -> list:  # type: ignore[type-arg]
    found, stack = [], [tree.root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.children)
    return found


def _editor(tmp_path: Path, new_code: str) -> str:
    """A real $EDITOR: a program that overwrites the file it is given."""
    script = tmp_path / "fake-editor"
    script.write_text(f"#!{sys.executable}\nimport sys\n"
                      f"open(sys.argv[1], 'w').write({new_code!r})\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


async def test_without_a_model_browsing_and_editing_a_candidate_still_work(
    tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_folder(tmp_path / "problems")
    app = create_app(folder, Config(), sandbox_factory=lambda: sandbox,
                     store_path=tmp_path / "store.sqlite", watch=False, animate=False)
    monkeypatch.setitem(os.environ, "EDITOR", _editor(tmp_path, RIGHT))
    monkeypatch.delitem(os.environ, "VISUAL", raising=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: type(app.screen).__name__ == "NoModelScreen",
                         "the no-model screen")
        assert "--model" in screen_text(app) and "--base-url" in screen_text(app)
        await pilot.press("escape")
        await highlight(pilot, app, "sum-two")

        await pilot.press("s")  # solving says why it cannot, on the queue row
        await wait_until(pilot, lambda: status(app) == "error", "no-model error shown")
        assert "no model configured" in app.status_of[app.current_key][1]  # type: ignore[index]

        await pilot.press("e")  # the editor writes RIGHT; the sandbox runs it on the example
        await wait_until(pilot, lambda: "1/1 examples" in app._note, "re-tested")
        state = app.current_state()
        assert state is not None and state.condition == "manual"
        assert state.candidates["edit1"].code == RIGHT
        assert state.cell("edit1", "p1").verdict == "AC"  # type: ignore[union-attr]

        await pilot.press("plus")  # add a test whose expected output is wrong on purpose
        await wait_until(pilot, lambda: type(app.screen).__name__ == "AskTest", "asked")
        await pilot.press(*"4 4")
        await pilot.press("tab")
        await pilot.press("9")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "1/1 examples" in app._note and
                         app.current_state() is not state, "re-tested with the new test")
        state = app.current_state()
        assert state is not None
        assert state.cell("edit1", "u2").verdict == "WA"  # type: ignore[union-attr]


async def test_malformed_problem_file_shows_its_error_and_the_rest_work(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    folder = make_folder(tmp_path / "problems")
    (folder / "broken.jsonl").write_text('{"question_content": "x"\n')
    (folder / "front.md").write_text("---\nid: [unclosed\n# x\n")
    app = create_app(folder, Config(condition="D"), backend_factory=scripted_backend,
                     sandbox_factory=lambda: sandbox, store_path=tmp_path / "s.sqlite",
                     watch=False, animate=False)
    async with app.run_test(size=SIZE) as pilot:
        await highlight(pilot, app, "sum-two")
        queue = app.query_one(ProblemQueue)
        errors = [queue.entry(k) for k in queue.shown_keys if k.endswith("::!error")]
        assert {Path(e.problem_id.split("#")[0]).name for e in errors if e} == {
            "broken.jsonl", "front.md"}
        assert all(e and e.status == "error" and e.message for e in errors)
        table = queue.table
        table.move_cursor(row=queue.shown_keys.index(next(
            k for k in queue.shown_keys if "broken.jsonl" in k)))
        await pilot.pause()
        assert "Could not load this problem" in screen_text(app)
        await pilot.press("s")  # no solving for a file that did not load
        await highlight(pilot, app, "sum-two")
        await pilot.press("s")
        await wait_until(pilot, lambda: status(app) == "pass", "the good problem solved")
        errors_after = [k for k in queue.shown_keys if k.endswith("::!error")]
        assert len(errors_after) == 2  # still listed, with their messages


async def test_a_model_that_fails_to_load_explains_itself_and_browsing_goes_on(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    folder = make_folder(tmp_path / "problems")
    app = create_app(folder, Config(model=str(tmp_path / "missing.gguf")),
                     sandbox_factory=lambda: sandbox, store_path=tmp_path / "s.sqlite",
                     watch=False, animate=False)
    async with app.run_test(size=SIZE) as pilot:
        await highlight(pilot, app, "sum-two")
        assert type(app.screen).__name__ == "Screen"  # a model is configured: no screen yet
        await pilot.press("s")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "NoModelScreen",
                         "the screen that says what to do")
        text = screen_text(app)
        assert "could not be opened" in text and "missing.gguf" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: status(app) == "error", "the row says why")
        await pilot.press("up")  # max.md sorts before sum.md
        await wait_until(pilot, lambda: (app.current_key or "").endswith("::max"), "browse on")


async def test_a_trained_lens_for_the_model_scores_the_candidates(
    tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Lens that `atlas-tui lens train` saved for this model is picked up by the workbench:
    every candidate gets its energy and a pass probability, not the neutral Lens's."""
    from engine.lens.scorer import default_artifact_path
    from engine.lens.synthetic import planted
    from engine.lens.train import TrainConfig, train

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    info = scripted_backend().info
    artifact = train(planted(problems=6, dim=info.embedding_size or 64, model=info.model),
                     TrainConfig(hidden=8, epochs=1))
    artifact.save(default_artifact_path(info.model))

    app = build(tmp_path, sandbox, condition="full")  # the Lens scores in Phase 2
    async with app.run_test(size=SIZE) as pilot:
        await highlight(pilot, app, "sum-two")
        await pilot.press("s")
        await wait_until(pilot, lambda: status(app) in ("pass", "fail", "error"), "solved")
        state = app.current_state()
        assert state is not None and state.candidates
        scored = [c for c in state.candidates.values() if c.energy is not None]
        assert scored and all(c.lens != "neutral" for c in scored)
        assert all(c.pass_probability is not None for c in scored)


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("burst", [False, True], ids=["settled", "typed-ahead"])
@pytest.mark.parametrize("downs", [1, 2])
async def test_s_solves_the_row_the_cursor_is_on(
    downs: int, burst: bool, tmp_path: Path, sandbox: Sandbox
) -> None:
    """Down (once, twice) then `s` on examples/ starts the task of the highlighted problem.
    Typed ahead (keys that reach the app together, as tmux sends them while the loop is busy),
    the queue's Highlighted message used to arrive after `s`, which then solved the first row
    while the problem pane showed the highlighted one."""
    from textual import events

    from engine import events as ev

    folder = tmp_path / "examples"
    shutil.copytree(EXAMPLES, folder)
    app = create_app(folder, Config(condition="A"), backend_factory=scripted_backend,
                     sandbox_factory=lambda: sandbox, store_path=tmp_path / "s.sqlite",
                     watch=False, animate=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, app.loaded.is_set, "folder loaded")
        queue = app.query_one(ProblemQueue)
        assert queue.shown_keys[0].endswith("::balanced-brackets")
        keys = [*["down"] * downs, "s"]
        if burst:
            assert app._driver is not None
            for key in keys:  # all queued before the app handles the first
                app._driver.send_message(events.Key(key, "s" if key == "s" else None))
        else:
            await pilot.press(*keys)
        await wait_until(pilot, lambda: app.solver is not None and bool(app.solver.task_of),
                         "a task started")
        wanted = queue.shown_keys[downs]
        assert queue.highlighted_key == wanted
        assert app.store is not None and app.session_id is not None
        [task] = app.store.tasks(app.session_id)
        problem = app.folder.item(wanted).problem  # type: ignore[union-attr]
        assert problem is not None and task.problem_id == problem.id
        assert app.solver is not None and list(app.solver.task_of) == [wanted]
        await wait_until(pilot, lambda: (s := app.state_for(wanted)) is not None
                         and s.finished, "the task ended")
        started = app.store.events(task.task_id, types={"TaskStarted"})
        assert [e.title for e in started if isinstance(e, ev.TaskStarted)] == [problem.title]
        await pilot.pause()
        assert problem.title in screen_text(app)  # the problem pane shows the same problem
