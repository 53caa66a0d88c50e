"""Inputs without the model: type-aware mutation of the public examples' inputs (EvalPlus).

The public examples show what a valid input looks like. Mutating them value by value (numbers
nudged or drawn near the values seen, strings edited with the characters seen, lists grown,
shrunk, shuffled and their elements mutated, nested values recursively) gives many more
inputs of the same shape at no model cost. Candidates run on them tell behaviours apart (no
expected output is needed: outputs are compared between candidates).

- Functional inputs (one JSON value per line, the call's arguments): each argument keeps its
  type; numbers stay inside the range the examples suggest (non-negative stays non-negative).
- Stdin inputs keep the shape of their lines: a count followed by that many lines, or by a
  line with that many tokens, stays consistent when items are added or removed; every other
  token is mutated by its type (integers as numbers, words edited in place).

Pure and deterministic for a seed; results are distinct, differ from the seeds, and are
bounded in number and size. A mutant can still break a constraint the statement states in
words (such as "distinct values"); callers drop inputs on which most candidates crash.
"""

from __future__ import annotations

import json
import math
import random
import re
import string
from dataclasses import dataclass, field
from typing import Any

from engine.problems.model import TestKind

MAX_LIST = 64  # elements a mutated list may grow to (unless the examples had longer ones)
MAX_STRING = 64  # characters, likewise
MAX_INPUT_CHARS = 20_000  # a mutant bigger than this is dropped
ATTEMPTS_PER_INPUT = 25  # mutation attempts per wanted input before giving up


def mutate_inputs(kind: TestKind, seeds: list[str], *, count: int = 40, seed: int = 0
                  ) -> list[str]:
    """Up to `count` new inputs of `kind` mutated from `seeds` (public example inputs)."""
    if kind is TestKind.FUNCTIONAL:
        return mutate_functional(seeds, count=count, seed=seed)
    if kind is TestKind.STDIN:
        return mutate_stdin(seeds, count=count, seed=seed)
    return []  # assert tests are code, not inputs


# --- values -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Seen:
    """What the examples contain, so mutants stay near it."""

    ints: list[int] = field(default_factory=list)
    floats: list[float] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)
    elements: list[Any] = field(default_factory=list)  # list items seen, for empty lists
    chars: str = ""
    max_list: int = 0
    max_string: int = 0

    def add(self, value: Any) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, int):
            self.ints.append(value)
        elif isinstance(value, float):
            if math.isfinite(value):
                self.floats.append(value)
        elif isinstance(value, str):
            self.strings.append(value)
            self.chars = "".join(sorted(set(self.chars) | set(value)))
            self.max_string = max(self.max_string, len(value))
        elif isinstance(value, (list, tuple)):
            self.max_list = max(self.max_list, len(value))
            self.elements.extend(value)
            for item in value:
                self.add(item)
        elif isinstance(value, dict):
            for key, item in value.items():
                self.add(key)
                self.add(item)

    def int_bounds(self) -> tuple[int, int]:
        """The range mutated integers stay in: from the smallest seen (0 or 1 when every
        integer seen is at least that) to about twice the largest."""
        if not self.ints:
            return 0, 10
        low, high = min(self.ints), max(self.ints)
        floor = 1 if low >= 1 else 0 if low >= 0 else low * 2 - 1
        ceiling = max(high * 2, high + 10) if high >= 0 else 0
        return floor, ceiling


def mutate_value(value: Any, rng: random.Random, seen: Seen, depth: int = 0) -> Any:
    """One type-preserving mutation of `value`."""
    if value is None:
        return None
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return _mutate_int(value, rng, seen)
    if isinstance(value, float):
        return _mutate_float(value, rng, seen)
    if isinstance(value, str):
        return _mutate_str(value, rng, seen)
    if isinstance(value, (list, tuple)):
        mutated = _mutate_list(list(value), rng, seen, depth)
        return tuple(mutated) if isinstance(value, tuple) else mutated
    if isinstance(value, dict):
        return _mutate_dict(value, rng, seen, depth)
    return value


def _mutate_int(value: int, rng: random.Random, seen: Seen) -> int:
    low, high = seen.int_bounds()
    options = [value + 1, value - 1, low, high, rng.randint(low, high)]
    if seen.ints:
        options.append(rng.choice(seen.ints))
    if low <= 0 <= high:
        options.append(0)
    return min(max(rng.choice(options), low), high)


def _mutate_float(value: float, rng: random.Random, seen: Seen) -> float:
    low = min(seen.floats, default=0.0)
    high = max(seen.floats, default=1.0)
    options = [value + 1.0, value - 1.0, value * 2, value / 2, round(rng.uniform(low, high), 3)]
    if seen.floats:
        options.append(rng.choice(seen.floats))
    if low >= 0:
        options = [max(o, 0.0) for o in options]
    return rng.choice(options)


