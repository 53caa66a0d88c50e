"""SVG snapshots of the workbench: the main screen in each theme, the help screen, the no-model
screen and a replay at a fixed step. Deterministic: a fixed terminal size, a frozen clock, a
fixed event log (no model, no sandbox timings) and no visible text cursor.

Update after an intended change: pytest tests/test_ui_snapshots.py --snapshot-update
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ui_support import DEMO_T0, demo_events, make_folder, wait_until

from atlas_tui.app import AtlasApp, create_app
from atlas_tui.config import Config
from atlas_tui.screens.replay import ReplayScreen
from engine import events as ev

SIZE = (150, 46)
CONFIG_FILE = Path("/home/you/.config/atlas-tui/config.toml")


def build(tmp_path: Path, *, model: bool = True, theme: str = "dark") -> AtlasApp:
    config = Config(model="demo-14b-q4.gguf" if model else None, theme=theme)
    return create_app(make_folder(tmp_path / "problems"), config, config_file=CONFIG_FILE,
                      store_path=tmp_path / "s.sqlite", watch=False, animate=False,
                      clock=lambda: DEMO_T0 + 20.0)


async def settled(pilot: Any) -> None:
    """The folder is in the queue and the theme's own styles are on the panes (its borders),
    so a snapshot never catches the app half-started."""
    app: AtlasApp = pilot.app
    await app.loaded.wait()
    queue = app.query_one("ProblemQueue")
    border = "heavy" if app.theme_name == "high-contrast" else "round"
    await wait_until(pilot, lambda: len(queue.shown_keys) == len(app.folder.items)  # type: ignore[attr-defined]
                     and app.query_one("#queue").styles.border_top[0] == border, "settled")


async def show_demo_task(pilot: Any) -> None:
    app: AtlasApp = pilot.app
    await settled(pilot)
    key = next(i.key for i in app.folder.items if i.problem and i.problem.id == "sum-two")
    queue = app.query_one("ProblemQueue")
    queue.table.move_cursor(row=queue.shown_keys.index(key))  # type: ignore[attr-defined]
    app.shown_task[key] = "demo"
    app.status_of[key] = ("pass", "3/3")
    for event in demo_events():
        app.bridge.emit(event)
    app.bridge.flush()
    await pilot.pause()
    app.set_status(key, "pass", "3/3")
    await pilot.pause()


@pytest.mark.parametrize("theme", ["dark", "light", "high-contrast"])
def test_main_screen_in_each_theme(snap_compare: Any, tmp_path: Path, theme: str) -> None:
    app = build(tmp_path, theme=theme)
    assert snap_compare(app, terminal_size=SIZE, run_before=show_demo_task)


def test_help_screen(snap_compare: Any, tmp_path: Path) -> None:
    async def open_help(pilot: Any) -> None:
        await settled(pilot)
        await pilot.press("question_mark")

    assert snap_compare(build(tmp_path), terminal_size=SIZE, run_before=open_help)


def test_no_model_screen(snap_compare: Any, tmp_path: Path) -> None:
    async def loaded(pilot: Any) -> None:
        await settled(pilot)

    assert snap_compare(build(tmp_path, model=False), terminal_size=SIZE, run_before=loaded)


def test_replay_at_a_fixed_step(snap_compare: Any, tmp_path: Path) -> None:
    events = demo_events()
    step = next(i for i, e in enumerate(events) if isinstance(e, ev.RepairIteration)) + 1

    async def replay(pilot: Any) -> None:
        app: AtlasApp = pilot.app
        await settled(pilot)
        problem = next(i.problem for i in app.folder.items
                       if i.problem and i.problem.id == "sum-two")
        assert problem is not None
        app.push_screen(ReplayScreen(events, problem.view(), "sum-two", start=step))
        await pilot.pause()

    assert snap_compare(build(tmp_path), terminal_size=SIZE, run_before=replay)
