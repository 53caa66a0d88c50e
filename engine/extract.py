"""Take the program out of a raw model answer, the way LiveCodeBench does, a little sturdier.

LiveCodeBench keeps the text between the last two fence lines of the answer. Here: thinking
(`<think>...</think>`) is removed first; fenced blocks are then collected and the last Python
block wins (tagged python/py/python3 or untagged; a trailing ```text sample-output block no
longer hides the program); with `func_name`, the last such block that defines that function
(or a `Solution` class) wins. A fence left open at the end (a truncated answer) still yields its
block. An answer with no fence at all is taken whole when it compiles as Python.
"""

from __future__ import annotations

import re

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+#.-]*)")
_PYTHON_TAGS = {"", "python", "py", "python3", "py3"}


def extract_code(text: str, *, func_name: str | None = None) -> str | None:
    """The program in `text`, or None when there is none to grade."""
    answer = strip_thinking(text)
    blocks = _fenced_blocks(answer)
    if not blocks:
        stripped = answer.strip()
        return stripped + "\n" if stripped and _compiles(stripped) else None
    python = [code for tag, code in blocks if tag.lower() in _PYTHON_TAGS]
    if not python:
        return None
    if func_name:
        defines = re.compile(rf"^\s*(def\s+{re.escape(func_name)}\s*\(|class\s+Solution\b)",
                             re.MULTILINE)
        for code in reversed(python):
            if defines.search(code):
                return code
    return python[-1]


def strip_thinking(text: str) -> str:
    """The answer without its thinking: closed blocks removed; text before a lone `</think>`
    (the chat template opened it) dropped; an unclosed `<think>` and all after it dropped."""
    text = _THINK.sub("", text)
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    if "<think>" in text:
        text = text.split("<think>", 1)[0]
    return text


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(info tag, code) for every fenced block, in order."""
    blocks: list[tuple[str, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, tag = match.groups()
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence[0] * len(fence)):
            body.append(lines[i])
            i += 1
        i += 1  # past the closing fence (or the end, for an unclosed one)
        code = "\n".join(body).strip("\n")
        if code.strip():
            blocks.append((tag, code + "\n"))
    return blocks


def _compiles(code: str) -> bool:
    try:
        compile(code, "<answer>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True
