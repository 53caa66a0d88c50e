"""Take the program out of a raw model answer.

Two rules live here:

- `extract_code`, the solver's: it picks the block that is a program for this problem. Small
  instruct models end answers with example usage (`print(f(3))`, `assert f(1) == 2`,
  `check_solution()`) or sample output in a plain fence, and whatever runs when the program
  loads breaks it. So among the answer's Python blocks (tagged python/py/python3 or untagged)
  the last one that compiles and is a program for the problem wins: for a function problem
  it defines the entry point (or `class Solution`); for a stdin problem it reads the input
  (`input()`, `sys.stdin`, `open(0)`, ...); a block with nothing but calls, prints, asserts or
  bare values is example code or output, never the program. A function problem's program is
  then sanitized as EvalPlus does: imports, and the definitions and top-level assignments the
  entry point depends on, are kept; example calls, prints, asserts and `__main__` blocks are
  dropped. A stdin program is kept whole (its main guard is how it runs). Names the chosen
  block uses but an earlier block defines (a helper written first, the main code after) are
  brought along.
- `extract_lcb`, LiveCodeBench's rule as `atlas-tui grade --solutions` applies it, unchanged:
  the last Python block (with `func_name`, the last one defining it); graders must not second-
  guess a submission.

Both remove thinking (`<think>...</think>`) first. A fence left open at the end (a truncated
answer) still yields its block. An answer with no fence is taken whole when it compiles; the
solver's rule otherwise takes its longest run of lines that compiles and holds a program.
"""

from __future__ import annotations

import ast
import builtins
import re

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+#.-]*)")
_PYTHON_TAGS = {"", "python", "py", "python3", "py3"}
_READS_INPUT = re.compile(
    r"\binput\s*\(|\bsys\.stdin\b|\bstdin\.|\bopen\s*\(\s*0\b|\bfileinput\b|"
    r"from\s+sys\s+import\s+[^\n]*\bstdin\b"
)
_MAX_UNFENCED_LINES = 300  # the longest-span search is quadratic in lines
_BUILTINS = frozenset(dir(builtins))


def extract_code(text: str, *, func_name: str | None = None, stdin: bool = False) -> str | None:
    """The program in `text` for a problem that calls `func_name` (or reads stdin), or None
    when there is none."""
    answer = strip_thinking(text)
    blocks = _python_blocks(answer)
    if not blocks:
        span = _longest_program_span(answer)
        if span is None:
            return None
        blocks = [span]
    name = _bare_name(func_name)
    trees = [_parse(code) for code in blocks]
    chosen = _choose(blocks, trees, name, stdin)
    if chosen is None:
        # No program. A last block that does not compile is still submitted, so that the
        # verdict (CE) says what went wrong; example code or output alone is nothing.
        return blocks[-1] if trees[-1] is None else None
    code = _with_earlier_definitions(blocks, trees, chosen)
    if name and not stdin:
        code = sanitize(code, name)
    return code


def _choose(blocks: list[str], trees: list[ast.Module | None], name: str, stdin: bool
            ) -> int | None:
    """The index of the program among the blocks (the last that fits best), or None."""
    last_first = [(i, tree) for i, tree in reversed(list(enumerate(trees))) if tree is not None]
    for i, tree in last_first:  # a program for this problem
        # A stdin program may be split: `def main(): ...input()...` first, then a block that
        # only starts it (`threading.Thread(target=main).start()`); together they read input.
        # Without an entry point, a program that reads input is the one to run.
        fits = (_reads_input(_with_earlier_definitions(blocks, trees, i)) if stdin or not name
                else _defines(tree, name))
        if fits:
            return i
    for i, tree in last_first:  # a program, though not for this entry point (or input)
        if not _is_example(tree, blocks[i]):
            return i
    if stdin:  # a program that reads nothing and prints (a fixed answer), not bare output
        for i, tree in last_first:
            if any(isinstance(n, ast.Call) for n in ast.walk(tree)):
                return i
    return None


