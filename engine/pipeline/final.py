"""Final selection: exactly one answer, submitted. Grading is not the pipeline's business: the
task runner grades the submitted answer after the solve has ended."""

from __future__ import annotations

from engine import events as ev
from engine.pipeline.context import Candidate, Run
from engine.pipeline.selection import choose


async def submit(run: Run) -> Candidate | None:
    """Choose the answer and submit it; None when there is no candidate at all."""
    choice = await choose(run)
    if choice is None:
        return None
    candidate, reason = choice
    await run.emit(ev.CandidateSelected, candidate_id=candidate.id, reason=reason)
    await run.emit(
        ev.AnswerSubmitted, candidate_id=candidate.id, code=candidate.code, phase=candidate.phase
    )
    return candidate
