"""Every generation is bounded: a token limit per purpose, and a loop guard that closes a stream
repeating itself and keeps what came before. Both stops are events a viewer folds."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from support.pipeline_scenarios import PROBE, SELFTEST, double_problem, fenced

from engine import events as ev
from engine.llm.guard import LoopGuard, find_loop
from engine.llm.scripted import ScriptedBackend
from engine.pipeline.config import PipelineConfig
from engine.pipeline.runner import solve
from engine.problems.model import Problem, TestCase, TestKind
from engine.sandbox.sandbox import Sandbox
from engine.state import reduce
from widgets.panes import reasoning_view

PROBLEM = double_problem()
RIGHT = "print(int(input()) * 2)\n"
# What the real 0.5B model did on HumanEval/10's differential inputs: one value forever.
LOOPING = fenced(RIGHT) + "\nExample inputs:\n" + '"cat", ' * 3000


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with await Sandbox.create() as box:
        yield box


def test_guard_finds_a_repeated_unit_and_keeps_the_text_before_it() -> None:
    guard = LoopGuard()
    text = "def f(x):\n    return x\n" + "print(f(1))\n" * 80
    tripped_at = next(i for i in range(0, len(text), 5) if guard.feed(text[i : i + 5]))
    assert guard.tripped and guard.period == len("print(f(1))\n")
    assert tripped_at < len(text) // 2  # stopped early, not at the end
    assert guard.usable_text().rstrip("\n") == "def f(x):\n    return x\nprint(f(1))"


def test_guard_leaves_ordinary_code_alone() -> None:
    code = (
        "import sys\n\ndef main():\n    data = sys.stdin.read().split()\n"
        "    n = int(data[0])\n    total = 0\n    for i in range(n):\n"
        "        total += int(data[1 + i])\n    print(total)\n\n"
        "# " + "=" * 70 + "\nmain()\n"
    ) * 3  # even a program written three times over is not a short loop
    assert find_loop(code) is None
    assert find_loop("x" * 399) is None and find_loop("x" * 400) == (0, 1)


async def test_a_looping_generation_is_stopped_and_its_code_kept(sandbox: Sandbox) -> None:
    backend = ScriptedBackend({PROBE: LOOPING})
    events: list[ev.Event] = []
    config = PipelineConfig.preset("A")
    outcome = await solve(PROBLEM.view(), backend, sandbox, config, events.append)

    finished = [e for e in events if isinstance(e, ev.GenerationFinished)]
    assert [e.finish_reason for e in finished] == ["loop"]
    assert finished[0].completion_tokens < 400  # far short of the 3,000 repeats
    stopped = [e for e in events if isinstance(e, ev.GenerationStopped)]
    assert [(e.purpose, e.reason) for e in stopped] == [("probe", "loop")]
    assert outcome.answer == RIGHT  # the program before the loop still counts
    assert outcome.examples_verdict == "AC"
    state = reduce(events)
    assert [w.where for w in state.warnings] == ["probe"]
    assert "repeating itself" in state.warnings[0].message
    shown = reasoning_view(state, None, None)  # what the workbench's reasoning pane draws
    assert shown is not None and "stopped: it was repeating itself" in shown.title


async def test_each_purpose_has_its_own_token_limit(sandbox: Sandbox) -> None:
    long_tests = "```input\n1\n```\n```output\n2\n```\n" * 400
    backend = ScriptedBackend({PROBE: fenced("print(int(input()) + 1)\n"), SELFTEST: long_tests},
                              default=fenced(RIGHT))
    config = PipelineConfig.preset("D", loop_guard=False, repair_iterations=0,
                                   thinking_model=False, only_when_undecided=False,
                                   token_limits={"probe": 300, "selftest": 50})
    events: list[ev.Event] = []
    await solve(PROBLEM.view(), backend, sandbox, config, events.append)

    limits = {call.params.purpose: call.params.max_tokens for call in backend.calls}
    assert limits["probe"] == 300 and limits["selftest"] == 50
    assert limits["diversity"] == config.max_tokens  # a purpose without a limit: the ceiling
    capped = [e for e in events if isinstance(e, ev.GenerationStopped)]
    assert {e.purpose for e in capped} == {"selftest"}
    assert all(e.reason == "length" and "(50)" in e.message for e in capped)


async def test_a_model_seen_not_to_think_gets_no_thinking_budget(sandbox: Sandbox) -> None:
    backend = ScriptedBackend({PROBE: fenced("print(int(input()) + 1)\n")},
                              default=fenced(RIGHT))
    config = PipelineConfig.preset("D", repair_iterations=0, token_limits={"probe": 300})
    await solve(PROBLEM.view(), backend, sandbox, config, lambda e: None)

    first, *rest = backend.calls
    assert first.budget is not None and first.params.max_tokens > 300  # not known yet
    assert rest and all(call.budget is None for call in rest)  # the probe did not think


def test_thinking_budget_comes_on_top_of_the_answer_limit() -> None:
    config = PipelineConfig(token_limits={"probe": 1000}, max_tokens=4000)
    assert config.token_limit("probe") == 1000
    assert config.token_limit("probe", thinking_budget=2048) == 3048
    assert config.token_limit("probe", thinking_budget=9000) == 4000


async def test_self_tests_are_prefilled_for_a_model_that_does_not_think(
    sandbox: Sandbox,
) -> None:
    """A small model asked for tests writes a solution instead; the answer is started for it
    (`assert f(`) and its continuation is read as tests."""
    problem = Problem(
        id="add", title="Add", statement="Return a + b.", test_kind=TestKind.ASSERT,
        func_name="add", starter_code="def add(a, b):\n",
        hidden_tests=(TestCase("assert add(2, 3) == 5", "", TestKind.ASSERT),),
    )
    continuation = "1, 2) == 3\nassert add(0, 0) == 0\nassert add(-1, 1) == 0\n```\n"
    backend = ScriptedBackend({
        PROBE: fenced("def add(a, b):\n    return a + b\n"),
        SELFTEST: continuation,
    })
    config = PipelineConfig.preset("D", early_exit=False, only_when_undecided=False,
                                   adaptive_k=False, k=0, selftest_generations=1)
    events: list[ev.Event] = []
    await solve(problem.view(), backend, sandbox, config, events.append)

    (call,) = [c for c in backend.calls if c.params.purpose == "selftest"]
    assert isinstance(call.prompt, str) and call.prompt.endswith("```python\nassert add(")
    (generated,) = [e for e in events if isinstance(e, ev.TestsGenerated)]
    kept = [e for e in events if isinstance(e, ev.TestAdded) and e.kind == "self"]
    assert [(t.input, t.expected) for t in kept] == [("1\n2", "3"), ("0\n0", "0"), ("-1\n1", "0")]
    assert len(generated.kept) == 3  # one generation + the probe agreeing: two witnesses each


async def test_a_catalogue_model_gets_its_own_defaults(sandbox: Sandbox) -> None:
    """The backend names the default model's file: the pipeline knows from the catalogue that
    it does not think (no thinking budget from the first call) and samples as its makers say."""
    from engine.models.catalogue import DEFAULT_MODEL, get

    entry = get(DEFAULT_MODEL)
    backend = ScriptedBackend({PROBE: fenced("print(int(input()) + 1)\n")},
                              default=fenced(RIGHT), model=entry.file_name)
    config = PipelineConfig.preset("B", token_limits={"probe": 300})
    await solve(PROBLEM.view(), backend, sandbox, config, lambda e: None)

    probe_call, *sampled = backend.calls
    assert probe_call.budget is None and probe_call.params.max_tokens == 300
    assert probe_call.params.temperature == 0.0
    assert sampled and all((c.params.top_p, c.params.top_k) == (entry.sampling.top_p,
                                                               entry.sampling.top_k)
                           for c in sampled if c.params.temperature > 0)


class CountsBatches(ScriptedBackend):
    """The scripted double, noting how many requests each several-at-once call carried."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.batches: list[int] = []

    def stream_many(self, requests):  # type: ignore[no-untyped-def]
        self.batches.append(len(requests))
        return super().stream_many(requests)


