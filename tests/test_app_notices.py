"""Pilot tests: a task's errors and warnings reach the screen (the queue row, the status bar
and the log that `!` opens), each with the step it happened in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from support.fault_server import FaultServer, Reply
from support.pipeline_scenarios import PROBE, REPAIR, fenced
from ui_support import WRONG, make_folder, screen_text, script, wait_until

from atlas_tui.app import AtlasApp, create_app
from atlas_tui.config import Config
from engine.llm.base import BackendError
from engine.llm.scripted import ScriptedBackend
from engine.sandbox.sandbox import Sandbox
from widgets.queue import ProblemQueue

SIZE = (160, 50)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with await Sandbox.create() as box:
        yield box


def build(tmp_path: Path, sandbox: Sandbox, backend: Callable[[], Any],
          condition: str) -> AtlasApp:
    return create_app(make_folder(tmp_path / "problems"), Config(condition=condition),
                      backend_factory=backend, sandbox_factory=lambda: sandbox,
                      store_path=tmp_path / "store.sqlite", watch=False, animate=False)


async def solve_sum(pilot: Any, app: AtlasApp) -> None:
    await wait_until(pilot, app.loaded.is_set, "folder loaded")
    queue = app.query_one(ProblemQueue)
    row = next(i for i, k in enumerate(queue.shown_keys) if k.endswith("::sum-two"))
    queue.table.focus()
    queue.table.move_cursor(row=row)
    await wait_until(pilot, lambda: (app.current_key or "").endswith("::sum-two"), "highlighted")
    await pilot.press("s")
    await wait_until(pilot, lambda: app.status_of.get(app.current_key or "", ("",))[0]
                     in ("pass", "fail", "solved", "no answer", "error"), "the task ended")
    await pilot.pause()


async def open_log(pilot: Any, app: AtlasApp) -> str:
    await pilot.press("exclamation_mark")
    await wait_until(pilot, lambda: type(app.screen).__name__ == "NoticesScreen", "log open")
    await pilot.pause()
    return screen_text(app)


async def test_a_model_failing_mid_run_shows_its_error_and_step(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    failing = {**script(), REPAIR: BackendError("the server closed the connection")}
    app = build(tmp_path, sandbox, lambda: ScriptedBackend(failing), "D")
    async with app.run_test(size=SIZE) as pilot:
        await solve_sum(pilot, app)
        state = app.current_state()
        assert state is not None and state.errors
        text = screen_text(app)
        # the queue row: the best candidate so far was graded, and the row says why it stopped
        row = next(line for line in text.splitlines() if "sum-two" in line)
        assert "✘ ! sum-two" in row  # marked on the queue row
        where = state.errors[-1].where
        # the status bar: how many, the newest with its step
        assert f"! 1 error, last {where}: the model failed" in text
        log = await open_log(pilot, app)
        assert "Errors and warnings · sum-two" in log
        assert f"error   {where}" in log and "the server closed the connection" in log


async def test_a_generation_cut_at_its_token_limit_is_a_warning(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    # past the probe's 1024 tokens, and never repeating (the loop guard would stop it first)
    rambling = fenced(WRONG) + " ".join(f"note{i}" for i in range(1500))
    app = build(tmp_path, sandbox, lambda: ScriptedBackend({PROBE: rambling}), "A")
    async with app.run_test(size=SIZE) as pilot:
        await solve_sum(pilot, app)
        state = app.current_state()
        assert state is not None and state.warnings and not state.errors
        text = screen_text(app)
        row = next(line for line in text.splitlines() if "sum-two" in line)
        assert "∅ ! sum-two" in row or "✘ ! sum-two" in row
        assert "! 1 warning, last probe: stopped at its token limit (1024)" in text
        log = await open_log(pilot, app)
        assert "warning probe" in log and "stopped at its token limit (1024)" in log


class NoEmbeddingsServer(FaultServer):
    """An OpenAI-compatible server that writes a (wrong) program for every chat request and
    serves no embeddings."""

    def _reply_for(self, request: Any) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        if request.path == "/v1/embeddings":
            return Reply.error(404, "embeddings are not enabled on this server")
        if request.path == "/v1/chat/completions" and body.get("stream"):
            return Reply.stream([fenced(WRONG)], chat=True)
        return super()._reply_for(request)


async def test_a_server_without_embeddings_says_so_under_a_condition_that_embeds(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    from engine.llm.openai_backend import OpenAIBackend

    async with NoEmbeddingsServer() as server:
        app = build(tmp_path, sandbox, lambda: OpenAIBackend.connect(base_url=server.url), "C")
        async with app.run_test(size=SIZE) as pilot:
            await solve_sum(pilot, app)
            state = app.current_state()
            assert state is not None
            assert [e.where for e in state.errors] == ["embed"]
            text = screen_text(app)
            assert "! 1 error, last embed: embedding failed, energies left equal" in text
            row = next(line for line in text.splitlines() if "sum-two" in line)
            assert " ! sum-two" in row
            log = await open_log(pilot, app)
            assert "error   embed" in log and "serves no embeddings" in log
            await pilot.press("escape")
