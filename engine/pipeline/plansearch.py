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
# Other ways a model separates its sets: Markdown headings, lines in bold, then top-level
# numbered items, then top-level bullets.
_MARKDOWN = re.compile(r"^[ \t]*(#{1,6})[ \t]+\S.*$", re.MULTILINE)
_BOLD_LINE = re.compile(r"^[ \t]*(?:\*\*|__)[^*\n]+(?:\*\*|__)[ \t]*:?[ \t]*$", re.MULTILINE)
_NUMBERED = re.compile(r"^\d+[.)][ \t]+\S.*$", re.MULTILINE)
_BULLET = re.compile(r"^[-*+][ \t]+\S.*$", re.MULTILINE)
_MARKERS = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+|\d+[.)][ \t]+|[-*+][ \t]+)?")


def split_constraint_sets(text: str) -> list[str]:
    """The sets of observations in a model's answer: under "## Constraint set N" headings
    (what the prompt asks for), else under other Markdown headings or bold lines (the most
    frequent heading level that occurs at least twice), else one per top-level numbered item,
    else one per top-level bullet; the whole text when there is no such structure. A set
    keeps its heading's words (the approach's name) but not the Markdown around them; a set
    repeated word for word counts once."""
    heads = list(_HEADING.finditer(text))
    if heads:
        return _cut(text, heads, keep_heading=False)
    for found in (_heading_level(text), list(_BOLD_LINE.finditer(text)),
                  list(_NUMBERED.finditer(text)), list(_BULLET.finditer(text))):
        if len(found) >= 2:
            return _cut(text, found, keep_heading=True)
    return [text.strip()] if text.strip() else []


def _heading_level(text: str) -> list[re.Match[str]]:
    """The Markdown headings of the level used most often (at least twice)."""
    by_level: dict[int, list[re.Match[str]]] = {}
    for match in _MARKDOWN.finditer(text):
        by_level.setdefault(len(match.group(1)), []).append(match)
    repeated = [heads for heads in by_level.values() if len(heads) >= 2]
    return max(repeated, key=len) if repeated else []


def _cut(text: str, heads: list[re.Match[str]], *, keep_heading: bool) -> list[str]:
    sets = []
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        body = text[head.end() : end].strip()
        if keep_heading:
            title = _MARKERS.sub("", head.group(0)).strip().replace("**", "").replace("__", "")
            body = f"{title}\n{body}".strip()
        sets.append(body)
    # A set written twice word for word would only give the same plan twice.
    distinct: dict[str, str] = {}
    for body in sets:
        if body:
            distinct.setdefault(" ".join(body.split()).lower(), body)
    return list(distinct.values())


async def plansearch(run: Run, n_plans: int, enough: Enough | None = None) -> list[Candidate]:
    if n_plans <= 0 or not await run.can_spend("plan"):
        return []
    problem = problem_block(run.view)
    extracted = await generate(
        run,
        template="constraints",
        purpose="constraints",
        step="constraints",
        temperature=run.config.plan_temperature,
        # No code is asked for, and no more sets than asked: the 0.5B model writes both and
        # runs into its token limit.
        stop=(f"Constraint set {n_plans + 1}", "```"),
        problem=problem,
        n=n_plans,
    )
    sets = split_constraint_sets(extracted.text)[:n_plans]
    await run.emit(ev.ConstraintsExtracted, constraint_sets=tuple(sets))
    candidates: list[Candidate] = []
    for number, constraints in enumerate(sets, 1):
        if not await run.can_spend("plan"):
            break
        planned = await generate(
            run,
            template="plan",
            purpose="plan",
            step="plan",
            temperature=run.config.plan_temperature,
            stop=("```",),  # a plan in words: code, where the model starts it, is cut
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
