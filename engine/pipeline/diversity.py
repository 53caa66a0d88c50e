"""DivSampling: extra candidates from perturbed prompts (a persona, an approach hint) at a ladder
of temperatures, so the candidates differ from one another and from the probe."""

from __future__ import annotations

from engine.pipeline.context import Candidate, Enough, Run
from engine.pipeline.generation import Ask, code_from, generate_many
from engine.pipeline.problem_text import answer_format, problem_block


async def diversify(run: Run, n: int, enough: Enough | None = None) -> list[Candidate]:
    """`n` diverse candidates, `config.batch_draws` at a time; `enough` may stop the drawing
    after any of them."""
    config = run.config
    asks = [_ask(run, i) for i in range(n)]
    size = max(1, config.batch_draws)
    candidates: list[Candidate] = []
    for first in range(0, n, size):
        if not await run.can_spend("diversity"):
            break
        generations = await generate_many(run, asks[first : first + size])
        stop = False
        for i, generation in enumerate(generations, first):
            code = await code_from(run, generation)
            if code is None:
                continue
            candidate = await run.add_candidate(
                code,
                origin="diversity",
                phase="diversity",
                stream_id=generation.stream_id,
                label=f"diverse {i + 1} (T={asks[i].temperature:g})",
            )
            candidates.append(candidate)
            stop = stop or (enough is not None and await enough(candidate))
        if stop:
            break
    return candidates


def _ask(run: Run, i: int) -> Ask:
    """The i-th sample: a persona, a hint and a temperature, each taken in turn."""
    config = run.config
    ladder = config.diversity_temperatures or (0.8,)
    return Ask(
        template="diversity",
        purpose="diversity",
        step="diversity",
        temperature=ladder[i % len(ladder)],
        variables={
            "persona": config.personas[i % len(config.personas)] if config.personas else "",
            "hint": config.hints[i % len(config.hints)] if config.hints else "",
            "problem": problem_block(run.view),
            "answer_format": answer_format(run.view),
        },
    )
