"""Reading tests out of model text, and telling whether two program outputs are the same.

Small models do not keep to one shape. Tests are read from every shape the default model
writes (see tests/fixtures/real_answers): fenced blocks tagged `input` / `output`; sections
labelled `Input:` / `Output:` / `Expected output:` (bold or as headings, the value inline,
in a fence, or on the lines below); plain fences in input/output pairs under numbered or
Markdown headings (`### Test 1`, `1.`, `**Test case 1**`); for function problems, calls
with their values (`f(1, 2) == 3`, `assert f(1, 2) == 3`, `print(f(1, 2))  # 3`), with the
arguments turned into the functional format (one JSON value per line).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from engine.pipeline.statement_examples import (
    Signature,
    bracket_end,
    call_examples,
    functional_test,
    json_safe,
    literal_args,
    literal_calls,
    named_args,
)
from engine.problems.model import TestKind
from engine.sandbox.compare import outputs_match

_CORRECT = re.compile(r"CORRECT\s*:\s*\**\s*(?:output\s*)?#?\s*(\d+|none)", re.IGNORECASE)
_CORRECT_VALUE = re.compile(r"^[ \t*]*CORRECT\s*:\s*(.+?)[ \t*]*$", re.IGNORECASE | re.MULTILINE)
# How the model names its choice when it forgets the `CORRECT: n` line.
_CHOICE = (
    # "Output 2 is correct", "Output 2 (from 1 program(s)) is the correct one"
    re.compile(r"\boutput\s*#?\s*(\d+)\s*\**\s*(?:\((?:[^()]|\([^()]*\))*\)\s*)?"
               r"is\s+(?:the\s+|also\s+)?(?:correct|right|expected)\b", re.IGNORECASE),
    re.compile(r"\b(?:correct|right|expected)\s+(?:output|answer|one)\s+is\s*:?\s*\**\s*"
               r"(?:output\s*)?#?\s*(\d+)\b", re.IGNORECASE),
    re.compile(r"\b(?:choose|select|pick)\s+\**\s*output\s*#?\s*(\d+)", re.IGNORECASE),
)
_NONE_CORRECT = re.compile(
    r"\bnone\s+of\s+(?:the\s+|them|these)(?:\s*(?:outputs|programs|answers))?\s+(?:is|are)\s+"
    r"correct", re.IGNORECASE)


def input_blocks(text: str, *, func_name: str | None = None,
                 signature: Signature | None = None) -> list[str]:
    """The test inputs a model's answer proposes, in order, in every shape it writes them
    (see `proposed_tests`); with `func_name`, calls of it (`f(1, 2)`) too, as JSON lines.
    `signature` (`statement_examples.signature(starter_code, func_name)`) places named
    arguments, reads strings written for other types, and splits a block holding several
    inputs (one value per line for a one-parameter function)."""
    found: list[str | None] = []  # None: a call whose arguments are not JSON
    for section in proposed_tests(text):
        found += _inputs(section.input, signature) if func_name else [section.input]
    found += [test_input for test_input, _ in _dict_tests(text, func_name, signature)]
    if func_name:
        found += [_call_input(list(args), signature) for args in literal_calls(text, func_name)]
    return _unique([f for f in found if f is not None and f.strip()])


def io_pairs(text: str, *, func_name: str | None = None, signature: Signature | None = None
             ) -> list[tuple[str, str]]:
    """(input, expected output) for every test the answer writes with its output: labelled or
    tagged input/output sections and fences; with `func_name`, also calls with their values
    (`f(1, 2) == 3`, `assert f(1, 2) == 3`, `print(f(1, 2))  # 3`, `>>> f(1, 2)` then `3`)
    with the arguments as JSON lines and the value as JSON; and objects such as
    `{"input": ..., "output": ...}` in fences or code. `signature` as for `input_blocks`."""
    pairs: list[tuple[str, str]] = []
    for section in proposed_tests(text):
        if section.output is None:
            continue
        inputs = _inputs(section.input, signature) if func_name else [section.input]
        if len(inputs) == 1:  # an output belongs to one input
            pairs.append((inputs[0], section.output))
    pairs += [(i, o) for i, o in _dict_tests(text, func_name, signature) if o is not None]
    if func_name:
        names = list(signature.names) if signature else None
        for example in call_examples(text, func_name, names):
            test = functional_test(example)
            if test is not None:
                pairs.append((_call_input(list(example.args), signature) or test.input,
                              test.expected))
    seen: set[tuple[str, str]] = set()
    unique = []
    for pair in pairs:
        key = (input_key(pair[0]), pair[1].strip())
        if key not in seen:
            seen.add(key)
            unique.append(pair)
    return unique


def _inputs(text: str, signature: Signature | None) -> list[str]:
    """A written functional input as JSON lines, given the signature: by name (`b = 2, a = 1`),
    strings read as the values they spell where the parameter is no string, a block of
    several inputs split (one per line for one parameter), a trailing value beyond the
    parameters (the expected output written along) dropped. Without a signature, or when it
    cannot be read, the text unchanged (`clean_input` converts what it can)."""
    if signature is None or not signature.names:
        return [text]
    body = _LABEL_LINE.sub("", text.strip().strip("`"), count=1).strip()
    n = len(signature.names)
    named = named_args(body, list(signature.names))
    if named is not None:
        groups = [named]
    else:
        values = _line_values(body)
        if values is None:
            return [text]
        if len(values) == n:
            groups = [values]
        elif len(values) % n == 0:
            groups = [values[i : i + n] for i in range(0, len(values), n)]
        elif len(values) > n:
            groups = [values[:n]]
        else:
            return [text]
    converted = [_json_lines(signature.coerce(group)) for group in groups]
    return [c for c in converted if c is not None] or [text]


_LABEL_LINE = re.compile(r"^\s*(?:input|arguments|args)\s*:?\s*\n", re.IGNORECASE)


def _line_values(body: str) -> list[object] | None:
    """One value per line (JSON or a Python literal, a bare tuple being several); a last line
    cut off by the token limit is dropped."""
    lines = [line for line in body.splitlines() if line.strip()]
    values: list[object] = []
    for number, line in enumerate(lines):
        parsed = literal_args(line)
        if parsed is None:
            if number == len(lines) - 1 and number > 0:
                break
            return None
        values += parsed
    return values


def _call_input(args: list[object], signature: Signature | None) -> str | None:
    return _json_lines(signature.coerce(args) if signature else args)


def chosen_output(text: str, outputs: Sequence[str] = (), *, test_input: str | None = None,
                  func_name: str | None = None, signature: Signature | None = None
                  ) -> int | None:
    """The 1-based output the model names as correct: its last `CORRECT: <n>` line, else the
    last "Output 2 is correct" / "The correct output is Output 1" / "choose Output 2"; None for
    `CORRECT: none`, "none of them is correct", or no choice at all. Given the `outputs` it
    was shown, `CORRECT: <an output itself>` (`CORRECT: true`, or `CORRECT: 55` when there
    is no output 55) names that output; given also the `test_input` it was shown (with
    `func_name` and `signature` for a function problem), an answer that instead writes a test
    for that input (`assert f(10) == 40`, as small models do) names the output it expects."""
    choice = _named_choice(text, outputs)
    if choice is None and test_input is not None and outputs and not _NONE_CORRECT.search(text):
        choice = _choice_by_test(text, outputs, test_input, func_name, signature)
    return choice


def _choice_by_test(text: str, outputs: Sequence[str], test_input: str, func_name: str | None,
                    signature: Signature | None) -> int | None:
    kind = TestKind.FUNCTIONAL if func_name else TestKind.STDIN
    wanted = _input_value(kind, test_input)
    expected = {canonical(kind, cleaned)
                for given, written in io_pairs(text, func_name=func_name, signature=signature)
                if _input_value(kind, given) == wanted
                and (cleaned := clean_expected(kind, written)) is not None}
    if len(expected) != 1:  # no test for this input, or tests that disagree
        return None
    matching = [i for i, shown in enumerate(outputs, 1) if canonical(kind, shown) in expected]
    return matching[0] if len(matching) == 1 else None


def _input_value(kind: TestKind, text: str) -> str | None:
    cleaned = clean_input(kind, text)
    if cleaned is None or kind is TestKind.STDIN:
        return None if cleaned is None else input_key(cleaned)
    return json.dumps([json.loads(line) for line in cleaned.splitlines()], sort_keys=True)


def _named_choice(text: str, outputs: Sequence[str]) -> int | None:
    found = _CORRECT.findall(text)
    written = _CORRECT_VALUE.findall(text)
    if found and (found[-1].lower() == "none" or not outputs
                  or 1 <= int(found[-1]) <= len(outputs)):
        return None if found[-1].lower() == "none" else int(found[-1])
    if written and outputs:  # `CORRECT: 55` with two outputs shown: the value, not a number
        value = _plain(written[-1])
        matching = [i for i, shown in enumerate(outputs, 1) if _plain(shown) == value]
        return matching[0] if len(matching) == 1 else None
    if found:
        return None
    last: tuple[int, int] | None = None  # (position, number)
    for pattern in _CHOICE:
        for match in pattern.finditer(text):
            if last is None or match.start() > last[0]:
                last = (match.start(), int(match.group(1)))
    none = [m.start() for m in _NONE_CORRECT.finditer(text)]
    if last is None or (none and none[-1] > last[0]):
        return None
    return last[1]


def _plain(text: str) -> str:
    """An output as written in prose: JSON in one spacing; otherwise without Markdown,
    quotes or surrounding space."""
    text = text.strip().strip("`*").strip()
    try:
        return json.dumps(json.loads(text), sort_keys=True).strip('"').lower()
    except ValueError:
        return " ".join(text.strip("'\"").split()).lower()


def canonical(kind: TestKind, output: str) -> str:
    """A key under which outputs that compare equal are (nearly always) equal strings."""
    if kind is TestKind.FUNCTIONAL:
        try:
            return json.dumps(json.loads(output), sort_keys=True)
        except ValueError:
            return output.strip()
    return "\n".join(line.rstrip() for line in output.strip().splitlines())


def same_output(kind: TestKind, expected: str, got: str, atol: float | None = None) -> bool:
    if kind is TestKind.FUNCTIONAL:
        return canonical(kind, expected) == canonical(kind, got)
    return outputs_match(expected, got, atol)


def clean_input(kind: TestKind, text: str) -> str | None:
    """A model-written input as the sandbox takes it, or None when it is malformed: functional
    inputs become one JSON value per line (Python literals, `a = 1, b = 2` and calls
    `f(1, 2)` are converted); stdin inputs end with one newline."""
    if kind is TestKind.FUNCTIONAL:
        lines = [line for line in text.strip().splitlines() if line.strip()]
        if lines and all(_is_json(line) for line in lines):
            return "\n".join(lines)
        args = literal_args(text)
        return _json_lines(args) if args else None
    return text.rstrip("\n") + "\n" if text.strip() else None


def clean_expected(kind: TestKind, text: str) -> str | None:
    """A model-written expected output, or None when a functional one is not a value (Python
    literals are converted to JSON)."""
    if kind is TestKind.FUNCTIONAL:
        value = text.strip().strip("`").strip()
        if _is_json(value):
            return _unwrapped(value)
        try:
            literal = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
        return _json_lines([literal])
    return text


_WRAPPER_KEYS = {"result", "output", "answer", "return", "returns", "value", "expected"}


def _unwrapped(value: str) -> str:
    """`{"result": 55}` is how small models write "the JSON of the value 55"."""
    parsed = json.loads(value)
    if isinstance(parsed, dict) and len(parsed) == 1:
        (key, inner), = parsed.items()
        if key.lower() in _WRAPPER_KEYS:
            return json.dumps(inner)
    return value


def _json_lines(values: list[object]) -> str | None:
    """One JSON value per line, or None when a value does not survive JSON."""
    if not all(json_safe(v) for v in values):
        return None
    return "\n".join(json.dumps(v) for v in values)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def input_key(text: str) -> str:
    """Inputs that differ only in trailing spaces or blank lines are the same input."""
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


# --- test sections --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Section:
    """One test as the answer writes it: its input, and its expected output if it gives one."""

    input: str
    output: str | None


_FENCE_OPEN = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+#.-]*)")
_BOLD = r"(?:\*\*|__)?"
_LABEL = re.compile(
    rf"^\s*(?:#{{1,6}}\s*)?(?:[-*+]\s+|\d+[.)]\s+)?{_BOLD}\s*"
    r"(?:(?:test|example|sample)(?:\s*case)?\s*#?\s*\d*\s*[:.)-]?\s*)?"
    r"(?P<prose>(?:(?:for|and|with)\s+)?(?:the|this|its|an?)\s+)?"
    r"(?:sample\s+|example\s+|test\s+)?"
    r"(?P<role>input|expected\s+output|expected\s+result|expected|output|result)s?"
    r"(?:\s*#?\d+)?(?P<verb>\s+(?:(?:will|would|should)\s+be|is|are))?"
    rf"\s*{_BOLD}\s*(?P<colon>:)?\s*{_BOLD}\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_HEADING = re.compile(
    r"^\s*(?:#{1,6}\s+\S.*|(?:\*\*|__)[^*_].*(?:\*\*|__):?|\d+[.)](?:\s+\S.*)?"
    r"|(?:test|example)(?:\s*case)?\s*#?\s*\d+\s*[:.]?.*)\s*$",
    re.IGNORECASE,
)
_DATA_TAGS = {"", "text", "plaintext", "txt", "json", "stdin", "stdout", "console", "none"}


def proposed_tests(text: str) -> list[Section]:
    """Every test the answer writes, in order (an output with no input before it is dropped)."""
    items = _items(text)
    pairs_at = _plain_pairs(items)
    sections: list[Section] = []
    pending: str | None = None
    i = 0
    while i < len(items):
        kind, role, body = items[i]
        i += 1
        if kind == "heading":
            continue
        if kind in ("label", "bare label"):
            if not body:  # the value follows: a fence, or data lines
                while i < len(items) and items[i][0] == "blank":
                    i += 1
                if i < len(items) and items[i][0] == "fence" and items[i][1] in _DATA_TAGS | {
                        "input", "output"}:
                    body = items[i][2]
                    i += 1
                else:
                    body, i = _data_lines(items, i, spaced=kind == "label")
        elif kind == "fence" and _holds_test_objects(body):
            continue  # {"input": ..., "output": ...}: read by _dict_tests
        elif kind == "fence" and role in ("input", "output"):
            pass
        elif _is_data_fence(kind, role, body):
            role = "output" if i - 1 in pairs_at and pending is not None else "input"
        else:
            continue
        body = _strip_inline(body)
        if body.strip() in ("", "...", "…"):  # empty, or the prompt's own placeholder
            continue
        if role == "input":
            if pending is not None:
                sections.append(Section(pending, None))
            pending = body
        elif pending is not None:
            sections.append(Section(pending, body))
            pending = None
    if pending is not None:
        sections.append(Section(pending, None))
    return sections


def _is_data_fence(kind: str, tag: str, body: str) -> bool:
    """An untagged (or text) fence holding data, not code or prose."""
    return (kind == "fence" and tag in _DATA_TAGS and not _holds_test_objects(body)
            and not _looks_like_code(body) and not _looks_like_prose(body))


def _plain_pairs(items: list[tuple[str, str, str]]) -> set[int]:
    """The data fences that are expected outputs: the second of exactly two data fences under
    a heading (`### Test 1`, then the input's fence and the output's). Anywhere else each
    data fence is an input."""
    outputs: set[int] = set()
    section: list[int] = []
    headed = False
    for index, (kind, tag, body) in [*enumerate(items), (len(items), ("heading", "", ""))]:
        if kind == "heading":
            if headed and len(section) == 2:
                outputs.add(section[1])
            section, headed = [], True
        elif _is_data_fence(kind, tag, body):
            section.append(index)
    return outputs


def _items(text: str) -> list[tuple[str, str, str]]:
    """The answer as (kind, role or tag, body): fences, labels (with a colon or bare),
    headings, text and blank lines."""
    items: list[tuple[str, str, str]] = []
    # Codeforces statements (and models copying them) glue "Sample Input 1:" to the sentence
    # before it.
    lines = _GLUED_LABEL.sub(r"\1\n\2", text).splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE_OPEN.match(line)
        if fence:
            mark, tag = fence.groups()
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(mark[0] * len(mark)):
                body.append(lines[i])
                i += 1
            i += 1
            items.append(("fence", tag.lower(), "\n".join(body).strip("\n") + "\n"))
            continue
        i += 1
        label = _LABEL.match(line)
        # "The output will be:" is a label; "The output" alone is prose.
        plain = not (label and (label.group("prose") or label.group("verb")))
        if label and (label.group("colon") or (plain and not label.group("rest").strip(" *_:"))):
            role = "input" if label.group("role").lower() == "input" else "output"
            kind = "label" if label.group("colon") else "bare label"
            items.append((kind, role, label.group("rest").strip()))
        elif _HEADING.match(line):
            items.append(("heading", "", line))
        elif line.strip():
            items.append(("text", "", line.strip()))
        else:
            items.append(("blank", "", ""))
    return items


def _strip_inline(body: str) -> str:
    """An inline value without the Markdown around it (`3 4`, **3**)."""
    if "\n" in body.strip():
        return body
    stripped = body.strip().strip("*_").strip()
    if stripped.startswith("`") and stripped.endswith("`"):
        stripped = stripped.strip("`").strip()
    return stripped + "\n" if stripped else ""


def _looks_like_code(body: str) -> bool:
    """A fence holding a program (definitions, imports, loops, calls to print or input), not
    test data such as `3\n1 2 3` or `[1, 2]`."""
    try:
        tree = ast.parse(body)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.For,
                             ast.While, ast.If)):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
                "print", "input"):
            return True
    return False


_INPUT_KEYS = ("input", "inputs", "args", "arguments", "stdin")
_OUTPUT_KEYS = ("output", "expected", "expected_output", "expectedoutput", "result", "stdout")


def _dict_tests(text: str, func_name: str | None, signature: Signature | None
                ) -> list[tuple[str, str | None]]:
    """Tests written as objects, `{"input": "cat", "output": "catac"}`, alone or in a list,
    in JSON fences or as literals in code: (input, output or None), in the functional format
    when there is a function to call, else as stdin text."""
    found: list[tuple[str, str | None]] = []
    for node in _dict_nodes(text):
        keys = {k.lower().replace(" ", "_"): v for k, v in node.items() if isinstance(k, str)}
        given = next((keys[k] for k in _INPUT_KEYS if k in keys), _MISSING)
        if given is _MISSING and func_name and signature and signature.names and all(
                name.lower() in keys for name in signature.names):
            given = {name: keys[name.lower()] for name in signature.names}  # {"n": 10, ...}
        if given is _MISSING:
            continue
        expected = next((keys[k] for k in _OUTPUT_KEYS if k in keys), _MISSING)
        if func_name:
            args = _arguments(given, signature)
            test_input = None if args is None else _call_input(args, signature)
            output = None if expected is _MISSING else _json_lines([expected])
        else:
            test_input = given if isinstance(given, str) else None
            output = expected if isinstance(expected, str) else None
            if expected is not _MISSING and isinstance(expected, (int, float)):
                output = str(expected)
        if test_input is not None and test_input.strip():
            found.append((test_input, output))
    return found


_MISSING = object()


def _arguments(given: object, signature: Signature | None) -> list[object] | None:
    """A test object's input as call arguments: by name from a dict, spread from a list that
    has one value per parameter, else the one argument."""
    names = list(signature.names) if signature else []
    if isinstance(given, dict):
        if names and set(given) == set(names):
            return [given[p] for p in names]
        return list(given.values()) if not names else None
    if len(names) > 1:
        if isinstance(given, (list, tuple)) and len(given) == len(names):
            return list(given)
        return None
    return [given]


def _dict_nodes(text: str) -> list[dict[object, object]]:
    """Object literals in the answer's fences: JSON, Python dicts, and the JavaScript-style
    `{input: '3', output: 5}` small models also write. Each `{...}` is read on its own, so a
    fence cut off by the token limit still gives the objects before the cut."""
    found: list[dict[object, object]] = []
    for _, body in _fences(text):
        for start in (i for i, char in enumerate(body) if char == "{"):
            end = bracket_end(body, start)
            if end is None:
                continue
            value = _object(body[start:end])
            if value is not None:
                found.append(value)
    return found


def _object(text: str) -> dict[object, object] | None:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, dict):
        return value
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    if not isinstance(node, ast.Dict):
        return None
    value = {}
    for key, item in zip(node.keys, node.values, strict=True):
        name = key.id if isinstance(key, ast.Name) else getattr(key, "value", None)
        if not isinstance(name, str):
            continue
        try:
            value[name] = ast.literal_eval(item)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
    return value


def _fences(text: str) -> list[tuple[str, str]]:
    return [(tag, body) for kind, tag, body in _items(text) if kind == "fence"]


_OBJECT_KEY = re.compile(r"""["']?(?:input|output|expected|args)["']?\s*:""", re.IGNORECASE)


def _data_lines(items: list[tuple[str, str, str]], i: int, *, spaced: bool
                ) -> tuple[str, int]:
    """The data lines that follow a label, from item `i`: up to a blank line, a label, a
    heading, a fence or prose. After a label with a colon, single lines spaced one blank line
    apart (`6`, blank, `abc`, blank, ... as Codeforces statements write them) are one value;
    the blank lines are dropped. Returns the value and the next item."""
    lines: list[str] = []
    segment = 0  # lines since the last blank line
    single = True  # every run of lines so far was one line long
    while i < len(items) and items[i][0] in ("text", "blank"):
        kind, _, line = items[i]
        if kind == "text":
            if _is_sentence(line) or _NOTE.match(line):
                break
            lines.append(line)
            segment += 1
        elif lines:
            single = single and segment == 1
            if not (spaced and single):
                break
            segment = 0
        i += 1
    return ("\n".join(lines) + "\n" if lines else ""), i


_GLUED_LABEL = re.compile(r"([.)$])[ \t]*((?:Sample|Example)\s+(?:Input|Output)\s*\d*:)")
_NOTE = re.compile(r"^\W*(?:note|explanation|notes|hint)\b", re.IGNORECASE)


def _is_sentence(line: str) -> bool:
    """Prose, not data: three words or more, ending like a sentence ("Print the answer.")."""
    words = [w for w in line.split() if w.strip(",.;:!?()").isalpha()]
    return len(words) >= 3 and line.rstrip().endswith((".", ":", "!", "?"))


def _holds_test_objects(body: str) -> bool:
    """A fence of test objects such as `{"input": "cat", "output": "catac"}`."""
    return body.lstrip().startswith(("{", "[")) and _OBJECT_KEY.search(body) is not None


def _looks_like_prose(body: str) -> bool:
    """A plain fence holding words about tests rather than a test (a model that echoes the
    prompt): a label line, Markdown backticks, or a sentence that ends in a colon."""
    for line in body.splitlines():
        stripped = line.strip()
        if "`" in stripped or (stripped.endswith(":") and len(stripped.split()) >= 2):
            return True
        label = _LABEL.match(stripped)
        if label and label.group("colon"):
            return True
    return False


def _unique(texts: list[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for text in texts:
        key = input_key(text)
        if key not in seen:
            seen.add(key)
            unique.append(text)
    return unique
