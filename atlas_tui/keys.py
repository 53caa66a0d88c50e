"""Every key binding of the workbench, each with an id a config file can remap.

One table so the footer, the help screen, the command palette and the keymap all agree.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.binding import Binding

# (id, default keys, action, footer label, what it does); every one is in the footer, the help
# screen and the command palette.
_TABLE: tuple[tuple[str, str, str, str, str], ...] = (
    # help and quit first: on a narrow terminal the footer's end is what gets cut
    ("help", "question_mark", "help", "help", "Help: every key, its id, the config file"),
    ("quit", "q", "quit", "quit", "Quit"),
    ("solve", "s", "solve", "solve", "Solve the highlighted problem"),
    ("solve_all", "S", "solve_all", "all", "Solve all new problems, in turn"),
    ("pause", "p", "pause", "pause", "Pause before the next step / resume"),
    ("cancel", "x", "cancel", "cancel", "Cancel the running task"),
    ("step_mode", "m", "step_mode", "step", "Step mode: pause before every step"),
    ("next_step", "n", "next_step", "next", "Next step (continue past the gate)"),
    ("prev_iteration", "left_square_bracket", "prev_iteration", "◀it",
     "Previous repair iteration"),
    ("next_iteration", "right_square_bracket", "next_iteration", "it▶", "Next repair iteration"),
    ("jump_iteration", "g", "jump_iteration", "goto", "Jump to repair iteration N"),
    ("accept", "a", "accept", "accept", "Accept the highlighted candidate (write it)"),
    ("edit", "e", "edit", "edit", "Edit the candidate in $EDITOR and re-test it"),
    ("add_test", "plus", "add_test", "test", "Add a test case"),
    ("rerun", "r", "rerun", "rerun", "Re-run, pausing before a phase"),
    ("condition", "c", "condition", "cond", "Choose the condition (A to full)"),
    ("maximize", "z", "maximize", "max", "Maximize the focused pane"),
    ("theme", "t", "cycle_theme", "theme", "Switch theme"),
    ("filter", "slash", "filter", "filter", "Filter the queue"),
    ("replay", "R", "replay", "replay", "Replay a stored session"),
    ("notices", "exclamation_mark", "notices", "errors",
     "Errors and warnings of the task shown, with their step"),
)

BINDING_IDS: tuple[str, ...] = tuple(row[0] for row in _TABLE)


def workbench_bindings() -> list[Binding]:
    return [
        Binding(keys, action, label, tooltip=description, id=binding_id)
        for binding_id, keys, action, label, description in _TABLE
    ]


def describe(binding_id: str) -> str:
    return next(row[4] for row in _TABLE if row[0] == binding_id)


def unknown_ids(keymap: Mapping[str, str]) -> list[str]:
    """Ids in a keymap that name no binding: reported, so a typo does not pass silently."""
    return sorted(set(keymap) - set(BINDING_IDS))
