"""Pilot test: "edit and re-test" runs a person's program under the limits the pipeline uses,
the problem's time limit capped by the person's [limits]: a program that loops forever is a
TLE at that limit, not a hang and not the sandbox's 6 s default."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from ui_support import wait_until

from atlas_tui.app import create_app
from atlas_tui.config import Config, Limits
from engine.sandbox.sandbox import Sandbox
from engine.sandbox.types import SandboxLimits
from widgets.queue import ProblemQueue

LOOP = "while True:\n    pass\n"
PROBLEM = """\
---
id: loops
time_limit: {time_s}
---
# Echo
Print what you read.

## Example
Input
```
7
```
Output
```
7
```
"""


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with await Sandbox.create() as box:
        yield box


def _editor(tmp_path: Path, new_code: str) -> str:
    script = tmp_path / "fake-editor"
    script.write_text(f"#!{sys.executable}\nimport sys\n"
                      f"open(sys.argv[1], 'w').write({new_code!r})\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


@pytest.mark.parametrize(("problem_s", "mine_s"), [(1.0, 6.0), (3.0, 1.0)])
async def test_an_edited_program_that_loops_forever_is_stopped_at_the_time_limit(
    tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
    problem_s: float, mine_s: float,
) -> None:
    folder = tmp_path / "problems"
    folder.mkdir()
    (folder / "loops.md").write_text(PROBLEM.format(time_s=problem_s))
    config = Config(limits=Limits(time_s=mine_s, memory_mb=1024))
    app = create_app(folder, config, sandbox_factory=lambda: sandbox,
                     store_path=tmp_path / "store.sqlite", watch=False, animate=False)
    monkeypatch.setitem(os.environ, "EDITOR", _editor(tmp_path, LOOP))
    monkeypatch.delitem(os.environ, "VISUAL", raising=False)
    assert min(problem_s, mine_s) < SandboxLimits().wall_s  # a limit the default would miss
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_until(pilot, lambda: type(app.screen).__name__ == "NoModelScreen", "shown")
        await pilot.press("escape")
        await wait_until(pilot, app.loaded.is_set, "folder loaded")
        app.query_one(ProblemQueue).table.focus()
        await wait_until(pilot, lambda: (app.current_key or "").endswith("::loops"), "chosen")
        await pilot.press("e")
        await wait_until(pilot, lambda: "0/1 examples" in app._note, "re-tested", steps=6000)
        state = app.current_state()
        assert state is not None and state.condition == "manual"
        cell = state.cell("edit1", "p1")
        assert cell is not None and cell.verdict == "TLE"
        # stopped at the limit in force, the smaller of the problem's and the person's
        limit = min(problem_s, mine_s)
        assert limit <= cell.time_s < SandboxLimits().wall_s
