"""Facts about the sandbox side of this machine, for `atlas-tui doctor`: the isolation tier (and
why a better one is missing), the interpreter candidates run on, and a live check that really
runs a program in a warm worker."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

from engine.cpus import available_cores
from engine.problems.model import TestCase, TestKind
from engine.sandbox.sandbox import Sandbox
from engine.sandbox.tiers import IsolationUnavailable, Probe, probe
from engine.sandbox.types import IsolationTier, Program, Verdict

CHECK_TESTS = 20
INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap)"
)


@dataclass(frozen=True, slots=True)
class SandboxFact:
    name: str
    value: str
    ok: bool = True
    hint: str = ""


def _bwrap_version() -> str:
    path = shutil.which("bwrap")
    if path is None:
        return "not installed"
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return f"{path} (does not run)"
    return out.stdout.strip() or path


def static_facts() -> list[SandboxFact]:
    found = probe()
    facts = [
        SandboxFact("python", f"{platform.python_version()} ({sys.executable})"),
        SandboxFact("cores", f"{available_cores()} (sandbox workers by default)"),
        SandboxFact("bubblewrap", _bwrap_version()),
    ]
    tier = str(found.tier)
    if found.tier is IsolationTier.BUBBLEWRAP:
        isolated = "no network, read-only system, private tmpfs work dir, cleared environment"
        facts.append(SandboxFact("isolation", f"{tier}: {isolated}"))
    elif found.tier is IsolationTier.UNSHARE:
        pid = "with" if found.pid_namespace else "without"
        facts.append(
            SandboxFact(
                "isolation",
                f"{tier}: no network, {pid} a pid namespace; the filesystem is not isolated",
                ok=False,
                hint=INSTALL_HINT,
            )
        )
    else:
        facts.append(
            SandboxFact(
                "isolation",
                "rlimits only: no network or filesystem isolation (needs --allow-rlimits-only)",
                ok=False,
                hint=INSTALL_HINT,
            )
        )
    facts.append(process_isolation(found))
    facts += [SandboxFact("not available", reason, ok=True) for reason in found.tried]
    return facts


def process_isolation(found: Probe) -> SandboxFact:
    """Which processes a candidate can reach on this tier (tests/test_sandbox_processes.py
    checks each of these claims)."""
    if found.private_uids:
        return SandboxFact(
            "processes",
            "candidates run as a uid of their own: they cannot signal, trace or read the "
            "memory of their worker, another candidate or any process outside",
        )
    if os.geteuid() == 0:
        why = (
            f"candidates run as root without capabilities: this Python ({sys.base_prefix}) "
            "is not readable by an unprivileged uid outside bubblewrap"
        )
        hint = "use bubblewrap, or install Python where every user can read it"
    else:
        why = "candidates share their worker's uid (not root: there is no second uid to give)"
        hint = "run as root: each worker's candidates then get a uid of their own"
    if found.pid_namespace:
        return SandboxFact(
            "processes",
            f"{why}; the worker is pid 1 of its namespace, so their signals do not reach "
            "it, and without capabilities they cannot trace or read it, but they can still "
            "change its resource limits and priority (prlimit, setpriority)",
            ok=False,
            hint=hint,
        )
    return SandboxFact(
        "processes",
        f"{why}, with no pid namespace: they can signal their worker and every process "
        "of the same user",
        ok=False,
        hint=hint,
    )


async def live_check(allow_rlimits_only: bool = False) -> list[SandboxFact]:
    """Start a worker, run a small program on CHECK_TESTS tests, say how long it took."""
    program = Program("a, b = map(int, input().split())\nprint(a + b)", TestKind.STDIN)
    tests = [TestCase(f"{i} {i}\n", f"{2 * i}\n", TestKind.STDIN) for i in range(CHECK_TESTS)]
    started = time.perf_counter()
    try:
        sandbox = await Sandbox.create(allow_rlimits_only=allow_rlimits_only, workers=1)
    except IsolationUnavailable as exc:
        return [SandboxFact("sandbox check", "refused", ok=False, hint=str(exc))]
    try:
        await sandbox.warm_up()
        warm = time.perf_counter() - started
        started = time.perf_counter()
        result = await sandbox.run(program, tests)
        elapsed = time.perf_counter() - started
    except Exception as exc:  # a doctor reports, it does not crash
        return [SandboxFact("sandbox check", f"failed: {exc}", ok=False, hint=INSTALL_HINT)]
    finally:
        await sandbox.close()
    if result.verdict is not Verdict.AC:
        return [
            SandboxFact(
                "sandbox check",
                f"a correct program got {result.verdict}: {result.detail}",
                ok=False,
                hint=INSTALL_HINT,
            )
        ]
    per_test = elapsed / CHECK_TESTS * 1000
    return [
        SandboxFact("worker start", f"{warm * 1000:.0f} ms (interpreter + isolation, once)"),
        SandboxFact(
            "sandbox check",
            f"{CHECK_TESTS} tests in {elapsed * 1000:.0f} ms "
            f"({per_test:.1f} ms per test, a fork each)",
        ),
    ]