async def test_batch_draws_ask_for_diverse_samples_and_self_tests_in_one_call(
    sandbox: Sandbox,
) -> None:
    backend = CountsBatches({PROBE: fenced("print(int(input()) + 1)\n"),
                             SELFTEST: "```input\n4\n```\n```output\n8\n```\n"},
                            default=fenced("print(int(input()) + 5)\n"))
    config = PipelineConfig.preset("D", adaptive_k=False, k=3, n_plans=0, n_diverse=3,
                                   batch_draws=3, selftest_generations=2, repair_iterations=0,
                                   answer_prefill=False, thinking_model=False)
    events: list[ev.Event] = []
    await solve(PROBLEM.view(), backend, sandbox, config, events.append)

    assert backend.batches == [3, 2]  # three samples in one call, then two self-test sets
    created = [e for e in events if isinstance(e, ev.CandidateCreated)]
    assert [c.origin for c in created] == ["probe", "diversity", "diversity", "diversity"]
    streams = {e.stream_id for e in events if isinstance(e, ev.GenerationFinished)}
    assert len(streams) == 6 and {c.stream_id for c in created} <= streams


async def test_the_search_stops_when_its_budget_is_spent(sandbox: Sandbox) -> None:
    """A problem nothing solves costs a bounded multiple of one answer: once the tokens reach
    `spend_answers` answers, no generation starts, the run says so, and an answer still goes."""
    wrong = fenced("print(int(input()) + 1)\n")  # fails the example, every time
    events: list[ev.Event] = []
    config = PipelineConfig.preset("full", spend_answers=3.0, answer_floor_tokens=1)
    backend = ScriptedBackend({}, default=wrong)
    outcome = await solve(PROBLEM.view(), backend, sandbox, config, events.append)

    finished = [e for e in events if isinstance(e, ev.GenerationFinished)]
    answer = finished[0].completion_tokens
    assert sum(e.completion_tokens for e in finished) == 3 * answer  # probe + two samples
    assert [c.params.purpose for c in backend.calls] == ["probe", "diversity", "diversity"]
    (spent,) = [e for e in events if isinstance(e, ev.BudgetSpent)]
    assert (spent.where, spent.spent_tokens, spent.budget_tokens) == ("diversity", 3 * answer,
                                                                     3 * answer)
    assert outcome.answer is not None and outcome.status == "submitted"
    (warning,) = reduce(events).warnings
    assert warning.where == "diversity" and "search budget spent" in warning.message

    unlimited = ScriptedBackend({}, default=wrong)
    config = config.with_overrides(spend_answers=None)
    events = []
    await solve(PROBLEM.view(), unlimited, sandbox, config, events.append)
    purposes = {c.params.purpose for c in unlimited.calls}
    assert {"plan", "repair"} <= purposes and len(unlimited.calls) > 3
    assert not any(isinstance(e, ev.BudgetSpent) for e in events)


def test_the_budget_counts_in_answers_of_at_least_the_floor() -> None:
    from engine.pipeline.context import Run

    run = Run.__new__(Run)  # only the fields the budget reads
    run.config = PipelineConfig(spend_answers=8.0, answer_floor_tokens=128)
    run.answer_tokens = None
    assert run.budget_tokens() is None  # no answer yet: no unit
    run.answer_tokens = 300
    assert run.budget_tokens() == 2400
    run.answer_tokens = 30  # a one-line answer: the floor is the unit
    assert run.budget_tokens() == 1024
    run.config = PipelineConfig(spend_answers=None)
    assert run.budget_tokens() is None
