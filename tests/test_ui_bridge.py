"""The bridge: engine events in, one Textual message per frame out, folded with the real fold."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from atlas_tui.bridge import EventBridge, StatesChanged
from engine import events as ev
from engine.state import reduce


class Sink(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[StatesChanged] = []
        self.bridge = EventBridge(self, fps=20, keep_finished=2)

    def compose(self) -> ComposeResult:
        yield Static("sink")

    def on_mount(self) -> None:
        self.bridge.start()

    def on_states_changed(self, message: StatesChanged) -> None:
        self.messages.append(message)


def stream(task_id: str, deltas: int, *, finish: bool) -> list[ev.Event]:
    log: list[ev.Event] = [ev.TaskStarted(task_id=task_id, seq=1, title="t", condition="A")]
    for name in ("g1", "g2", "g3"):
        log.append(ev.GenerationStarted(task_id=task_id, seq=len(log) + 1, stream_id=name,
                                        purpose="diversity", template="d",
                                        template_version="1", prompt="p"))
    for n in range(deltas):
        log.append(ev.TokenDelta(task_id=task_id, seq=len(log) + 1, stream_id=f"g{n % 3 + 1}",
                                 text=f"t{n} ", channel="thinking", tokens=1))
    if finish:
        log.append(ev.TaskFinished(task_id=task_id, seq=len(log) + 1, status="no_answer"))
    return log


async def test_thousands_of_events_are_folded_and_drawn_in_a_few_frames() -> None:
    app = Sink()
    async with app.run_test() as pilot:
        events = stream("t1", 9000, finish=False)
        for event in events:
            app.bridge.emit(event)  # as fast as the engine can: no message per event
        assert app.messages == []
        for _ in range(200):
            if app.bridge.events == len(events):
                break
            await pilot.pause(0.02)
        await pilot.pause()
        assert 1 <= len(app.messages) <= 3  # one per frame, not one per event
        assert sum(m.events for m in app.messages) == len(events)
        assert app.bridge.state("t1") == reduce(events)
        assert app.bridge.state("t1").streams["g2"].thinking.startswith("t1 t4 t7 ")


async def test_old_finished_tasks_are_let_go_and_running_ones_kept() -> None:
    app = Sink()
    async with app.run_test():
        running = stream("live", 10, finish=False)
        for event in running:
            app.bridge.emit(event)
        for number in range(5):
            for event in stream(f"done{number}", 10, finish=True):
                app.bridge.emit(event)
            app.bridge.flush()
        kept = {t for t in ("live", *(f"done{n}" for n in range(5))) if app.bridge.state(t)}
        assert kept == {"live", "done3", "done4"}  # the two newest finished, and the live one
