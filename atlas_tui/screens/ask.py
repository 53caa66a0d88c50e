"""Small questions: a line of text, a choice from a list, a new test case."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, TextArea

Choice = TypeVar("Choice", bound=str)

_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 70; height: auto; max-height: 90%; border: round $accent;
                     background: $surface; padding: 0 1; }}
"""


class AskLine(ModalScreen[str | None]):
    """One line of text; Enter answers, Escape cancels (None)."""

    DEFAULT_CSS = _CSS.format(name="AskLine")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="ask_cancel"),
    ]

    def __init__(self, question: str, *, placeholder: str = "", value: str = "") -> None:
        super().__init__()
        self._question, self._placeholder, self._value = question, placeholder, value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._question)
            yield Input(value=self._value, placeholder=self._placeholder, id="ask-input")

    @on(Input.Submitted, "#ask-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class AskChoice(ModalScreen[Choice | None], Generic[Choice]):
    """Pick one of `choices`; Escape cancels (None). The answer has the choices' type."""

    DEFAULT_CSS = _CSS.format(name="AskChoice")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="choice_cancel"),
    ]

    def __init__(self, question: str, choices: Sequence[Choice], *,
                 current: Choice | None = None) -> None:
        super().__init__()
        self._question, self._choices, self._current = question, list(choices), current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._question)
            options = OptionList(*self._choices, id="choice-list")
            if self._current in self._choices:
                options.highlighted = self._choices.index(self._current)
            yield options

    @on(OptionList.OptionSelected, "#choice-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._choices[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class AskTest(ModalScreen[tuple[str, str] | None]):
    """A test case: input and expected output. ctrl+s saves, Escape cancels."""

    DEFAULT_CSS = _CSS.format(name="AskTest") + """
    AskTest TextArea { height: 8; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="test_cancel"),
        Binding("ctrl+s", "save", "Add the test", id="test_save"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Input (stdin, or one JSON argument per line):")
            yield TextArea(id="test-input")
            yield Label("Expected output:")
            yield TextArea(id="test-expected")
            yield Button("Add test (ctrl+s)", id="test-add", variant="primary")

    @on(Button.Pressed, "#test-add")
    def action_save(self) -> None:
        given = self.query_one("#test-input", TextArea).text
        expected = self.query_one("#test-expected", TextArea).text
        self.dismiss((given, expected))

    def action_cancel(self) -> None:
        self.dismiss(None)
