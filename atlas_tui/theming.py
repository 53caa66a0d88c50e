"""Switching the workbench's `.tcss` theme at run time.

Exactly one theme file is in the stylesheet at a time: switching removes the old file's
source, adds the new one and sets the Textual colour theme it names, then restyles the app.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.theme import Theme

import themes

HIGH_CONTRAST = Theme(
    name="atlas-high-contrast",
    primary="#ffff00",
    secondary="#00ffff",
    accent="#ffff00",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#1a1a1a",
    success="#00ff00",
    warning="#ffff00",
    error="#ff4040",
    dark=True,
)

_SOURCE_KEY = "atlas-theme"


def register(app: App[Any]) -> None:
    app.register_theme(HIGH_CONTRAST)


def apply_theme(app: App[Any], name: str) -> None:
    """Make `name` (a file under themes/) the app's theme."""
    path = themes.theme_file(name)
    stylesheet = app.stylesheet
    for key in [k for k in stylesheet.source if k[1] == _SOURCE_KEY]:
        del stylesheet.source[key]
    stylesheet.add_source(
        path.read_text(encoding="utf-8"), read_from=(str(path), _SOURCE_KEY), is_default_css=False
    )
    base = themes.textual_theme(name)
    if app.theme != base:
        app.theme = base  # restyles the app (and our source with it)
    else:
        app.refresh_css(animate=False)


def next_theme(current: str) -> str:
    names = themes.available()
    return names[(names.index(current) + 1) % len(names)] if current in names else names[0]
