"""Turn what the server saw of one test into a verdict with its details."""

from __future__ import annotations

import errno
import signal

from engine.problems.model import TestCase, TestKind
from engine.sandbox.compare import compare_outputs, compare_values
from engine.sandbox.types import Program, SandboxLimits, TestResult, Verdict
from engine.sandbox.worker import RawOutcome

SHOWN_CHARS = 2000  # how much of an input, expected or actual output a result keeps
MLE_FRACTION = 0.9  # a crash this close to the memory limit is reported as MLE


def truncate(text: str, limit: int = SHOWN_CHARS) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}...({len(text) - limit} characters cut)...{text[-half:]}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _last(events: tuple[dict, ...], *names: str) -> dict | None:
    for event in reversed(events):
        if event.get("event") in names:
            return event
    return None


def judge(
    index: int,
    test: TestCase,
    program: Program,
    limits: SandboxLimits,
    raw: RawOutcome,
    *,
    compare: bool,
) -> TestResult:
    stdout = raw.stdout.decode("utf-8", errors="replace")
    verdict, detail, got = _classify(program, test, limits, raw, stdout, compare=compare)
    return TestResult(
        index=index,
        verdict=verdict,
        input=truncate(test.input),
        expected=truncate(test.expected),
        # Without comparison the caller needs the whole output (differential testing).
        got=got if not compare else truncate(got),
        stderr_tail=raw.stderr_tail.decode("utf-8", errors="replace")[-SHOWN_CHARS:],
        time_s=raw.time_s,
        peak_memory_mb=round(raw.peak_kb / 1024, 1),
        detail=detail,
    )


def _classify(
    program: Program,
    test: TestCase,
    limits: SandboxLimits,
    raw: RawOutcome,
    stdout: str,
    *,
    compare: bool,
) -> tuple[Verdict, str, str]:
    cpu_limit = limits.cpu_s if limits.cpu_s is not None else limits.wall_s + 1
    signal_number = -raw.exit_code if raw.exit_code < 0 else 0
    returned = _last(raw.events, "return", "unencodable")
    got = stdout
    if program.kind is TestKind.FUNCTIONAL and returned is not None:
        got = returned.get("value") or returned.get("repr", "")

    if raw.overflow:
        return Verdict.OLE, f"output exceeded {limits.output_bytes} bytes", got
    if raw.timed_out:
        return Verdict.TLE, f"wall time limit {limits.wall_s:g} s exceeded", got
    if signal_number == signal.SIGXCPU or (
        signal_number == signal.SIGKILL and raw.cpu_s >= cpu_limit - 0.05
    ):
        return Verdict.TLE, f"CPU time limit {cpu_limit:g} s exceeded", got
    if signal_number == signal.SIGXFSZ:
        return Verdict.OLE, f"a file grew past {limits.file_size_bytes} bytes", got

    exception = _last(raw.events, "exception")
    if exception is not None and exception.get("errno") == errno.EFBIG:
        # CPython ignores SIGXFSZ, so the file-size limit shows up as EFBIG.
        return Verdict.OLE, f"a file grew past {limits.file_size_bytes} bytes", got
    if exception is not None and exception.get("type") == "MemoryError":
        return Verdict.MLE, f"MemoryError at the {limits.memory_mb} MB limit", got
    if signal_number and raw.peak_kb >= MLE_FRACTION * limits.memory_mb * 1024:
        return Verdict.MLE, f"killed by {_signal_name(signal_number)} at the memory limit", got

    if (event := _last(raw.events, "no_entry_point")) is not None:
        return Verdict.CE, f"no function or Solution method named {event.get('name')!r}", got
    if (event := _last(raw.events, "bad_test")) is not None:
        return Verdict.RE, f"the test itself is broken: {event.get('message')}", got

    if raw.exit_code != 0:
        if (event := _last(raw.events, "assertion")) is not None:
            message = event.get("message") or ""
            return Verdict.WA, "assertion failed" + (f": {message}" if message else ""), got
        if exception is not None:
            return Verdict.RE, f"{exception.get('type')}: {exception.get('message')}", got
        if (event := _last(raw.events, "exit_during_load", "exit_during_call")) is not None:
            when = "loading" if event["event"] == "exit_during_load" else "the call"
            return Verdict.RE, f"the program exited (status {event.get('code')}) during {when}", got
        if signal_number:
            return Verdict.RE, f"killed by {_signal_name(signal_number)}", got
        return Verdict.RE, f"exit status {raw.exit_code}", got

    if program.kind is TestKind.STDIN:
        if not compare:
            return Verdict.AC, "", got
        matched, reason = compare_outputs(test.expected, stdout, program.atol)
        return (Verdict.AC, "", got) if matched else (Verdict.WA, reason, got)

    if program.kind is TestKind.FUNCTIONAL:
        if returned is None:
            return Verdict.RE, "the program ended without returning a value", got
        if returned["event"] == "unencodable":
            if not compare:
                return Verdict.AC, "return value is not JSON", got
            return Verdict.WA, f"returned a value JSON cannot hold: {returned.get('repr')}", got
        if not compare:
            return Verdict.AC, "", got
        matched, reason = compare_values(test.expected, returned["value"], program.atol)
        return (Verdict.AC, "", got) if matched else (Verdict.WA, reason, got)

    if _last(raw.events, "passed") is None:
        return Verdict.RE, "the program exited before its tests finished", got
    return Verdict.AC, "", got
