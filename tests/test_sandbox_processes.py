"""A candidate reaches no process but itself and its own children (issue 13).

On every tier where candidates run as a uid of their own (started as root), killing, stopping,
ptrace-attaching, reading the memory of, and changing the limits or priority of its worker,
pid 1 of its sandbox, a sibling worker or another worker's candidate all fail inside the
candidate; the program that tries to kill its worker is simply AC; nothing is left behind.
Where a tier cannot give a candidate its own uid, the tests check what doctor promises there.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from pathlib import Path

import pytest
from support.processes import host_processes_with

from engine.problems.model import TestCase, TestKind
from engine.sandbox import (
    IsolationTier,
    IsolationUnavailable,
    Program,
    Sandbox,
    SandboxLimits,
    Verdict,
)

pytestmark = pytest.mark.timeout(240)

LIMITS = SandboxLimits(wall_s=30.0)  # these candidates end by themselves; a loaded host is slow

ISSUE_PROGRAM = """import os, signal
n = int(input())
try:
    os.kill(os.getppid(), signal.SIGKILL)
except OSError:
    pass
print(2 * n)
"""

# Tries every way the same uid would open to reach a process, on each target, and prints one
# JSON object: target -> action -> "done" or the errno name that refused it. Signals are sent
# only when signal 0 (a permission check that delivers nothing) was refused too, so that a
# broken sandbox reports "permitted" rather than killing a process of the host.
ATTACKS = r"""
import ctypes, errno, json, os, resource, signal, sys, time

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
PTRACE_SEIZE = 0x4206  # attaches like PTRACE_ATTACH (same checks) but stops nothing

def refusal(exc):
    return errno.errorcode.get(exc.errno, str(exc.errno))

own_child = None

def signal_(pid, sig):
    if pid != own_child:
        try:
            os.kill(pid, 0)
        except OSError:
            pass
        else:
            return "permitted"
    try:
        os.kill(pid, sig)
    except OSError as exc:
        return refusal(exc)
    return "done"

def trace(pid):
    if libc.ptrace(PTRACE_SEIZE, pid, None, None) == 0:
        return "done"  # the tracer's exit detaches it
    return errno.errorcode.get(ctypes.get_errno(), "?")

def read_memory(pid):
    try:
        open(f"/proc/{pid}/mem", "rb").close()
    except OSError as exc:
        return refusal(exc)
    return "done"

def limits(pid):
    try:
        resource.prlimit(pid, resource.RLIMIT_CORE)
    except OSError as exc:
        return refusal(exc)
    return "done"

def renice(pid):
    try:
        os.setpriority(os.PRIO_PROCESS, pid, os.getpriority(os.PRIO_PROCESS, pid))
    except OSError as exc:
        return refusal(exc)
    return "done"

ACTIONS = {
    "kill": lambda pid: signal_(pid, signal.SIGKILL),
    "stop": lambda pid: signal_(pid, signal.SIGSTOP),
    "ptrace": trace,
    "memory": read_memory,
    "prlimit": limits,
    "renice": renice,
}

def attack(targets):
    global own_child
    own_child = os.fork()
    if own_child == 0:
        time.sleep(60)
        os._exit(0)
    targets = {**targets, "own child": own_child}
    found = {name: {} for name in targets}
    # Signals last, stopping before killing: a signal that got through must not hide the rest.
    for action in ("ptrace", "memory", "prlimit", "renice", "stop", "kill"):
        for name, pid in targets.items():
            found[name][action] = ACTIONS[action](pid)
    print(json.dumps(found))
"""


def attack_program(host_pids: dict[str, int]) -> Program:
    """ATTACKS on the candidate's parent, pid 1 of its sandbox and the given host pids."""
    targets = {"parent": "os.getppid()", "pid 1": "1", **{k: str(v) for k, v in host_pids.items()}}
    call = "attack({" + ", ".join(f"{k!r}: {v}" for k, v in targets.items()) + "})"
    return Program(ATTACKS + call + "\n", TestKind.STDIN)


@pytest.fixture(params=list(IsolationTier), ids=lambda tier: str(tier))
async def sandbox(request: pytest.FixtureRequest):
    try:
        box = await Sandbox.create(allow_rlimits_only=True, workers=2, tier=request.param)
    except IsolationUnavailable as exc:
        pytest.skip(f"{request.param} is not available here: {exc}")
    async with box:
        await box.warm_up()
        yield box


def stdin_test(given: str, expected: str) -> TestCase:
    return TestCase(given, expected, TestKind.STDIN)


