"""Step gates: a person pauses the runner before a step and steers it.

The runner calls `Gates.wait(step)` before every step it names: a `GateName` (probe,
diversity, plansearch, selftest, select, differential, final), or one numbered (repair 1,
repair 2, ...: `numbered("repair", 1)`). `GATES` is the one list of them; the runner's
checkpoints, the workbench's re-run menu and a pause set are all checked against it by mypy,
and the names are what `GateReached.step` holds in the log. When the step is one
the person asked to pause before, the runner emits `GateReached` and waits until `resolve` is
called with continue, skip or stop (stop: no more solving; the best candidate so far is
submitted). A person can also add a test, edit a candidate or pin one as the answer at any time;
the runner applies those at its next step boundary and records each as a `UserAction` event.

`resolve` and the user actions must be called on the event loop that runs the pipeline (from
another thread, go through `loop.call_soon_threadsafe`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, NewType, get_args

GateAction = Literal["continue", "skip", "stop"]
ACTIONS: tuple[GateAction, ...] = ("continue", "skip", "stop")

# The steps a run can pause before, in the order it reaches them.
GateName = Literal[
    "probe", "diversity", "plansearch", "selftest", "select", "differential", "repair", "final"
]
GATES: tuple[GateName, ...] = get_args(GateName)
EVERY_STEP: Literal["*"] = "*"  # in a pause set: pause before every step

# A gate's name with the iteration it guards ("repair 2"); `wants` matches it by its name.
NumberedStep = NewType("NumberedStep", str)
Step = GateName | NumberedStep  # what `wait` and `GateReached.step` name
PauseAt = GateName | Literal["*"]


def numbered(gate: GateName, n: int) -> NumberedStep:
    return NumberedStep(f"{gate} {n}")


@dataclass(frozen=True, slots=True)
class AddTest:
    input: str
    expected: str


@dataclass(frozen=True, slots=True)
class EditCandidate:
    candidate_id: str
    code: str


@dataclass(frozen=True, slots=True)
class PinAnswer:
    candidate_id: str


UserCommand = AddTest | EditCandidate | PinAnswer


class Gates:
    """Where to pause, and the person's answers.

    `pause_before`: gate names; a name also matches its numbered steps ("repair" pauses before
    "repair 1", "repair 2", ...); "*" pauses before every step. `policy`, when given, answers
    every gate at once without waiting (scripted steering for tests and headless runs).
    """

    def __init__(
        self,
        pause_before: Iterable[PauseAt] = (),
        *,
        policy: Callable[[Step], GateAction] | None = None,
    ) -> None:
        self.pause_before: set[PauseAt] = set(pause_before)
        self._policy = policy
        self._answers: asyncio.Queue[GateAction] = asyncio.Queue()
        self._commands: list[UserCommand] = []
        self.waiting_on: Step | None = None  # the step the runner waits before, if any

    def wants(self, step: Step) -> bool:
        if EVERY_STEP in self.pause_before or step in self.pause_before:
            return True
        return step.split(" ")[0] in self.pause_before

    async def wait(self, step: Step) -> GateAction:
        if self._policy is not None:
            return self._policy(step)
        self.waiting_on = step
        try:
            return await self._answers.get()
        finally:
            self.waiting_on = None

    def resolve(self, action: GateAction) -> None:
        if action not in ACTIONS:
            raise ValueError(f"unknown gate action {action!r}; choose one of {ACTIONS}")
        self._answers.put_nowait(action)

    def add_test(self, input: str, expected: str) -> None:
        self._commands.append(AddTest(input, expected))

    def edit_candidate(self, candidate_id: str, code: str) -> None:
        self._commands.append(EditCandidate(candidate_id, code))

    def pin_answer(self, candidate_id: str) -> None:
        self._commands.append(PinAnswer(candidate_id))

    def take_commands(self) -> list[UserCommand]:
        """The person's pending actions, oldest first; the runner applies each once."""
        commands, self._commands = self._commands, []
        return commands
