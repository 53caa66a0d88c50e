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


async def test_a_hugging_face_download_shows_its_progress_in_the_status_bar(
    tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """resolve_model downloads a repo id's GGUF into the Hugging Face cache; the status bar
    says how much has arrived while the model opens. The download here is a stand-in that
    writes where huggingface_hub writes (blobs/*.incomplete), with no network."""
    import engine.llm.resolve
    from atlas_tui.resources import hub_folder

    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    spec = "atlas-test/tiny-GGUF:Q4_K_M"
    release = threading.Event()

    def downloading(model: str | None, base_url: str | None, **knobs: object) -> ScriptedBackend:
        assert model == spec and base_url is None
        blobs = hub_folder(spec) / "blobs"
        blobs.mkdir(parents=True)
        (blobs / "0123abcd.incomplete").write_bytes(b"\0" * (3 * 2**20))
        release.wait(timeout=120)
        return scripted_backend()

    monkeypatch.setattr(engine.llm.resolve, "open_backend", downloading)
    app = create_app(make_folder(tmp_path / "problems"), Config(model=spec, condition="A"),
                     sandbox_factory=lambda: sandbox, store_path=tmp_path / "store.sqlite",
                     watch=False, animate=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_until(pilot, app.loaded.is_set, "folder loaded")
        app.query_one(ProblemQueue).table.focus()
        await pilot.press("s")
        await wait_until(pilot, lambda: "downloading 3.0 MB" in screen_text(app),
                         "the download's progress in the status bar", steps=6000)
        release.set()
        for worker in [w for w in app.workers if w.group == LOAD_GROUP]:
            await worker.wait()
        await pilot.pause()
        assert "downloading" not in screen_text(app)
