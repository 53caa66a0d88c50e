"""Helpers for the pipeline's end-to-end tests: real problems from ../shared/data, real
reference programs (o1-preview / o1-mini answers with their official LiveCodeBench verdicts),
genuine private tests recovered from LiveCodeBench's failure reports, and one call that runs a
whole task (solve, then grade) with a scripted model and a real sandbox."""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from engine import events as ev
from engine.llm.scripted import ScriptedBackend
from engine.pipeline.config import PipelineConfig
from engine.pipeline.gates import Gates
from engine.problems import load
from engine.problems.model import Problem, TestCase, TestKind
from engine.task import TaskOutcome, run_task

# The purpose marker every pipeline prompt starts with (engine/pipeline/prompts/*.txt).
PROBE = "[atlas:probe]"
CONSTRAINTS = "[atlas:constraints]"
PLAN = "[atlas:plan]"
IMPLEMENT = "[atlas:implement]"
DIVERSITY = "[atlas:diversity]"
DIFFERENTIAL = "[atlas:differential]"
ADJUDICATE = "[atlas:adjudicate]"
SELFTEST = "[atlas:selftest]"
REPAIR = "[atlas:repair]"


def dataset_problem(shared_data: Path, relative: str, problem_id: str) -> Problem:
    result = load(shared_data / relative)
    for problem in result.problems:
        if problem.id == problem_id:
            return problem
    raise LookupError(f"{problem_id} not in {relative}")


def lcb_problem_with_private_tests(shared_data: Path, question_id: str) -> Problem:
    """A LiveCodeBench problem whose hidden tests are the genuine private tests recovered from
    the official failure reports (the shipped file has public tests only)."""
    problem = dataset_problem(
        shared_data, "livecodebench/lcb_v5_880_public.jsonl.gz", question_id
    )
    hidden = []
    path = shared_data / "livecodebench" / "lcb_recovered_failing_tests.jsonl"
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row["question_id"] == question_id and not row["is_public_test"]:
            kind = TestKind(row["testtype"])
            hidden.append(TestCase(row["input"], row["output"], kind, origin="recovered"))
    assert hidden, f"no recovered private test for {question_id}"
    return dataclasses.replace(problem, hidden_tests=tuple(hidden))


def lcb_reference(shared_data: Path, question_id: str, model: str) -> tuple[str, bool]:
    """(code, official pass) of o1_preview's or o1_mini's answer."""
    path = shared_data / "livecodebench" / "lcb_v5_880_references.jsonl.gz"
    with gzip.open(path, "rt") as rows:
        for line in rows:
            row = json.loads(line)
            if row["question_id"] == question_id:
                return row[f"{model}_code"], str(row[f"{model}_official_pass"]) == "True"
    raise LookupError(question_id)


def double_problem(*examples: tuple[str, str]) -> Problem:
    """The smallest stdin problem: read n, print 2 * n; `examples` are its public tests
    (default: 3 -> 6); one hidden test."""
    stdin = TestKind.STDIN
    return Problem(
        id="double",
        title="Double it",
        statement="Read an integer n and print 2 * n.",
        test_kind=stdin,
        public_tests=tuple(TestCase(i, o, stdin, origin="statement")
                           for i, o in examples or (("3\n", "6\n"),)),
        hidden_tests=(TestCase("5\n", "10\n", stdin),),
    )


def fenced(code: str, prose: str = "Here is my solution.") -> str:
    return f"{prose}\n\n```python\n{code.rstrip()}\n```\n"


def io_tests(*pairs: tuple[str, str]) -> str:
    """A self-test answer: ```input / ```output blocks."""
    return "\n".join(f"```input\n{i}\n```\n```output\n{o}\n```" for i, o in pairs)


def continued_io_tests(*pairs: tuple[str, str]) -> str:
    """A self-test answer for a stdin problem as the model writes it after the pipeline's
    prefill (`Test 1\nInput:\n```\n`): the rest of the first test, then more tests."""
    first, *rest = pairs
    text = f"{first[0]}\n```\nOutput:\n```\n{first[1]}\n```\n"
    for number, (given, expected) in enumerate(rest, 2):
        text += f"\nTest {number}\nInput:\n```\n{given}\n```\nOutput:\n```\n{expected}\n```\n"
    return text


def inputs(*texts: str) -> str:
    return "\n".join(f"```input\n{t}\n```" for t in texts)


def pick_output(right_output: str) -> Callable[[str], str]:
    """An adjudicator that names the output equal to `right_output` (as a model that worked
    the input out by hand would)."""

    def answer(prompt: str) -> str:
        number = 1
        while f"Output {number} (" in prompt:
            block = prompt.split(f"Output {number} (", 1)[1].split("```", 2)[1]
            if block.strip() == right_output.strip():
                return f"Working it out by hand gives {right_output}.\nCORRECT: {number}"
            number += 1
        return "None of these is right.\nCORRECT: none"

    return answer


@dataclasses.dataclass
class Finished:
    outcome: TaskOutcome
    events: list[ev.Event]
    backend: ScriptedBackend

    def of(self, cls: type[ev.Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]

    @property
    def submitted(self) -> ev.AnswerSubmitted:
        (answer,) = self.of(ev.AnswerSubmitted)
        return answer

    def candidate(self, candidate_id: str) -> ev.CandidateCreated:
        (created,) = [e for e in self.of(ev.CandidateCreated) if e.candidate_id == candidate_id]
        return created


async def solve_task(
    problem: Problem,
    script: Mapping[Any, Any] | list[tuple[Any, Any]],
    sandbox: Any,
    condition: str,
    *,
    gates: Gates | None = None,
    **overrides: Any,
) -> Finished:
    backend = ScriptedBackend(script)
    # Scripted answers are whole answers, not continuations of a prefilled start.
    config = PipelineConfig.preset(condition, **{"answer_prefill": False, **overrides})
    events: list[ev.Event] = []
    outcome = await run_task(
        problem, backend, sandbox, config, emit=events.append, gates=gates
    )
    return Finished(outcome, events, backend)
