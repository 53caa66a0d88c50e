"""Every isolation tier this machine offers, forced one at a time: the same harness and verdicts,
timeouts kill everything, no process outlives its run, the environment is cleared, and the
network is closed wherever the tier promises it."""

from __future__ import annotations

import socket
import uuid

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
from engine.sandbox.tiers import probe

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(params=list(IsolationTier), ids=lambda tier: str(tier))
async def sandbox(request: pytest.FixtureRequest):
    try:
        box = await Sandbox.create(allow_rlimits_only=True, workers=1, tier=request.param)
    except IsolationUnavailable as exc:
        pytest.skip(f"{request.param} is not available here: {exc}")
    async with box:
        yield box


def stdin_case(given: str, expected: str) -> TestCase:
    return TestCase(given, expected, TestKind.STDIN)


async def run(sandbox: Sandbox, code: str, expected: str = "", wall_s: float = 20.0):
    program = Program(code, TestKind.STDIN)
    return await sandbox.run(program, [stdin_case("", expected)], SandboxLimits(wall_s=wall_s))


def test_rlimits_tier_needs_an_explicit_opt_in() -> None:
    from engine.sandbox.tiers import require_isolation

    found = probe(IsolationTier.RLIMITS)
    with pytest.raises(IsolationUnavailable, match="allow_rlimits_only"):
        require_isolation(found, allow_rlimits_only=False)
    require_isolation(found, allow_rlimits_only=True)  # no error


async def test_harnesses_and_verdicts(sandbox: Sandbox) -> None:
    program = Program("print(int(input()) * 2)", TestKind.STDIN)
    result = await sandbox.run(program, [stdin_case("2\n", "4"), stdin_case("3\n", "7")])
    assert [t.verdict for t in result.tests] == [Verdict.AC, Verdict.WA]
    assert result.tier is sandbox.tier
    method = Program(
        "class Solution:\n    def f(self, x):\n        return [x, x]", TestKind.FUNCTIONAL, "f"
    )
    assert (await sandbox.run(method, [TestCase("5", "[5, 5]", TestKind.FUNCTIONAL)])).passed
    asserted = Program("def g():\n    return 3", TestKind.ASSERT)
    assert (await sandbox.run(asserted, [TestCase("assert g() == 3", "", TestKind.ASSERT)])).passed


async def test_timeout_kills_the_whole_group(sandbox: Sandbox) -> None:
    token = f"atlas-tier-{uuid.uuid4().hex}"
    code = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', {token!r}])\n"
        "time.sleep(120)"
    )
    result = await run(sandbox, code, wall_s=1.5)
    assert result.verdict is Verdict.TLE
    assert host_processes_with(token) == []
    assert sandbox.leftover_processes() == []


async def test_background_children_die_with_the_run(sandbox: Sandbox) -> None:
    token = f"atlas-tier-{uuid.uuid4().hex}"
    code = (
        "import os, sys\n"
        "if os.fork() == 0:\n    if os.fork() == 0:\n        os.setsid()\n"
        "        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(120)', "
        f"{token!r}])\n    os._exit(0)\n"
        "print('ok')"
    )
    result = await run(sandbox, code, expected="ok")
    assert result.verdict is Verdict.AC, result.tests
    assert host_processes_with(token) == []
    assert (await run(sandbox, "print('next')", expected="next")).passed


async def test_environment_is_cleared(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_TIER_SECRET", "s3cret")
    # Workers start lazily, after the variable is set.
    result = await run(sandbox, "import os\nprint(os.environ.get('ATLAS_TIER_SECRET'))", "None")
    assert result.verdict is Verdict.AC, result.tests


async def test_killing_the_server_is_survived(sandbox: Sandbox) -> None:
    code = (
        "import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\n"
        "except OSError:\n    pass\nprint('alive')"
    )
    result = await run(sandbox, code, expected="alive")
    # A uid of its own refuses the candidate the kill, and where the server is pid 1 of its
    # namespace the kernel drops it; only without either (doctor says so) does the server die
    # and the run report it. Either way the sandbox goes on.
    found = sandbox.isolation
    shielded = found.private_uids or found.pid_namespace
    assert result.verdict is (Verdict.AC if shielded else Verdict.RE), result.tests
    assert (await run(sandbox, "print('next')", expected="next")).passed
    assert sandbox.leftover_processes() == []


async def test_network_is_closed_where_promised(sandbox: Sandbox) -> None:
    if sandbox.tier is IsolationTier.RLIMITS:
        pytest.skip("the rlimits tier does not isolate the network (documented)")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        code = (
            "import socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
            "    print('connected')\nexcept OSError:\n    print('blocked')"
        )
        result = await run(sandbox, code, expected="blocked")
    assert result.verdict is Verdict.AC, result.tests


def test_a_python_under_tmp_keeps_its_path_inside_bubblewrap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A clone checked out under /tmp (as CI may do) has its virtualenv there: /tmp must then
    stay a directory holding that bind, not become a symlink to the work dir (which made the
    bubblewrap probe fail and silently dropped to the weaker unshare tier)."""
    from engine.sandbox import tiers

    venv = "/tmp/clone/.venv"
    monkeypatch.setattr(tiers, "python_dirs", lambda: [venv, "/opt/python"])
    argv = tiers.bubblewrap_argv(["python"], as_root=True)
    symlinked = {argv[i + 2] for i, a in enumerate(argv) if a == "--symlink"}
    assert "/tmp" not in symlinked
    assert "/var/tmp" in symlinked
    assert any(argv[i : i + 3] == ["--ro-bind", venv, venv] for i in range(len(argv)))
