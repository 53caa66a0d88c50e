"""The status bar: model and backend, tokens per second, phase, elapsed time, sandbox tier,
GPU memory when known, and a spinner while a step runs so nothing looks frozen."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

from engine.state import TaskState
from widgets.notices import counts, newest

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@dataclass(frozen=True, slots=True)
class StatusInfo:
    """What the app knows beyond the task's state."""

    model: str = "no model"
    backend: str = ""
    sandbox_tier: str = "?"
    gpu_memory: str = ""  # e.g. "9.1/16 GiB" when the backend reports it
    condition: str = ""
    step_mode: bool = False
    note: str = ""  # the last thing the app wants a person to see (a path written, ...)
    loading: str = ""  # what is being made off the UI loop (the model, the Lens), and since


def live_rate(state: TaskState) -> float:
    """Tokens per second over the generations streaming now (or the last one finished)."""
    running = [s for s in state.streams.values() if not s.finished]
    if running:
        return sum(s.live_tokens_per_s for s in running)
    finished = [s for s in state.streams.values() if s.finished]
    return finished[-1].tokens_per_s if finished else 0.0


def status_text(state: TaskState | None, info: StatusInfo, *, now: float, frame: int) -> Text:
    text = Text()
    text.append(f" {info.model}", style="bold")
    if info.backend:
        text.append(f" ({info.backend})", style="dim")
    text.append(f" │ sandbox {info.sandbox_tier}")
    if info.gpu_memory:
        text.append(f" │ GPU {info.gpu_memory}")
    if info.condition:
        text.append(f" │ cond {info.condition}")
    if info.step_mode:
        text.append(" │ STEP", style="bold yellow")
    if info.loading:
        text.append(f" │ {SPINNER[frame % len(SPINNER)]} {info.loading}", style="yellow")
    if state is not None and state.task_id:
        busy = not state.finished and state.status == "running" and state.gate is None
        if busy:
            text.append(f" │ {SPINNER[frame % len(SPINNER)]}", style="yellow")
        phase = state.phase or state.status
        if state.gate is not None:
            phase = f"paused before {state.gate.step}"
        text.append(f" {phase}", style="bold")
        text.append(f" │ {live_rate(state):.1f} tok/s")
        if state.finished and state.elapsed_s is not None:
            elapsed = state.elapsed_s
        else:
            elapsed = max(0.0, now - (state.started_at or now))
        text.append(f" │ {elapsed:.1f}s")
        text.append(f" │ {state.tokens.completion} tok")
        if state.notices:  # the log key (!) lists them
            text.append(f" │ ! {counts(state)}, last {newest(state)} (!: all)",
                        style="bold red" if state.errors else "yellow")
    if info.note:
        text.append(f" │ {info.note}", style="italic")
    return text


class StatusBar(Widget):
    """One line, redrawn in place: a repaint, never a layout pass (it is drawn every frame)."""

    DEFAULT_CSS = "StatusBar { height: 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text()

    def show(self, state: TaskState | None, info: StatusInfo, *, now: float) -> None:
        # the spinner follows the clock, so a frozen clock draws the same bar every time
        text = status_text(state, info, now=now, frame=int(now * 8))
        if text.plain != self._text.plain or text.spans != self._text.spans:
            self._text = text
            self.refresh()

    def render(self) -> Text:
        return self._text
