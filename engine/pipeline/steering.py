"""A person's steering of a run: the step gates (pause, skip, stop) and what they did while it
ran (add a test, edit a candidate, pin the answer), applied at the next gate.

It uses both the run's state (`context.Run`) and running candidates (`execution.evaluate`), and
neither of those imports it, so the state and the code that acts on it are no longer a circle.
"""

from __future__ import annotations

import json

from engine import events as ev
from engine.pipeline.context import Run, StopSolving
from engine.pipeline.execution import evaluate
from engine.pipeline.gates import AddTest, EditCandidate, GateAction, PinAnswer, Step
from engine.problems.model import TestCase


async def checkpoint(run: Run, step: Step, detail: str = "") -> GateAction:
    """Apply the person's pending actions, then pause here if they asked to."""
    await apply_user_commands(run)
    if run.gates is None or not run.gates.wants(step):
        return "continue"
    await run.emit(ev.GateReached, step=step, detail=detail)
    action = await run.gates.wait(step)
    await run.emit(ev.GateResolved, step=step, action=action)
    await apply_user_commands(run)  # what the person did while the run was paused
    if action == "stop":
        raise StopSolving(step)
    return action


async def apply_user_commands(run: Run) -> None:
    if run.gates is None:
        return
    for command in run.gates.take_commands():
        if isinstance(command, AddTest):
            kind = run.generated_kind or run.view.test_kind
            case = TestCase(command.input, command.expected, kind, origin="user")
            await run.emit(ev.UserAction, action="add_test", payload=_json(command))
            test = await run.add_test("user", case, "user", prefix="u")
            await evaluate(run, list(run.candidates.values()), [test])
        elif isinstance(command, EditCandidate):
            await run.emit(ev.UserAction, action="edit_candidate", payload=_json(command))
            if command.candidate_id not in run.candidates:
                await run.error("edit_candidate", f"no candidate {command.candidate_id}")
                continue
            edited = await run.add_candidate(
                command.code,
                origin="user",
                phase="user",
                parent_id=command.candidate_id,
                label=f"edited {command.candidate_id}",
            )
            tests = run.tests_of("public", "self", "user")
            await evaluate(run, [edited], tests)
        elif isinstance(command, PinAnswer):
            await run.emit(ev.UserAction, action="pin_answer", payload=_json(command))
            if command.candidate_id in run.candidates:
                run.pinned = command.candidate_id
            else:
                await run.error("pin_answer", f"no candidate {command.candidate_id}")


def _json(command: AddTest | EditCandidate | PinAnswer) -> str:
    return json.dumps({name: getattr(command, name) for name in command.__slots__})