def state_of(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_bytes()
    return stat[stat.rfind(b")") + 2 :].split()[0].decode()


async def candidate_of_another_run(sandbox: Sandbox) -> tuple[int, int]:
    """(server, candidate) host pids of the run now holding a worker."""
    for _ in range(600):
        for server, candidates in sandbox.worker_processes().items():
            if candidates:
                return server, candidates[0]
        await asyncio.sleep(0.05)
    raise AssertionError("the sleeping candidate never started")


async def assert_nothing_left(sandbox: Sandbox, servers: set[int]) -> None:
    """The same workers (none restarted) serve the next runs, and no candidate is left."""
    assert set(sandbox.worker_processes()) == servers
    program = Program("print(sum(map(int, input().split())))", TestKind.STDIN)
    again = await asyncio.gather(
        *(sandbox.run(program, [stdin_test("2 3\n", "5")], LIMITS) for _ in range(2))
    )
    assert all(result.passed for result in again), again
    assert set(sandbox.worker_processes()) == servers
    assert sandbox.leftover_processes() == []


async def test_the_issue_program_is_ac(sandbox: Sandbox) -> None:
    if not (sandbox.isolation.private_uids or sandbox.isolation.pid_namespace):
        pytest.skip("here candidates share their worker's uid and pid namespace (see doctor)")
    servers = set(sandbox.worker_processes())
    tests = [stdin_test(f"{n}\n", f"{2 * n}\n") for n in (1, 7, -4)]
    result = await sandbox.run(Program(ISSUE_PROGRAM, TestKind.STDIN), tests, LIMITS)
    assert result.verdict is Verdict.AC, result.tests
    await assert_nothing_left(sandbox, servers)


async def test_a_candidate_reaches_nothing_but_itself(sandbox: Sandbox) -> None:
    if not sandbox.isolation.private_uids:
        pytest.skip("candidates share their worker's uid here (see doctor)")
    servers = set(sandbox.worker_processes())
    token = f"atlas-sleeper-{uuid.uuid4().hex}"
    sleeper = Program(f"import time\ntime.sleep(6)  # {token}\nprint('alive')", TestKind.STDIN)
    sleeping = asyncio.create_task(sandbox.run(sleeper, [stdin_test("", "alive")], LIMITS))
    sibling, other_candidate = await candidate_of_another_run(sandbox)

    attack = attack_program({"sibling worker": sibling, "other candidate": other_candidate})
    result = await sandbox.run(attack, [stdin_test("", "")], LIMITS, compare=False)
    outcome = json.loads(result.tests[0].got)

    # The check can fail: the candidate's own child is reachable in every way.
    assert outcome.pop("own child") == dict.fromkeys(
        ("kill", "ptrace", "memory", "prlimit", "renice", "stop"), "done"
    )
    assert set(outcome) == {"parent", "pid 1", "sibling worker", "other candidate"}
    for target, actions in outcome.items():
        reached = {action: how for action, how in actions.items() if how in ("done", "permitted")}
        assert reached == {}, f"the candidate reached {target}: {reached}"
    assert state_of(sibling) != "T" and state_of(other_candidate) != "T"
    slept = await sleeping
    assert slept.verdict is Verdict.AC, slept.tests
    assert host_processes_with(token) == []
    await assert_nothing_left(sandbox, servers)


async def test_without_a_uid_of_its_own_the_worker_is_still_out_of_reach(
    sandbox: Sandbox,
) -> None:
    """One uid for all, but the worker is pid 1 of its namespace: the kernel drops the
    signals, and the capability-less candidate may not trace it. What doctor says is left
    (prlimit, setpriority on the worker) is not checked here."""
    if sandbox.isolation.private_uids or not sandbox.isolation.pid_namespace:
        pytest.skip("for tiers whose candidates share the worker's uid in a pid namespace")
    servers = set(sandbox.worker_processes())
    code = ATTACKS + (
        "parent = os.getppid()\n"
        "os.kill(parent, signal.SIGSTOP)\nos.kill(parent, signal.SIGKILL)\ntime.sleep(0.2)\n"
        "stat = open(f'/proc/{parent}/stat').read()\n"
        "print(parent, stat[stat.rfind(')') + 2], trace(parent), read_memory(parent))\n"
    )
    result = await sandbox.run(
        Program(code, TestKind.STDIN), [stdin_test("", "")], LIMITS, compare=False
    )
    assert result.verdict is Verdict.AC, result.tests
    pid, state, traced, read = result.tests[0].got.split()
    # The worker is pid 1, alive and not stopped; tracing and reading it are refused.
    assert (pid, state in "SR", traced, read) == ("1", True, "EPERM", "EACCES")
    await assert_nothing_left(sandbox, servers)


async def test_a_worker_stopped_from_outside_is_a_hang_the_host_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The host still ends a worker that stops answering (candidates no longer can stop it,
    so the test stops it from outside)."""
    import engine.sandbox.worker as worker_module

    monkeypatch.setattr(worker_module, "ANSWER_GRACE_S", 2.0)
    async with await Sandbox.create(allow_rlimits_only=True, workers=1) as sandbox:
        program = Program("import time\ntime.sleep(2)\nprint('late')", TestKind.STDIN)
        running = asyncio.create_task(
            sandbox.run(program, [stdin_test("", "late")], SandboxLimits(wall_s=3.0))
        )
        server, _ = await candidate_of_another_run(sandbox)
        os.kill(server, signal.SIGSTOP)
        result = await running
        assert result.verdict is Verdict.RE and "stopped answering" in result.detail
        after = await sandbox.run(program, [stdin_test("", "late")], SandboxLimits(wall_s=10.0))
        assert after.verdict is Verdict.AC, after.tests
        assert sandbox.leftover_processes() == []
