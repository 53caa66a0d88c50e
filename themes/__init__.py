"""Textual CSS themes shipped with atlas-tui: one `.tcss` file per theme, plus the layout.

A theme file's first line names the Textual colour theme its variables come from, as
`/* textual-theme: NAME */`, so built-in widgets (footer, tables) match the panes.
"""

from __future__ import annotations

import re
from pathlib import Path

THEMES_DIR = Path(__file__).resolve().parent
LAYOUT = THEMES_DIR / "layout.tcss"
_BASE = re.compile(r"/\*\s*textual-theme:\s*([\w-]+)\s*\*/")


def available() -> list[str]:
    return sorted(p.stem for p in THEMES_DIR.glob("*.tcss") if p != LAYOUT)


def theme_file(name: str) -> Path:
    path = THEMES_DIR / f"{name}.tcss"
    if path == LAYOUT or not path.is_file():
        raise ValueError(f"no theme {name!r}; choose one of {', '.join(available())}")
    return path


def textual_theme(name: str) -> str:
    """The Textual colour theme a theme file builds on."""
    match = _BASE.search(theme_file(name).read_text(encoding="utf-8"))
    return match.group(1) if match else "textual-dark"
