"""Every key binding of the workbench, each with an id a config file can remap.

One table so the footer, the help screen, the command palette and the keymap all agree.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.binding import Binding

# (id, default keys, action, description, shown in footer)
_TABLE: tuple[tuple[str, str, str, str, bool], ...] = (
    ("solve", "s", "solve", "Solve", True),
    ("solve_all", "S", "solve_all", "Solve all queued", False),
    ("pause", "p", "pause", "Pause/resume", True),
    ("cancel", "x", "cancel", "Cancel", True),
    ("step_mode", "m", "step_mode", "Step mode", True),
    ("next_step", "n", "next_step", "Next step", True),
    ("prev_iteration", "left_square_bracket", "prev_iteration", "Prev iteration", False),
    ("next_iteration", "right_square_bracket", "next_iteration", "Next iteration", False),
    ("jump_iteration", "g", "jump_iteration", "Jump to iteration", False),
    ("accept", "a", "accept", "Accept candidate", True),
    ("edit", "e", "edit", "Edit candidate in $EDITOR", False),
    ("add_test", "plus", "add_test", "Add test", False),
    ("rerun", "r", "rerun", "Re-run from phase", False),
    ("condition", "c", "condition", "Condition", False),
    ("maximize", "z", "maximize", "Maximize pane", False),
    ("theme", "t", "cycle_theme", "Theme", False),
    ("filter", "slash", "filter", "Filter", False),
    ("replay", "R", "replay", "Replay a session", False),
    ("help", "question_mark", "help", "Help", True),
    ("quit", "q", "quit", "Quit", True),
)

BINDING_IDS: tuple[str, ...] = tuple(row[0] for row in _TABLE)


def workbench_bindings() -> list[Binding]:
    return [
        Binding(keys, action, description, show=show, id=binding_id)
        for binding_id, keys, action, description, show in _TABLE
    ]


def describe(binding_id: str) -> str:
    return next(row[3] for row in _TABLE if row[0] == binding_id)


def unknown_ids(keymap: Mapping[str, str]) -> list[str]:
    """Ids in a keymap that name no binding: reported, so a typo does not pass silently."""
    return sorted(set(keymap) - set(BINDING_IDS))
