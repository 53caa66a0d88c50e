"""Text from models and programs, made safe to draw."""

from __future__ import annotations

import unicodedata


def printable(text: str) -> str:
    """Model output may hold control characters (a random or broken model emits anything):
    tabs become spaces, other controls a visible replacement, so the layout never breaks."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char == "\n" or char.isprintable():
            out.append(char)
        elif char == "\t":
            out.append("    ")
        elif unicodedata.category(char) in ("Zs", "Mn", "Mc", "Me"):
            out.append(char)
        else:
            out.append("\ufffd")
    return "".join(out)
