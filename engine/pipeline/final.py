"""Final selection: exactly one answer, submitted. Grading is not the pipeline's business: the
task runner grades the submitted answer after the solve has ended.

When no generation yielded code, the answer is empty (candidate id ""), as LiveCodeBench grades
an answer it could not extract code from: a failure, counted, not skipped."""

from __future__ import annotations

from engine import events as ev
from engine.pipeline.context import Candidate, Run
from engine.pipeline.selection import choose

NO_CANDIDATE = ""


async def submit(run: Run) -> Candidate | None:
    """Choose the answer and submit it; None (an empty answer submitted) without candidates."""
    choice = await choose(run)
    if choice is None:
        reason = "no generation produced code: an empty answer is submitted"
        await run.emit(ev.CandidateSelected, candidate_id=NO_CANDIDATE, reason=reason)
        await run.emit(ev.AnswerSubmitted, candidate_id=NO_CANDIDATE, code="", phase="none")
        return None
    candidate, reason = choice
    await run.emit(ev.CandidateSelected, candidate_id=candidate.id, reason=reason)
    await run.emit(
        ev.AnswerSubmitted, candidate_id=candidate.id, code=candidate.code, phase=candidate.phase
    )
    return candidate