def extract_lcb(text: str, *, func_name: str | None = None) -> str | None:
    """LiveCodeBench's rule, a little sturdier: the last Python block; with `func_name`, the
    last one that defines it (or a `Solution` class). For grading submitted answers."""
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


def sanitize(code: str, entry_point: str) -> str:
    """`code` reduced to what calling `entry_point` needs (EvalPlus's sanitizer): every import,
    and the top-level definitions and assignments reachable from the entry point (or from
    `class Solution`); everything else at top level (example calls, prints, asserts, `if
    __name__ == "__main__":`) is dropped. Unlike EvalPlus, a top-level loop or `try` that fills
    in a name the entry point uses (a precomputed table, a guarded import) is kept. Code that
    does not parse is returned unchanged."""
    tree = _parse(code)
    if tree is None:
        return code
    definitions: dict[str, list[ast.stmt]] = {}
    for node in tree.body:
        for defined in _defined_names(node) or _set_up_names(node, entry_point):
            definitions.setdefault(defined, []).append(node)
    roots = [n for n in (entry_point, "Solution") if n in definitions]
    if not roots:  # the entry point is not here: keep every definition, drop the examples
        roots = [node.name for node in tree.body
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    keep: set[int] = set()
    pending = list(roots)
    seen: set[str] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for node in definitions.get(current, []):
            if id(node) not in keep:
                keep.add(id(node))
                pending.extend(_used_names(node))
    modules = {n for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
               for n in _defined_names(node)}
    lines = code.splitlines()
    kept: list[str] = []
    previous_end: int | None = None  # last line of the previous statement, when it was kept
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in keep or (
            _is_module_setup(node, modules, entry_point)
        ):
            # Next to a kept statement the lines between (blank lines, comments) stay as
            # written, so an answer with nothing to drop comes back unchanged.
            start = previous_end + 1 if previous_end is not None else _first_line(node)
            text = "\n".join(lines[start - 1 : node.end_lineno])
            if previous_end is not None and kept:
                kept[-1] += "\n" + text
            else:
                kept.append(text)
            previous_end = node.end_lineno
        else:
            previous_end = None
    return "\n\n".join(kept).strip("\n") + "\n" if kept else code


def _set_up_names(node: ast.stmt, entry_point: str) -> list[str]:
    """Names a top-level loop, `with`, `try` or conditional binds, when it is set-up rather
    than an example: it neither calls the entry point nor prints nor asserts."""
    if not isinstance(node, (ast.For, ast.While, ast.If, ast.With, ast.Try)) or _is_main_guard(
            node):
        return []
    used = _used_names(node)
    if entry_point in used or "Solution" in used or "print" in used or any(
            isinstance(n, ast.Assert) for n in ast.walk(node)):
        return []
    return sorted(_all_defined(node) | _mutated_names(node))


def _mutated_names(node: ast.AST) -> set[str]:
    """Names whose items or attributes are assigned (`table[i] = ...`) or whose methods are
    called (`table.append(...)`) inside `node`."""
    names: set[str] = set()
    for inner in ast.walk(node):
        target = None
        if isinstance(inner, (ast.Subscript, ast.Attribute)) and isinstance(inner.ctx, ast.Store):
            target = inner.value
        elif isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
            target = inner.func.value
        while isinstance(target, (ast.Subscript, ast.Attribute)):
            target = target.value
        if isinstance(target, ast.Name):
            names.add(target.id)
    return names


def _is_module_setup(node: ast.stmt, modules: set[str], entry_point: str) -> bool:
    """A top-level call on an imported module that does not involve the entry point, such as
    `sys.setrecursionlimit(10**6)`: set-up the program needs, not an example."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    func = node.value.func
    return (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            and func.value.id in modules and entry_point not in _used_names(node)
            and "Solution" not in _used_names(node))


def strip_thinking(text: str) -> str:
    """The answer without its thinking: closed blocks removed; text before a lone `</think>`
    (the chat template opened it) dropped; an unclosed `<think>` and all after it dropped."""
    text = _THINK.sub("", text)
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    if "<think>" in text:
        text = text.split("<think>", 1)[0]
    return text


def _python_blocks(text: str) -> list[str]:
    return [code for tag, code in _fenced_blocks(text) if tag.lower() in _PYTHON_TAGS]


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


def _longest_program_span(text: str) -> str | None:
    """The whole text when it compiles; else its longest run of lines that compiles and is
    not mere example code (prose around unfenced code)."""
    stripped = text.strip()
    if not stripped:
        return None
    if _compiles(stripped):
        tree = _parse(stripped)
        return stripped + "\n" if tree is not None and not _is_example(tree, stripped) else None
    lines = stripped.splitlines()[:_MAX_UNFENCED_LINES]
    best: str | None = None
    for start in range(len(lines)):
        if best is not None and len(lines) - start <= best.count("\n"):
            break
        for end in range(len(lines), start, -1):
            if best is not None and end - start <= best.count("\n"):
                break
            code = "\n".join(lines[start:end]).strip("\n")
            tree = _parse(code)
            if tree is not None and code.strip() and not _is_example(tree, code):
                best = code + "\n"
                break
    return best


def _with_earlier_definitions(blocks: list[str], trees: list[ast.Module | None],
                              chosen: int) -> str:
    """The chosen block, preceded by the imports and definitions from earlier blocks that it
    needs (names it uses but does not bind itself, and what those in turn use)."""
    tree = trees[chosen]
    assert tree is not None
    bound = _all_defined(tree) | _BUILTINS
    # Where each name is defined in an earlier block: the latest definition wins.
    earlier: dict[str, tuple[int, int, ast.stmt]] = {}
    for index in range(chosen):
        block_tree = trees[index]
        for order, node in enumerate(block_tree.body if block_tree is not None else []):
            for defined in _defined_names(node):
                earlier[defined] = (index, order, node)
    brought: dict[tuple[int, int], ast.stmt] = {}
    pending = sorted(_used_names(tree) - bound)
    while pending:
        name = pending.pop()
        if name not in earlier or earlier[name][:2] in brought:
            continue
        index, order, node = earlier[name]
        brought[(index, order)] = node
        pending.extend(sorted(_used_names(node) - bound))
    if not brought:
        return blocks[chosen]
    parts = []
    for (index, _), node in sorted(brought.items(), key=lambda item: item[0]):
        lines = blocks[index].splitlines()
        parts.append("\n".join(lines[_first_line(node) - 1 : node.end_lineno]))
    return "\n\n".join(parts) + "\n\n" + blocks[chosen]


def _defines(tree: ast.Module, name: str) -> bool:
    """The block defines `name` at top level (function, class, assignment), or a `Solution`
    class with such a method."""
    for node in tree.body:
        if name in _defined_names(node) and not isinstance(node, (ast.Import, ast.ImportFrom)):
            return True
        if isinstance(node, ast.ClassDef) and node.name == "Solution" and any(
            isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name
            for n in node.body
        ):
            return True
    return False


def _is_example(tree: ast.Module, code: str) -> bool:
    """Example code or output: defines nothing (no function or class) and reads no input;
    only calls, prints, asserts, assignments and bare values."""
    if _reads_input(code):
        return False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return False
        # Loops and conditionals at top level make a script, which may compute an answer.
        if not isinstance(node, (ast.Expr, ast.Assert, ast.Assign, ast.AnnAssign, ast.Import,
                                 ast.ImportFrom, ast.Pass)) and not _is_main_guard(node):
            return False
    return True


def _is_main_guard(node: ast.stmt) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__")


def _reads_input(code: str) -> bool:
    return _READS_INPUT.search(code) is not None


def _defined_names(node: ast.stmt) -> list[str]:
    """Names a top-level statement binds (definitions, assignments, imports)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    return []


def _all_defined(tree: ast.AST) -> set[str]:
    """Every name bound anywhere in the tree (so a local is not taken for a missing global)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _used_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


def _parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def _compiles(code: str) -> bool:
    try:
        compile(code, "<answer>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def _bare_name(func_name: str | None) -> str:
    """`Solution().f` (LeetCodeDataset's entry point) -> `f`."""
    return (func_name or "").rsplit(".", 1)[-1].strip()
