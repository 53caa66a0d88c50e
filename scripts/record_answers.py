"""Record the default model's real answers to the pipeline's own prompts, as test fixtures.

Parsers are tested on what the real model writes, not only on answers shaped for them. This
script renders the pipeline's prompt templates (engine/pipeline/prompts, through the same
`problem_block` / `answer_format` / `input_format` the pipeline uses) for a fixed set of real
problems, runs the model in-process, and records each answer under tests/fixtures/real_answers/
(one file per problem and group, see `fixture_path`): the prompt, the raw answer, the model
file's sha256 and the sampling parameters. A generation that falls into a loop is stopped by
the LoopGuard and what was usable before the loop is kept (`finish_reason: "loop"`).

Idempotent: a fixture whose prompt, model and sampling parameters are unchanged is skipped, so
after a prompt template changes a re-run re-records exactly the answers that prompt produced.

    nice -n 10 .venv/bin/python scripts/record_answers.py [--purpose selftest] [--problem
        HumanEval/10] [--model PATH] [--force]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import sys
import time
from contextlib import aclosing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine.llm.base import ChatMessage, Delta, GenerationResult, SamplingParams
from engine.llm.guard import LoopGuard
from engine.llm.llamacpp import LlamaCppBackend, LlamaCppConfig
from engine.pipeline.config import PipelineConfig
from engine.pipeline.problem_text import answer_format, input_format, problem_block
from engine.pipeline.prompts import load_all
from engine.pipeline.statement_examples import functional_input, statement_examples
from engine.problems.loader import load
from engine.problems.model import Problem, TestKind

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
FIXTURES = ROOT / "tests" / "fixtures" / "real_answers"
DEFAULT_MODEL = Path("/work/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
MAX_TOKENS = 700
SEED = 1234

# (dataset file relative to the data folder, or "examples" for the repo's folder; problem ids)
PROBLEMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("humaneval/HumanEval.jsonl.gz", ("HumanEval/0", "HumanEval/10", "HumanEval/26",
                                      "HumanEval/55")),
    ("mbpp/sanitized-mbpp.json.gz", ("mbpp/2", "mbpp/17", "mbpp/64")),
    ("livecodebench/lcb_v5_880_public.jsonl.gz", ("1873_A", "abc320_a", "3453", "2819")),
    ("examples", ("balanced-brackets", "sum-of-two")),
)
PURPOSES = ("probe", "diversity", "selftest", "differential", "adjudicate", "constraints")


@dataclass(frozen=True, slots=True)
class Task:
    purpose: str
    problem_id: str
    template: str
    variables: dict[str, str]
    temperature: float


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--purpose", action="append", choices=PURPOSES,
                        help="record only this purpose (repeatable)")
    parser.add_argument("--problem", action="append", help="record only this problem id")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--force", action="store_true", help="re-record unchanged fixtures too")
    args = parser.parse_args()
    if not args.model.is_file():
        print(f"no model at {args.model}: pass --model", file=sys.stderr)
        return 2
    problems = _problems(args.problem)
    if not problems:
        print("no problem matched --problem (is ../shared/data there?)", file=sys.stderr)
        return 2
    return asyncio.run(_record(args.model, problems, set(args.purpose or PURPOSES), args.force))


def _problems(only: list[str] | None) -> list[Problem]:
    found: list[Problem] = []
    for source, ids in PROBLEMS:
        wanted = [i for i in ids if not only or i in only]
        if not wanted:
            continue
        path = ROOT / "examples" if source == "examples" else DATA / source
        if not path.exists():
            print(f"skipped {path}: not there", file=sys.stderr)
            continue
        by_id = {p.id: p for p in load(path).problems}
        for problem_id in wanted:
            if problem_id not in by_id:
                raise SystemExit(f"{problem_id} is not in {path}")
            found.append(by_id[problem_id])
    return found


async def _record(model: Path, problems: list[Problem], purposes: set[str], force: bool) -> int:
    sha = _sha256(model)
    templates = load_all(override_dir=FIXTURES / "no-user-overrides")
    config = PipelineConfig()
    backend: LlamaCppBackend | None = None
    FIXTURES.mkdir(parents=True, exist_ok=True)
    try:
        # Purpose by purpose, so an interrupted run has whole purposes rather than whole
        # problems.
        tasks = [(p, t) for p in problems for t in _tasks(p, config, purposes)]
        tasks.sort(key=lambda pair: PURPOSES.index(pair[1].purpose))
        for problem, task in tasks:
            template = templates[task.template]
            system = templates["system"].render()
            user = template.render(**task.variables)
            params = SamplingParams(temperature=task.temperature, max_tokens=MAX_TOKENS,
                                    seed=SEED, purpose=task.purpose)
            path = fixture_path(problem.id, task.purpose)
            key = {"system": system, "user": user, "model_sha256": sha,
                   "params": _params(params)}
            answers = _read(path)
            old = answers.get(task.purpose, {})
            if not force and all(old.get(k) == v for k, v in key.items()):
                print(f"unchanged {path.name} {task.purpose}")
                continue
            if backend is None:
                backend = await LlamaCppBackend.open(model, LlamaCppConfig(embeddings=False))
            started = time.monotonic()
            answer, result, looped = await _generate(backend, system, user, params)
            record = {
                "purpose": task.purpose,
                "problem_id": problem.id,
                "test_kind": problem.test_kind.value,
                "func_name": problem.func_name,
                "template": template.name,
                "template_version": template.version,
                **key,
                "model": model.name,
                "answer": answer,
                "finish_reason": "loop" if looped else result.finish_reason,
                "completion_tokens": result.completion_tokens,
                "elapsed_s": round(time.monotonic() - started, 1),
            }
            answers[task.purpose] = record
            # Written after every answer, so an interrupted run keeps what it recorded.
            path.write_text(json.dumps(dict(sorted(answers.items())), indent=1,
                                       ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"recorded {path.name} {task.purpose}: {result.completion_tokens} tokens, "
                  f"{record['finish_reason']}, {record['elapsed_s']} s", flush=True)
    finally:
        if backend is not None:
            await backend.close()
    return 0


def _tasks(problem: Problem, config: PipelineConfig, purposes: set[str]) -> list[Task]:
    """The prompts the pipeline would send for this problem, one per purpose."""
    view = problem.view()
    block = problem_block(view)
    tasks = [
        Task("probe", problem.id, "probe", {"problem": block, "answer_format": answer_format(view)},
             config.probe_temperature),
        # The hottest rung of the diversity ladder: the messiest answers the pipeline reads.
        Task("diversity", problem.id, "diversity",
             {"problem": block, "answer_format": answer_format(view),
              "persona": config.personas[0] if config.personas else "",
              "hint": config.hints[0] if config.hints else ""},
             max(config.diversity_temperatures or (0.8,))),
        Task("constraints", problem.id, "constraints", {"problem": block, "n": str(config.n_plans)},
             config.plan_temperature),
        Task("selftest", problem.id, "selftest",
             {"problem": block, "input_format": input_format(view), "n": str(config.n_selftests)},
             0.7),
    ]
    if problem.references:
        # The programs shown are the dataset's reference and a plausible wrong variant: what
        # the model writes for differential inputs does not depend on which programs they are.
        programs = [problem.references[0], _wrong_variant(problem.references[0])]
        shown = "\n\n".join(f"Program {i}:\n```python\n{code.rstrip()}\n```"
                            for i, code in enumerate(programs, 1))
        tasks.append(Task("differential", problem.id, "differential_inputs",
                          {"problem": block, "programs": shown, "input_format": input_format(view),
                           "n": str(config.n_differential_inputs)}, 0.7))
    adjudication = _adjudication(problem)
    if adjudication is not None:
        test_input, right, wrong = adjudication
        # The correct output is shown second, so "Output 1" is not always the right answer.
        outputs = "\n\n".join(
            f"Output {n} (from 1 program(s)):\n```\n{text.rstrip()}\n```"
            for n, text in enumerate((wrong, right), 1)
        )
        tasks.append(Task("adjudicate", problem.id, "adjudicate",
                          {"problem": block, "input": test_input.rstrip(), "outputs": outputs},
                          0.0))
    return [t for t in tasks if t.purpose in purposes]


def _adjudication(problem: Problem) -> tuple[str, str, str] | None:
    """(input, correct output, a wrong output) from the statement's first example."""
    for test in problem.public_tests:
        if test.kind in (TestKind.STDIN, TestKind.FUNCTIONAL) and test.expected.strip():
            return test.input, test.expected, _wrong_output(test.expected)
    if problem.func_name:
        for example in statement_examples(problem.statement, problem.starter_code,
                                          problem.func_name):
            args = functional_input(example)
            if args is not None:
                expected = json.dumps(example.expected_value)
                return args, expected, _wrong_output(expected)
    return None


