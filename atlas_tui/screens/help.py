"""The help screen (`?`): every binding with its id and keys, and where the config lives."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from atlas_tui import keys


def help_table(effective: Mapping[str, str], show_key: Callable[[str], str] = str) -> Table:
    title = Text("Keys (remap any id under [keymap] in the config file)")
    table = Table(title=title, expand=True, title_justify="left")
    table.add_column("keys", style="bold", no_wrap=True)
    table.add_column("what it does")
    table.add_column("id", style="dim", no_wrap=True)
    for binding_id in keys.BINDING_IDS:
        shown = ", ".join(show_key(key.strip()) for key in effective[binding_id].split(","))
        table.add_row(shown, keys.describe(binding_id), binding_id)
    table.add_row("ctrl+p", "Command palette: every action by name", "")
    table.add_row("tab / shift+tab", "Move between panes", "")
    return table


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    #help-body { width: 90%; height: 90%; border: round $accent; background: $surface;
                 padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help_close"),
    ]

    def __init__(self, effective: Mapping[str, str], config_file: str) -> None:
        super().__init__()
        self._effective = effective
        self._config_file = config_file

    def _show_key(self, key: str) -> str:
        display = self.app.get_key_display(Binding(key, ""))
        return f"{display} ({key})" if display.lower() != key.lower() else display

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(Text("atlas-tui workbench", style="bold"))
            yield Static(help_table(self._effective, self._show_key))
            yield Static(Text.assemble(
                "\nConfig file: ", (self._config_file, "bold"),
                "\nThemes: dark, light, high-contrast (key: theme).",
                "\nStep mode pauses before every step; next step continues one.",
                "\nAnswers are written next to each problem as NAME.answer.py "
                "(or in output_dir).",
            ))
