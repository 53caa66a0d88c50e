"""Pilot test: opening the model runs in a worker thread, off the UI's event loop: while it
blocks, keys still work and the status bar says what is loading; the test waits on the
worker itself."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from ui_support import make_folder, screen_text, scripted_backend, wait_until

from atlas_tui.app import create_app
from atlas_tui.config import Config
from atlas_tui.resources import LOAD_GROUP
from engine.llm.scripted import ScriptedBackend
from engine.sandbox.sandbox import Sandbox
from widgets.queue import ProblemQueue


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with await Sandbox.create() as box:
        yield box


async def test_a_model_that_takes_long_to_open_never_freezes_the_workbench(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    release = threading.Event()
    opened_on: list[str] = []

    def slow_model() -> ScriptedBackend:  # a model load: blocks its thread until let go
        opened_on.append(threading.current_thread().name)
        release.wait(timeout=120)
        return scripted_backend()

    app = create_app(make_folder(tmp_path / "problems"), Config(condition="D"),
                     backend_factory=slow_model, sandbox_factory=lambda: sandbox,
                     store_path=tmp_path / "store.sqlite", watch=False, animate=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_until(pilot, app.loaded.is_set, "folder loaded")
        app.query_one(ProblemQueue).table.focus()
        await pilot.press("down")  # sum-two
        await pilot.press("s")
        loads = [w for w in app.workers if w.group == LOAD_GROUP]
        assert [w.name for w in loads] == ["opening the model"]
        assert "opening the model" in screen_text(app)  # the status bar says so

        await pilot.press("question_mark")  # the loop is free: a key opens the help at once
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")

        release.set()
        await loads[0].wait()
        assert opened_on and opened_on[0] != threading.main_thread().name
        await wait_until(pilot, lambda: app.status_of.get(app.current_key or "", ("",))[0]
                         == "pass", "solved with the model once open")
        assert "opening the model" not in screen_text(app)