def _mutate_str(value: str, rng: random.Random, seen: Seen) -> str:
    alphabet = seen.chars or string.ascii_lowercase
    limit = max(MAX_STRING, seen.max_string * 2)
    operations = ["replace", "insert", "delete", "swap", "duplicate", "seen"]
    if value == "" or rng.random() < 0.05:
        operations.append("empty")
    operation = rng.choice(operations)
    if operation == "seen" and seen.strings:
        return rng.choice(seen.strings)
    if operation == "empty":
        return ""
    if not value or operation == "insert":
        if len(value) >= limit:
            return value[:-1]
        at = rng.randint(0, len(value))
        return value[:at] + rng.choice(alphabet) + value[at:]
    at = rng.randrange(len(value))
    if operation == "replace":
        return value[:at] + rng.choice(alphabet) + value[at + 1 :]
    if operation == "delete":
        return value[:at] + value[at + 1 :]
    if operation == "swap" and len(value) > 1:
        other = rng.randrange(len(value))
        chars = list(value)
        chars[at], chars[other] = chars[other], chars[at]
        return "".join(chars)
    end = min(len(value), at + rng.randint(1, 3))
    return (value[:end] + value[at:end] + value[end:])[:limit]


def _mutate_list(items: list[Any], rng: random.Random, seen: Seen, depth: int) -> list[Any]:
    limit = max(MAX_LIST, seen.max_list * 2)
    operations = ["mutate", "append", "remove", "swap", "duplicate", "reverse"]
    if rng.random() < 0.05:
        operations.append("empty")
    operation = rng.choice(operations)
    if operation == "empty":
        return []
    if not items:
        return [_new_element(rng, seen)]
    at = rng.randrange(len(items))
    if operation == "mutate":
        items[at] = mutate_value(items[at], rng, seen, depth + 1)
    elif operation == "append" and len(items) < limit:
        items.insert(rng.randint(0, len(items)),
                     mutate_value(rng.choice(items), rng, seen, depth + 1))
    elif operation == "remove":
        del items[at]
    elif operation == "swap" and len(items) > 1:
        other = rng.randrange(len(items))
        items[at], items[other] = items[other], items[at]
    elif operation == "duplicate" and len(items) < limit:
        items.insert(at, items[at])
    else:
        items.reverse()
    return items


def _new_element(rng: random.Random, seen: Seen) -> Any:
    """An element for an empty list: a list item the examples use, else a number or string
    they use."""
    if seen.elements:
        return rng.choice(seen.elements)
    kinds = [k for k, pool in (("int", seen.ints), ("str", seen.strings),
                               ("float", seen.floats)) if pool]
    kind = rng.choice(kinds) if kinds else "int"
    if kind == "str":
        return rng.choice(seen.strings)
    if kind == "float":
        return rng.choice(seen.floats)
    low, high = seen.int_bounds()
    return rng.randint(low, high)


def _mutate_dict(value: dict[Any, Any], rng: random.Random, seen: Seen, depth: int
                 ) -> dict[Any, Any]:
    mutated = dict(value)
    if not mutated:
        return mutated
    key = rng.choice(list(mutated))
    operation = rng.choice(["value", "value", "remove", "add"])
    if operation == "value":
        mutated[key] = mutate_value(mutated[key], rng, seen, depth + 1)
    elif operation == "remove":
        del mutated[key]
    else:
        new_key = mutate_value(key, rng, seen, depth + 1)
        mutated[new_key] = mutate_value(mutated[key], rng, seen, depth + 1)
    return mutated


# --- functional inputs ----------------------------------------------------------------------


def mutate_functional(seeds: list[str], *, count: int = 40, seed: int = 0) -> list[str]:
    """New argument lists (one JSON value per line) from the seeds' own: one or more
    arguments mutated per input, mutants mutated further (as EvalPlus does)."""
    parsed = [args for args in (_json_args(s) for s in seeds) if args is not None]
    if not parsed or count <= 0:
        return []
    rng = random.Random(seed)
    # What each argument position holds: a list of ints and a string stay apart.
    width = max(len(args) for args in parsed)
    seen = [Seen() for _ in range(width)]
    for args in parsed:
        for at, value in enumerate(args):
            seen[at].add(value)
    known = {_key(args) for args in parsed}
    pool = list(parsed)
    found: list[str] = []
    for _ in range(count * ATTEMPTS_PER_INPUT):
        if len(found) >= count:
            break
        args = list(rng.choice(pool))
        if not args:
            break  # a function without arguments has one input
        for at in rng.sample(range(len(args)), rng.randint(1, len(args))):
            args[at] = mutate_value(args[at], rng, seen[at])
        text = "\n".join(json.dumps(a) for a in args)
        key = _key(args)
        if key in known or len(text) > MAX_INPUT_CHARS:
            continue
        known.add(key)
        pool.append(args)
        found.append(text)
    return found


