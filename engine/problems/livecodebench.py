"""LiveCodeBench rows (code_generation_lite): `question_content`, `public_test_cases`,
`private_test_cases`, `metadata`.

Public tests are the row's `public_test_cases` (the statement's examples); hidden tests are
`private_test_cases`. Upstream ships the private field as base64(zlib(pickle(json string)));
it is decoded here, with an unpickler that refuses every object but plain strings, and a field
that is neither form is an error for that row, never silently an empty test list.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import zlib
from typing import Any

from engine.problems.fields import RowError, check_statement, opt_str, req_str
from engine.problems.judges import libraries_for
from engine.problems.model import Problem, Source, TestCase, TestKind


def looks_like(row: dict[str, Any]) -> bool:
    return "question_content" in row and (
        "public_test_cases" in row or "private_test_cases" in row
    )


def parse(row: dict[str, Any], source: Source) -> Problem:
    question_id = req_str(row, "question_id")
    platform = opt_str(row, "platform")
    metadata = _metadata(row.get("metadata"))
    public = _tests(decode_tests(row.get("public_test_cases", "[]"), "public_test_cases"),
                    "statement")
    private = _tests(decode_tests(row.get("private_test_cases", "[]"), "private_test_cases"),
                     "dataset")
    func_name = metadata.get("func_name") or None
    functional = platform == "leetcode" or any(
        t.kind is TestKind.FUNCTIONAL for t in public + private
    )
    if functional and not func_name:
        raise RowError("functional (LeetCode) row without metadata.func_name")
    return Problem(
        id=question_id,
        title=opt_str(row, "question_title") or question_id,
        statement=check_statement(req_str(row, "question_content")),
        test_kind=TestKind.FUNCTIONAL if functional else TestKind.STDIN,
        public_tests=public,
        hidden_tests=private,
        starter_code=opt_str(row, "starter_code"),
        func_name=func_name if functional else None,
        source=source,
        difficulty=opt_str(row, "difficulty") or None,
        libraries=libraries_for(platform),
        metadata={
            "platform": platform,
            "contest_id": opt_str(row, "contest_id"),
            "contest_date": opt_str(row, "contest_date"),
        },
    )


def decode_tests(field: object, name: str) -> list[dict[str, Any]]:
    """A test-case field as a list of {input, output, testtype}: JSON text, an already decoded
    list, or upstream's base64(zlib(pickle(json string)))."""
    if isinstance(field, list):
        tests = field
    elif isinstance(field, str):
        tests = _json_or_packed(field, name)
    else:
        raise RowError(f"field {name!r} should be a JSON string or a list, "
                       f"got {type(field).__name__}")
    if not isinstance(tests, list):
        raise RowError(f"field {name!r} should decode to a list, got {type(tests).__name__}")
    for i, test in enumerate(tests):
        if not isinstance(test, dict):
            raise RowError(f"{name}[{i}] should be an object, got {type(test).__name__}")
        for key in ("input", "output"):
            if not isinstance(test.get(key), str):
                raise RowError(f"{name}[{i}] needs a string {key!r}")
    return tests


def encode_packed(tests: list[dict[str, Any]]) -> str:
    """Upstream's packing of private tests (used by tests and by anyone writing such rows)."""
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode("ascii")


def _json_or_packed(text: str, name: str) -> Any:
    if not text.strip():
        return []
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        packed = zlib.decompress(base64.b64decode(text.strip(), validate=True))
        inner = _StringsOnlyUnpickler(io.BytesIO(packed)).load()
    except (binascii.Error, zlib.error, pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise RowError(
            f"field {name!r} is neither JSON nor base64(zlib(pickle(json))): {exc}"
        ) from exc
    if isinstance(inner, bytes):
        inner = inner.decode("utf-8")
    if not isinstance(inner, str):
        raise RowError(f"field {name!r} unpickled to {type(inner).__name__}, expected a string")
    try:
        return json.loads(inner)
    except json.JSONDecodeError as exc:
        raise RowError(f"field {name!r} decoded but its JSON is malformed: {exc.msg}") from exc


class _StringsOnlyUnpickler(pickle.Unpickler):
    """Pickled strings need no classes; refusing every class keeps a hostile file inert."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a test field")


def _metadata(field: object) -> dict[str, Any]:
    if field is None or field == "":
        return {}
    if isinstance(field, dict):
        return field
    if isinstance(field, str):
        try:
            value = json.loads(field)
        except json.JSONDecodeError as exc:
            raise RowError(f"field 'metadata' is not valid JSON: {exc.msg}") from exc
        if isinstance(value, dict):
            return value
    raise RowError("field 'metadata' should be a JSON object")


def _tests(raw: list[dict[str, Any]], origin: str) -> tuple[TestCase, ...]:
    return tuple(
        TestCase(
            input=t["input"],
            expected=t["output"],
            kind=TestKind.FUNCTIONAL if t.get("testtype") == "functional" else TestKind.STDIN,
            origin=origin,
        )
        for t in raw
    )
