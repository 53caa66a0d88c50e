"""Layering rules that keep the engine usable without the UI and the solver honest."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


def test_engine_never_imports_textual_or_the_ui() -> None:
    assert _offenders("engine", ("textual", "widgets", "atlas_tui")) == []


def test_pipeline_never_imports_the_grader() -> None:
    assert _offenders("engine/pipeline", ("engine.grading",)) == []


def test_import_linter_contracts_hold() -> None:
    """The same rules, transitively, through import-linter's contracts in pyproject.toml."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
