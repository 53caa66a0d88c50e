"""Condition D end to end on a real llama.cpp model: the tiny random-weights GGUF the suite
writes, loaded by LlamaCppBackend. Its answers are noise, so the run must simply finish cleanly:
every step logged, an (empty or nonsense) answer submitted and graded a failure, the stored log
complete and folding to the live state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine import events as ev
from engine.llm.llamacpp import LlamaCppBackend, LlamaCppConfig
from engine.pipeline.config import PipelineConfig
from engine.problems.model import Problem, TestCase, TestKind
from engine.sandbox.sandbox import Sandbox
from engine.state import reduce
from engine.store import Store
from engine.task import run_task

PROBLEM = Problem(
    id="sum-two",
    title="Sum of two",
    statement="Read two integers a and b on one line and print a + b.",
    test_kind=TestKind.STDIN,
    public_tests=(TestCase("1 2\n", "3\n", TestKind.STDIN, origin="statement"),),
    hidden_tests=(
        TestCase("5 7\n", "12\n", TestKind.STDIN),
        TestCase("-3 3\n", "0\n", TestKind.STDIN),
    ),
)


@pytest.fixture
async def backend(tiny_gguf: Path) -> AsyncIterator[LlamaCppBackend]:
    async with await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(n_ctx=2048)) as opened:
        yield opened


@pytest.mark.slow
async def test_condition_d_on_the_tiny_gguf_finishes_cleanly_with_a_graded_failure(
    backend: LlamaCppBackend, tmp_path: Path
) -> None:
    config = PipelineConfig.preset("D", max_tokens=48, n_plans=2, n_diverse=1, seed=7)
    live: list[ev.Event] = []
    async with await Sandbox.create() as sandbox:
        with Store(tmp_path / "run.sqlite") as store:
            outcome = await run_task(PROBLEM, backend, sandbox, config, store=store,
                                     emit=live.append)
            stored = store.events(outcome.task_id)
            info = store.task(outcome.task_id)

    # Finished cleanly: no fatal error, the log opens and closes the task.
    assert not [e for e in live if isinstance(e, ev.ErrorRaised) and e.fatal]
    assert isinstance(live[0], ev.TaskStarted) and isinstance(live[-1], ev.TaskFinished)
    assert live[-1].status in ("submitted", "no_answer")
    # Real generations: each started stream finished, with real token counts.
    started = [e for e in live if isinstance(e, ev.GenerationStarted)]
    finished = [e for e in live if isinstance(e, ev.GenerationFinished)]
    assert {e.stream_id for e in started} == {e.stream_id for e in finished}
    purposes = {e.purpose for e in started}
    assert purposes >= {"probe", "constraints", "diversity"}
    (extracted,) = [e for e in live if isinstance(e, ev.ConstraintsExtracted)]
    if extracted.constraint_sets:
        assert {"plan", "implement"} <= purposes
    # Each code-writing generation gave a candidate or said why not. Self-tests need candidates
    # to check them against; noise rarely yields any code.
    coding = [e for e in started if e.purpose in ("probe", "implement", "diversity")]
    created = [e for e in live if isinstance(e, ev.CandidateCreated)]
    no_code = [e for e in live if isinstance(e, ev.NoCodeFound)]
    assert len(created) + len(no_code) == len(coding)
    assert ("selftest" in purposes) is bool(created)
    assert all(0 < e.completion_tokens <= 48 for e in finished)
    assert any(isinstance(e, ev.TokenDelta) for e in live)
    # Every phase that started also finished.
    phases = [(type(e).__name__, e.phase) for e in live
              if isinstance(e, ev.PhaseStarted | ev.PhaseFinished)]
    assert sorted(p for kind, p in phases if kind == "PhaseStarted") == sorted(
        p for kind, p in phases if kind == "PhaseFinished"
    )
    # Exactly one answer, graded a failure on the hidden tests.
    assert len([e for e in live if isinstance(e, ev.AnswerSubmitted)]) == 1
    (graded,) = [e for e in live if isinstance(e, ev.Graded)]
    assert graded.verdict != "AC" and graded.passed < graded.total
    assert outcome.verdict == graded.verdict
    # The stored log is the whole log, numbered without gaps, and folds to the live state.
    assert [e.seq for e in stored] == list(range(1, len(live) + 1))
    assert reduce(stored) == outcome.state
    assert info is not None and info.status == live[-1].status
