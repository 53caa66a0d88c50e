"""Probe: one direct answer to the problem, the baseline every condition starts from."""

from __future__ import annotations

from engine.pipeline.context import Candidate, Run
from engine.pipeline.generation import code_from, generate
from engine.pipeline.problem_text import answer_format, problem_block


async def probe(run: Run) -> Candidate | None:
    generation = await generate(
        run,
        template="probe",
        purpose="probe",
        step="probe",
        temperature=run.config.probe_temperature,
        problem=problem_block(run.view),
        answer_format=answer_format(run.view),
    )
    code = await code_from(run, generation)
    if code is None:
        return None
    return await run.add_candidate(
        code, origin="probe", phase="probe", stream_id=generation.stream_id, label="probe"
    )
