"""Keys: remapped through the config by binding id, listed in the help screen and in the
command palette; themes switch at run time; dialogs and replay do not pass keys to the
workbench behind them."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette
from ui_support import make_folder, screen_text, wait_until

import themes
from atlas_tui.app import AtlasApp, create_app
from atlas_tui.config import Config
from atlas_tui.keys import BINDING_IDS, describe
from atlas_tui.screens.help import HelpScreen

SIZE = (140, 40)


def build(tmp_path: Path, **config: object) -> AtlasApp:
    return create_app(make_folder(tmp_path / "problems"),
                      Config(model="m.gguf", **config),  # type: ignore[arg-type]
                      store_path=tmp_path / "s.sqlite", watch=False, animate=False)


async def test_a_binding_remapped_by_id_moves_to_the_new_key(tmp_path: Path) -> None:
    app = build(tmp_path, keymap={"help": "f1", "theme": "f9", "no_such_id": "f2"})
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, app.loaded.is_set, "loaded")
        await pilot.press("question_mark")
        assert not isinstance(app.screen, HelpScreen)  # the old key is free now
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "help on f1")
        text = screen_text(app)
        assert "f1" in text.lower() and "help" in text and "solve_all" in text
        await pilot.press("s")  # a dialog is up: no solve starts behind it
        assert app.solver is not None and not app.solver.busy
        await pilot.press("escape")
        await pilot.press("f9")
        assert app.theme_name == "high-contrast"
    assert any("no_such_id" in n.message for n in app._notifications)  # typo reported


async def test_themes_switch_at_run_time_one_file_at_a_time(tmp_path: Path) -> None:
    app = build(tmp_path, theme="light")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, app.loaded.is_set, "loaded")

        def loaded_theme_files() -> list[str]:
            return [Path(path).stem for path, tag in app.stylesheet.source
                    if tag == "atlas-theme"]

        assert loaded_theme_files() == ["light"] and app.theme == "textual-light"
        seen = []
        for _ in themes.available():
            await pilot.press("t")
            await pilot.pause()
            seen.append(app.theme_name)
            assert loaded_theme_files() == [app.theme_name]
            assert app.theme == themes.textual_theme(app.theme_name)
        assert sorted(seen) == ["dark", "high-contrast", "light"]
        status = app.query_one("#status")
        app.set_theme("high-contrast")
        await pilot.pause()
        assert status.styles.background.rgb == (255, 255, 255)  # from high-contrast.tcss
        app.set_theme("dark")
        await pilot.pause()
        assert status.styles.background.rgb != (255, 255, 255)


async def test_every_workbench_action_is_in_the_command_palette(tmp_path: Path) -> None:
    app = build(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, app.loaded.is_set, "loaded")
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for binding_id in BINDING_IDS:
            if binding_id not in ("help", "quit"):  # Textual's own palette has those
                assert describe(binding_id) in titles
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "palette")
        await pilot.press(*"step mode")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.solver is not None and app.solver.step_mode,
                         "step mode toggled from the palette")


async def test_filter_and_maximize(tmp_path: Path) -> None:
    app = build(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, app.loaded.is_set, "loaded")
        queue = app.query_one("ProblemQueue")
        assert len(queue.shown_keys) == 2  # type: ignore[attr-defined]
        await pilot.press("slash")
        await pilot.press(*"larg")
        await pilot.pause()
        assert [k.split("::")[1] for k in queue.shown_keys] == ["max"]  # type: ignore[attr-defined]
        await pilot.press("enter")  # back to the table, filter kept
        await pilot.press("z")
        assert app.screen.maximized is queue
        await pilot.pause()
        assert queue.outer_size.width == SIZE[0]  # the whole width, not its grid column
        await pilot.press("z")
        assert app.screen.maximized is None


async def test_a_store_file_that_is_not_a_store_is_said_and_the_app_opens(tmp_path: Path
                                                                          ) -> None:
    bad = tmp_path / "not-a-store.sqlite"
    bad.write_bytes(b"this is not SQLite at all" * 100)
    app = create_app(make_folder(tmp_path / "problems"), Config(model="m.gguf"),
                     store_path=bad, watch=False, animate=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, app.loaded.is_set, "loaded")
        assert any("not a usable atlas-tui store" in n.message for n in app._notifications)
        assert app.store is not None and app.store.sessions()  # in memory, working
        assert len(app.query_one("ProblemQueue").shown_keys) == 2  # type: ignore[attr-defined]
    assert bad.read_bytes() == b"this is not SQLite at all" * 100  # left as it was
