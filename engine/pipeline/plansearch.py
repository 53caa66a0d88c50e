"""PlanSearch: distinct sets of observations, each turned into a plan in words, each plan
implemented. The observation sets are asked to point to different algorithm families, so the
candidates differ in idea, not only in wording."""

from __future__ import annotations

import re

from engine import events as ev
from engine.pipeline.context import Candidate, Enough, Run
from engine.pipeline.generation import code_from, generate
from engine.pipeline.problem_text import answer_format, problem_block

_HEADING = re.compile(
    r"^[ \t]*(?:#+[ \t]*|\*\*)?(?:constraint|observation)s?[ \t]+set[ \t]*\d+\b.*$",
    re.IGNORECASE | re.MULTILINE,
)


def split_constraint_sets(text: str) -> list[str]:
    """The sets under "## Constraint set N" headings; the whole text when there are none."""
    heads = list(_HEADING.finditer(text))
    if not heads:
        return [text.strip()] if text.strip() else []
    sets = []
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        sets.append(text[head.end() : end].strip())
    return [s for s in sets if s]


async def plansearch(run: Run, n_plans: int, enough: Enough | None = None) -> list[Candidate]:
    if n_plans <= 0:
        return []
    problem = problem_block(run.view)
    extracted = await generate(
        run,
        template="constraints",
        purpose="constraints",
        step="constraints",
        temperature=run.config.plan_temperature,
        problem=problem,
        n=n_plans,
    )
    sets = split_constraint_sets(extracted.text)[:n_plans]
    await run.emit(ev.ConstraintsExtracted, constraint_sets=tuple(sets))
    candidates: list[Candidate] = []
    for number, constraints in enumerate(sets, 1):
        planned = await generate(
            run,
            template="plan",
            purpose="plan",
            step="plan",
            temperature=run.config.plan_temperature,
            problem=problem,
            constraints=constraints,
        )
        plan = planned.text.strip()
        plan_id = run.next_id("p")
        await run.emit(ev.PlanProposed, plan_id=plan_id, constraints=constraints, plan=plan)
        implemented = await generate(
            run,
            template="implement",
            purpose="implement",
            step="implement",
            temperature=run.config.implement_temperature,
            problem=problem,
            plan=plan,
            answer_format=answer_format(run.view),
        )
        code = await code_from(run, implemented)
        if code is None:
            continue
        candidate = await run.add_candidate(
            code,
            origin="plan",
            phase="plan",
            stream_id=implemented.stream_id,
            plan_id=plan_id,
            label=f"plan {number}",
        )
        candidates.append(candidate)
        if enough is not None and await enough(candidate):
            break
    return candidates
