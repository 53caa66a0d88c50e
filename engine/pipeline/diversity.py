"""DivSampling: extra candidates from perturbed prompts (a persona, an approach hint) at a ladder
of temperatures, so the candidates differ from one another and from the probe."""

from __future__ import annotations

from engine.pipeline.context import Candidate, Enough, Run
from engine.pipeline.generation import code_from, generate
from engine.pipeline.problem_text import answer_format, problem_block


async def diversify(run: Run, n: int, enough: Enough | None = None) -> list[Candidate]:
    config = run.config
    candidates: list[Candidate] = []
    for i in range(n):
        persona = config.personas[i % len(config.personas)] if config.personas else ""
        hint = config.hints[i % len(config.hints)] if config.hints else ""
        ladder = config.diversity_temperatures or (0.8,)
        temperature = ladder[i % len(ladder)]
        generation = await generate(
            run,
            template="diversity",
            purpose="diversity",
            step="diversity",
            temperature=temperature,
            persona=persona,
            hint=hint,
            problem=problem_block(run.view),
            answer_format=answer_format(run.view),
        )
        code = await code_from(run, generation)
        if code is None:
            continue
        candidate = await run.add_candidate(
            code,
            origin="diversity",
            phase="diversity",
            stream_id=generation.stream_id,
            label=f"diverse {i + 1} (T={temperature:g})",
        )
        candidates.append(candidate)
        if enough is not None and await enough(candidate):
            break
    return candidates