def _json_args(text: str) -> list[Any] | None:
    try:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError:
        return None


def _key(args: list[Any]) -> str:
    return json.dumps(args, sort_keys=True)


# --- stdin inputs -----------------------------------------------------------------------------

_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d+\.\d+")


@dataclass(frozen=True, slots=True)
class Link:
    """A count token and what it counts: the `lines` after its line, or the tokens of the next
    line."""

    line: int
    token: int
    counts: str  # "lines" or "tokens"


def mutate_stdin(seeds: list[str], *, count: int = 40, seed: int = 0) -> list[str]:
    """New stdin inputs with the seeds' line shapes: counts kept consistent with what they
    count; other tokens mutated by type."""
    parsed = [_lines(s) for s in seeds if s.strip()]
    if not parsed or count <= 0:
        return []
    rng = random.Random(seed)
    seen = Seen()
    for lines in parsed:
        for line in lines:
            for token in line:
                seen.add(_token_value(token))
    known = {_text(lines) for lines in parsed}
    pool = list(parsed)
    found: list[str] = []
    limit = max(MAX_INPUT_CHARS // 4, 2 * max(len(s) for s in seeds))
    for _ in range(count * ATTEMPTS_PER_INPUT):
        if len(found) >= count:
            break
        lines = [list(line) for line in rng.choice(pool)]
        links = _links(lines)
        if links and rng.random() < 0.4:
            _mutate_structure(lines, rng.choice(links), rng)
        else:
            _mutate_token(lines, links, rng, seen)
        text = _text(lines)
        if text in known or len(text) > min(limit, MAX_INPUT_CHARS):
            continue
        known.add(text)
        pool.append(lines)
        found.append(text)
    return found


def _lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.strip("\n").split("\n")]


def _text(lines: list[list[str]]) -> str:
    return "\n".join(" ".join(line) for line in lines) + "\n"


def _token_value(token: str) -> Any:
    if _INT.fullmatch(token):
        return int(token)
    if _FLOAT.fullmatch(token):
        return float(token)
    return token


def _links(lines: list[list[str]]) -> list[Link]:
    """Count tokens recognised by what follows them: a line holding only the number n
    followed by at least n lines (the last n-line block wins for a header line), or a token
    equal to the number of tokens on the next line."""
    links: list[Link] = []
    for i, line in enumerate(lines):
        if i + 1 >= len(lines):
            break
        next_tokens = len(lines[i + 1])
        for j, token in enumerate(line):
            if not _INT.fullmatch(token):
                continue
            n = int(token)
            if n > 1 and n == next_tokens and len(line) <= 3:
                links.append(Link(i, j, "tokens"))
                break
            if (n >= 1 and j == 0 and n == len(lines) - i - 1 and next_tokens not in (0,)
                    and _same_shape(lines[i + 1 :])):
                links.append(Link(i, j, "lines"))
                break
    return links


def _same_shape(lines: list[list[str]]) -> bool:
    """Item lines that look alike (same number of tokens): the lines a count counts."""
    return len({len(line) for line in lines}) == 1


def _mutate_structure(lines: list[list[str]], link: Link, rng: random.Random) -> None:
    """Add or remove one counted item and update the count."""
    n = int(lines[link.line][link.token])
    grow = n <= 1 or rng.random() < 0.5
    if link.counts == "lines":
        first = link.line + 1
        at = first + rng.randrange(n)
        if grow:
            lines.insert(at, list(lines[at]))
        else:
            del lines[at]
    else:
        target = lines[link.line + 1]
        at = rng.randrange(len(target))
        if grow:
            target.insert(at, target[at])
        else:
            del target[at]
    lines[link.line][link.token] = str(n + 1 if grow else n - 1)


def _mutate_token(lines: list[list[str]], links: list[Link], rng: random.Random,
                  seen: Seen) -> None:
    """Mutate one token that is not a count, by its type (a word keeps its length when its
    line's words share one, as grid rows do)."""
    counts = {(link.line, link.token) for link in links}
    places = [(i, j) for i, line in enumerate(lines) for j in range(len(line))
              if (i, j) not in counts]
    if not places:
        return
    i, j = rng.choice(places)
    token = lines[i][j]
    value = _token_value(token)
    if isinstance(value, str):
        same_length = all(len(t) == len(token) for t in _words(lines)) and len(_words(lines)) > 1
        if same_length:
            at = rng.randrange(len(token))
            alphabet = seen.chars or string.ascii_lowercase
            lines[i][j] = token[:at] + rng.choice(alphabet) + token[at + 1 :]
        else:
            lines[i][j] = _mutate_str(value, rng, seen) or token
        return
    lines[i][j] = str(mutate_value(value, rng, seen))


def _words(lines: list[list[str]]) -> list[str]:
    return [t for line in lines for t in line if not _INT.fullmatch(t) and not _FLOAT.fullmatch(t)]
