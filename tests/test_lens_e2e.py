"""End to end: real candidates embedded by a real (tiny, random-weights) GGUF through the
pipeline, run and graded in the real sandbox, stored in a real SQLite store; a Lens trained on
what the store collected, then scoring a new problem's candidates through the pipeline.

Generation is scripted (a random-weights model writes no code), embeddings are not: the
backend below answers prompts from a script and embeds with llama.cpp on the tiny model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from engine import events as ev
from engine.lens.collect import collect
from engine.lens.dataset import LensDataset
from engine.lens.metrics import auroc
from engine.lens.scorer import GeometricLens, lens_for
from engine.lens.train import TrainConfig, train
from engine.llm.base import (
    BackendInfo,
    ChatMessage,
    Delta,
    GenerationRequest,
    GenerationResult,
    ManyStream,
    Prompt,
    SamplingParams,
    ThinkingBudget,
)
from engine.llm.llamacpp import LlamaCppBackend, LlamaCppConfig
from engine.llm.scripted import ScriptedBackend
from engine.pipeline.config import PipelineConfig
from engine.problems.model import Problem, TestCase, TestKind
from engine.sandbox import Sandbox
from engine.store import Store
from engine.task import run_task

torch.set_num_threads(1)


class ScriptedTextRealEmbeddings:
    """Text from a script, embeddings from the real model (and the real model's name)."""

    def __init__(self, script: ScriptedBackend, model: LlamaCppBackend) -> None:
        self._script = script
        self._model = model

    @property
    def info(self) -> BackendInfo:
        real = self._model.info
        return replace(self._script.info, model=real.model, embedding_size=real.embedding_size)

    def stream(
        self, prompt: Prompt, params: SamplingParams, *, budget: ThinkingBudget | None = None
    ) -> AsyncIterator[Delta | GenerationResult]:
        return self._script.stream(prompt, params, budget=budget)

    async def generate(
        self, prompt: Prompt, params: SamplingParams, *, budget: ThinkingBudget | None = None
    ) -> GenerationResult:
        return await self._script.generate(prompt, params, budget=budget)

    def stream_many(self, requests: Sequence[GenerationRequest]) -> ManyStream:
        return self._script.stream_many(requests)

    async def generate_many(self, requests: Sequence[GenerationRequest]
                            ) -> list[GenerationResult]:
        return await self._script.generate_many(requests)

    def render_chat(
        self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True
    ) -> str:
        return self._script.render_chat(messages, add_generation_prompt=add_generation_prompt)

    async def embed(self, text: str) -> list[float]:
        return await self._model.embed(text)

    async def close(self) -> None:
        await self._script.close()


def _stdin(pairs: Sequence[tuple[str, str]], origin: str) -> tuple[TestCase, ...]:
    return tuple(TestCase(i, o, TestKind.STDIN, origin=origin) for i, o in pairs)


def _problem(
    pid: str, statement: str, public: list[tuple[str, str]], hidden: list[tuple[str, str]]
) -> Problem:
    return Problem(
        id=pid,
        title=pid,
        statement=statement,
        test_kind=TestKind.STDIN,
        public_tests=_stdin(public, "statement"),
        hidden_tests=_stdin(hidden, "dataset"),
    )


# Each problem: (problem, [probe (fails the example), then candidates: right and wrong]).
PROBE = "print('no idea')"
PROBLEMS: list[tuple[Problem, list[str]]] = [
    (
        _problem(
            "double", "Read n and print 2n.", [("2\n", "4\n")], [("5\n", "10\n"), ("0\n", "0\n")]
        ),
        [
            PROBE,
            "print(int(input()) * 2)",
            "print(int(input()) + 2)",
            "n = int(input())\nprint(n + n)",
            "print(int(input()) ** 2)",
        ],
    ),
    (
        _problem(
            "square",
            "Read n and print n squared.",
            [("3\n", "9\n")],
            [("4\n", "16\n"), ("-2\n", "4\n")],
        ),
        [
            PROBE,
            "n = int(input())\nprint(n * n)",
            "print(int(input()) * 3)",
            "print(int(input()) ** 2)",
            "n = int(input())\nprint(abs(n) * 3 - 0 * n)",
        ],
    ),
    (
        _problem(
            "add",
            "Read a and b on one line and print a + b.",
            [("1 2\n", "3\n")],
            [("10 -3\n", "7\n"), ("0 0\n", "0\n")],
        ),
        [
            PROBE,
            "a, b = map(int, input().split())\nprint(a + b)",
            "a, b = map(int, input().split())\nprint(a * b + 1)",
            "print(sum(map(int, input().split())))",
            "a, b = map(int, input().split())\nprint(abs(a) + abs(b))",
        ],
    ),
    (
        _problem(
            "maximum",
            "Read numbers on one line and print the largest.",
            [("1 5 2\n", "5\n")],
            [("-1 -7\n", "-1\n"), ("3\n", "3\n")],
        ),
        [
            PROBE,
            "print(max(map(int, input().split())))",
            "print(sorted(map(int, input().split()))[-1])",
            "xs = list(map(int, input().split()))\nprint(xs[1])",
            "print(max(map(abs, map(int, input().split()))))",
        ],
    ),
    (
        _problem(
            "reverse",
            "Read a word and print it reversed.",
            [("abc\n", "cba\n")],
            [("hello\n", "olleh\n"), ("x\n", "x\n")],
        ),
        [
            PROBE,
            "print(input()[::-1])",
            "print(input())",
            "print(''.join(reversed(input())))",
            "s = input()\nprint(s[-1] + s[1:-1] + s[0])",
        ],
    ),
    (
        _problem(
            "vowels",
            "Read a word and print how many vowels (aeiou) it has.",
            [("hello\n", "2\n")],
            [("sky\n", "0\n"), ("aeiou\n", "5\n")],
        ),
        [
            PROBE,
            "print(sum(c in 'aeiou' for c in input()))",
            "print(len(input()) // 2)",
            "s = input()\nprint(len([c for c in s if c in 'aeiou']))",
            "print(input().count('e') + 1)",
        ],
    ),
]


def _answers(codes: list[str]) -> list[str]:
    return [f"Here is my solution.\n```python\n{code}\n```" for code in codes]


CONFIG = PipelineConfig.preset(
    "C",
    plansearch=False,
    differential=False,
    adjudicate=False,
    codet=False,
    budget_forcing=False,
    k=4,
    n_diverse=4,
    max_tokens=256,
    early_exit=False,  # every candidate is drawn: the Lens learns from all of them
    stop_when_passing=False,
)


async def _solve_all(
    store: Store,
    model: LlamaCppBackend,
    sandbox: Sandbox,
    problems: list[tuple[Problem, list[str]]],
    lens=None,
) -> list[str]:
    session = store.new_session("bench", "lens e2e")
    task_ids = []
    for problem, codes in problems:
        backend = ScriptedTextRealEmbeddings(ScriptedBackend(default=_answers(codes)), model)
        outcome = await run_task(
            problem,
            backend,
            sandbox,
            CONFIG,
            store=store,
            session_id=session,
            lens=lens,
            oracle=True,
        )
        task_ids.append(outcome.task_id)
    return task_ids


@pytest.mark.slow
async def test_a_lens_trained_on_stored_real_embeddings_scores_through_the_pipeline(
    tiny_gguf: Path, tmp_path: Path
) -> None:
    model = await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(n_ctx=1024, n_threads=1))
    sandbox = await Sandbox.create()
    try:
        with Store(tmp_path / "runs.sqlite") as store:
            await _solve_all(store, model, sandbox, PROBLEMS)
            data = collect(store)
            assert data.spec.model == model.info.model
            assert data.spec.dim == model.info.embedding_size
            # every candidate of every problem embedded and labelled from the oracle grading
            assert len(data) == 5 * len(PROBLEMS) and len(data.problems()) == len(PROBLEMS)
            counts = data.counts("hidden")
            assert counts["pass"] >= 12 and counts["fail"] >= 12
            # public-example labels are kept apart and disagree with hidden ones somewhere
            # (wrong candidates that pass the single example)
            both = (data.labels["public"] >= 0) & (data.labels["hidden"] >= 0)
            assert both.any()
            assert (data.labels["public"][both] != data.labels["hidden"][both]).any()

            path = data.save(tmp_path / "exported.npz")
            data = LensDataset.load(path)
            artifact = train(data, TrainConfig(hidden=32, epochs=60, lr=3e-3, seed=0))
            # the network can tell these real embeddings apart (in-sample: a capacity check)
            energies = artifact.energies(data.vectors)
            assert auroc(energies, data.labels["hidden"]) > 0.8
            lens_path = artifact.save(tmp_path / "tiny.lens")

            lens = lens_for(model.info.model, lens_path)
            assert isinstance(lens, GeometricLens)
            new = [
                (
                    _problem("triple", "Read n and print 3n.", [("1\n", "3\n")], [("4\n", "12\n")]),
                    [
                        PROBE,
                        "print(int(input()) * 3)",
                        "print(int(input()) + 2)",
                        "n = int(input())\nprint(n + n + n)",
                        "print(3)",
                    ],
                )
            ]
            (task,) = await _solve_all(store, model, sandbox, new, lens=lens)
            events = store.events(task)
        scored = [e for e in events if isinstance(e, ev.EnergyScored)]
        embedded = [e for e in events if isinstance(e, ev.CandidateEmbedded)]
        assert len(scored) == len(embedded) == 5
        assert {e.lens for e in scored} == {lens.name}
        assert all(e.pass_probability is not None and 0 < e.pass_probability < 1 for e in scored)
        assert all(e.energy >= 0 for e in scored)
        assert len({round(e.energy, 6) for e in scored}) > 1  # not a constant
        assert not [e for e in events if isinstance(e, ev.ErrorRaised)]
    finally:
        await sandbox.close()
        await model.close()


async def test_the_pipeline_reports_a_lens_of_another_model(
    tiny_gguf: Path, tmp_path: Path
) -> None:
    """A Lens for one model used with another: the pipeline says why and goes on neutral."""
    from engine.lens.synthetic import planted

    model = await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(n_ctx=1024, n_threads=1))
    sandbox = await Sandbox.create()
    try:
        dim = model.info.embedding_size or 0
        foreign = train(
            planted(problems=6, dim=dim, model="qwen3-14b.gguf"), TrainConfig(hidden=16, epochs=2)
        )
        with Store(tmp_path / "runs.sqlite") as store:
            (task,) = await _solve_all(
                store, model, sandbox, PROBLEMS[:1], lens=GeometricLens(foreign)
            )
            events = store.events(task)
        errors = [e.message for e in events if isinstance(e, ev.ErrorRaised)]
        assert any("qwen3-14b.gguf" in m for m in errors), errors
        assert any(isinstance(e, ev.AnswerSubmitted) for e in events)
    finally:
        await sandbox.close()
        await model.close()