def _wrong_output(text: str) -> str:
    """A plausible wrong output: a JSON string changed, else the first number changed by
    one, else true and false swapped, else the text reversed."""
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, str):
        return json.dumps(value[::-1] if value[::-1] != value else value + "a")
    match = re.search(r"-?\d+", text)
    if match:
        return text[: match.start()] + str(int(match.group()) + 1) + text[match.end():]
    if "true" in text or "false" in text:
        return text.replace("true", "F").replace("false", "true").replace("F", "false")
    changed = text.strip()[::-1]
    return changed if changed != text.strip() else text.strip() + "x"


def _wrong_variant(code: str) -> str:
    """The reference with an off-by-one slipped in (first `+ 1`, `<`, or `range(` changed)."""
    for old, new in ((" + 1", ""), (" < ", " <= "), (" > ", " >= "), ("range(", "range(1 + ")):
        if old in code:
            return code.replace(old, new, 1)
    return code + "\n# (same program)\n"


async def _generate(backend: LlamaCppBackend, system: str, user: str, params: SamplingParams
                    ) -> tuple[str, GenerationResult, bool]:
    """The answer, the result, and whether the loop guard stopped it (then the result is a
    stand-in built from what streamed, since closing the stream yields none)."""
    guard = LoopGuard()
    result: GenerationResult | None = None
    messages = [ChatMessage("system", system), ChatMessage("user", user)]
    started = time.monotonic()
    tokens = 0
    async with aclosing(backend.stream(messages, params)) as stream:
        async for item in stream:
            if isinstance(item, Delta):
                tokens += 1
                if item.channel == "answer" and guard.feed(item.text):
                    break
            else:
                result = item
    if guard.tripped or result is None:
        result = GenerationResult("", guard.text, 0, tokens, "loop", 0.0,
                                  time.monotonic() - started)
        return guard.usable_text(), result, True
    return result.answer, result, False


def _params(params: SamplingParams) -> dict[str, Any]:
    fields = asdict(params)
    return {k: fields[k] for k in ("temperature", "top_p", "top_k", "min_p", "max_tokens", "seed")}


def fixture_path(problem_id: str, purpose: str) -> Path:
    """One file per problem and group (programs: probe, diversity, constraints; tests: the
    rest), each a JSON object from purpose to record: a few dozen small files."""
    group = "programs" if purpose in ("probe", "diversity", "constraints") else "tests"
    return FIXTURES / f"{_slug(problem_id)}.{group}.json"


def _read(path: Path) -> dict[str, dict[str, Any]]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _slug(problem_id: str) -> str:
    return re.sub(r"[^\w.-]+", "_", problem_id)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


if __name__ == "__main__":
    sys.exit(main())
