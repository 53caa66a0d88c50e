"""Hostile candidates: each gets the right verdict, leaves the host untouched, leaves no process
behind, and the next run in the same sandbox works."""

from __future__ import annotations

import hashlib
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from support.processes import host_processes_with

from engine.problems.model import TestCase, TestKind
from engine.sandbox import IsolationTier, Program, Sandbox, SandboxLimits, Verdict

pytestmark = pytest.mark.timeout(180)

# Generous: these candidates end by themselves, and a loaded machine must not turn that into TLE.
SHORT = SandboxLimits(wall_s=20.0)


@pytest.fixture
async def sandbox():
    # One worker: a hostile run and the check after it meet in the same worker.
    async with await Sandbox.create(allow_rlimits_only=True, workers=1) as box:
        yield box


def needs_isolation(sandbox: Sandbox) -> None:
    if sandbox.tier is not IsolationTier.BUBBLEWRAP:
        pytest.skip(
            f"filesystem/network isolation needs bubblewrap; this machine has {sandbox.tier}"
        )


async def run(
    sandbox: Sandbox, code: str, given: str = "", expected: str = "", limits: SandboxLimits = SHORT
):
    program = Program(code, TestKind.STDIN)
    return await sandbox.run(program, [TestCase(given, expected, TestKind.STDIN)], limits)


async def assert_sandbox_healthy(sandbox: Sandbox) -> None:
    """No candidate process is left and the next run works."""
    assert sandbox.leftover_processes() == []
    after = await run(sandbox, "print(sum(map(int, input().split())))", "2 3\n", "5")
    assert after.verdict is Verdict.AC, after.tests
    assert sandbox.leftover_processes() == []


async def test_fork_bomb(sandbox: Sandbox) -> None:
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    result = await run(sandbox, code, limits=SandboxLimits(wall_s=2.0))
    assert result.verdict is Verdict.TLE
    await assert_sandbox_healthy(sandbox)


async def test_fork_bomb_that_gives_up_is_re(sandbox: Sandbox) -> None:
    result = await run(sandbox, "import os\nwhile True:\n    os.fork()")
    assert result.verdict in (Verdict.RE, Verdict.TLE)
    await assert_sandbox_healthy(sandbox)


async def test_memory_bomb(sandbox: Sandbox) -> None:
    code = "hoard = []\nwhile True:\n    hoard.append(bytearray(10 ** 7))"
    result = await run(sandbox, code, limits=SandboxLimits(wall_s=60.0, memory_mb=512))
    assert result.verdict is Verdict.MLE
    await assert_sandbox_healthy(sandbox)


async def test_endless_loop(sandbox: Sandbox) -> None:
    result = await run(sandbox, "while True:\n    pass", limits=SandboxLimits(wall_s=1.5))
    assert result.verdict is Verdict.TLE
    await assert_sandbox_healthy(sandbox)


async def test_a_gigabyte_of_output(sandbox: Sandbox) -> None:
    code = "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.write(chunk)"
    result = await run(sandbox, code, limits=SandboxLimits(wall_s=60.0))
    assert result.verdict is Verdict.OLE
    assert len(result.tests[0].got) <= 4000  # what is kept is truncated
    await assert_sandbox_healthy(sandbox)


async def test_a_gigabyte_of_stderr(sandbox: Sandbox) -> None:
    code = "import sys\nchunk = 'e' * (1 << 20)\nfor _ in range(1024):\n    sys.stderr.write(chunk)"
    result = await run(sandbox, code, limits=SandboxLimits(wall_s=60.0))
    assert result.verdict is Verdict.OLE
    await assert_sandbox_healthy(sandbox)


async def test_connection_to_a_loopback_listener_fails(sandbox: Sandbox) -> None:
    needs_isolation(sandbox)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    accepted: list[object] = []
    stop = threading.Event()

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                accepted.append(listener.accept())
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept_loop)
    thread.start()
    try:
        # The listener really is reachable from the host...
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        time.sleep(0.3)
        assert len(accepted) == 1
        code = (
            "import socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
            "    print('connected')\nexcept OSError as e:\n    print('blocked')"
        )
        result = await run(sandbox, code, expected="blocked")
        # ...and not from the sandbox.
        assert result.verdict is Verdict.AC, result.tests
        time.sleep(0.3)
        assert len(accepted) == 1
    finally:
        stop.set()
        thread.join()
        listener.close()
        for conn, _ in accepted:  # type: ignore[misc]
            conn.close()
    await assert_sandbox_healthy(sandbox)


async def test_writing_and_deleting_files_outside_the_work_dir(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    needs_isolation(sandbox)
    precious = tmp_path / "precious.txt"
    precious.write_text("original")
    beside_python = Path(sys.prefix) / f"atlas-pwned-{uuid.uuid4().hex}"
    code = (
        "import os\nresults = []\n"
        f"for attempt in (lambda: open({str(precious)!r}, 'w').write('pwned'),\n"
        f"                lambda: os.remove({str(precious)!r}),\n"
        f"                lambda: open({str(beside_python)!r}, 'w').write('pwned'),\n"
        "                lambda: open('/usr/atlas-pwned', 'w').write('pwned')):\n"
        "    try:\n        attempt()\n        results.append('done')\n"
        "    except OSError:\n        results.append('refused')\n"
        "print(' '.join(results))"
    )
    try:
        result = await run(sandbox, code, expected="refused refused refused refused")
        assert result.verdict is Verdict.AC, result.tests
        assert precious.read_text() == "original"
        assert not beside_python.exists()
        assert not Path("/usr/atlas-pwned").exists()
    finally:
        beside_python.unlink(missing_ok=True)
    await assert_sandbox_healthy(sandbox)


async def test_shared_memory_does_not_survive_a_test(sandbox: Sandbox) -> None:
    needs_isolation(sandbox)
    write = "open('/dev/shm/note', 'w').write('left behind')\nprint('ok')"
    assert (await run(sandbox, write, expected="ok")).passed
    read = "import os\nprint(os.path.exists('/dev/shm/note'))"
    result = await run(sandbox, read, expected="False")
    assert result.verdict is Verdict.AC, result.tests


async def test_project_and_hidden_data_are_not_visible(sandbox: Sandbox) -> None:
    needs_isolation(sandbox)
    here = Path(__file__).resolve()
    code = f"import os\nprint(os.path.exists({str(here)!r}), os.path.exists('/root/.ssh'))"
    result = await run(sandbox, code, expected="False False")
    assert result.verdict is Verdict.AC, result.tests


async def test_reading_the_callers_environment(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"s3cret-{uuid.uuid4().hex}"
    monkeypatch.setenv("ATLAS_TEST_SECRET", secret)
    code = (
        "import os\nfound = [k for k, v in os.environ.items() if 's3cret' in v]\n"
        "for pid in os.listdir('/proc'):\n    try:\n"
        "        if b's3cret' in open(f'/proc/{pid}/environ', 'rb').read():\n"
        "            found.append(pid)\n    except (OSError, ValueError):\n        pass\n"
        "print(os.environ.get('ATLAS_TEST_SECRET'), found)"
    )
    result = await run(sandbox, code, expected="None []")
    assert result.verdict is Verdict.AC, result.tests
    await assert_sandbox_healthy(sandbox)


def needs_a_shielded_worker(sandbox: Sandbox) -> None:
    if not sandbox.isolation.private_uids:
        pytest.skip("candidates share their worker's uid here (see `atlas-tui doctor`)")


async def test_killing_its_parent(sandbox: Sandbox) -> None:
    needs_a_shielded_worker(sandbox)
    code = (
        "import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\n"
        "except PermissionError:\n    print('refused')"
    )
    result = await run(sandbox, code, expected="refused")
    assert result.verdict is Verdict.AC, result.tests
    await assert_sandbox_healthy(sandbox)


async def test_killing_everything_it_can(sandbox: Sandbox) -> None:
    needs_a_shielded_worker(sandbox)  # else kill(-1) would reach the user's own processes
    code = "import os, signal\nos.kill(-1, signal.SIGKILL)\nprint('still here')"
    result = await run(sandbox, code, expected="still here")
    assert result.verdict is Verdict.AC, result.tests
    await assert_sandbox_healthy(sandbox)


async def test_background_child_does_not_outlive_the_run(sandbox: Sandbox) -> None:
    token = f"atlas-orphan-{uuid.uuid4().hex}"
    code = (
        "import subprocess, sys, os\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', "
        f"{token!r}], start_new_session=True, stdout=subprocess.DEVNULL)\n"
        # A double fork: the grandchild is orphaned at once.
        "if os.fork() == 0:\n    if os.fork() == 0:\n        os.setsid()\n"
        "        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(120)', "
        f"{token!r}])\n    os._exit(0)\n"
        "print('started')"
    )
    result = await run(sandbox, code, expected="started")
    assert result.verdict is Verdict.AC, result.tests
    assert host_processes_with(token) == []
    await assert_sandbox_healthy(sandbox)


async def test_late_writer_cannot_reach_the_next_run(sandbox: Sandbox) -> None:
    # A child that outlived its run would write into the next run's work dir.
    code = (
        "import os, time\nif os.fork() == 0:\n    time.sleep(1.0)\n"
        "    open('late.txt', 'w').write('late')\n    os._exit(0)\nprint('parent done')"
    )
    assert (await run(sandbox, code, expected="parent done")).passed
    probe = "import time, os\ntime.sleep(2.0)\nprint(os.path.exists('late.txt'))"
    assert (await run(sandbox, probe, expected="False")).passed


async def test_deep_recursion(sandbox: Sandbox) -> None:
    endless = "def f(n):\n    return f(n + 1)\nf(0)"
    result = await run(sandbox, endless)
    assert result.verdict is Verdict.RE and "RecursionError" in result.detail
    unbounded = (
        "import sys\nsys.setrecursionlimit(10 ** 8)\n"
        "from functools import lru_cache\n@lru_cache(None)\n"
        "def f(n):\n    return f(n + 1) + 1\nprint(f(0))"
    )
    crashed = await run(sandbox, unbounded, limits=SandboxLimits(wall_s=60.0))
    assert crashed.verdict in (Verdict.RE, Verdict.MLE)
    legit = (
        "import sys\nsys.setrecursionlimit(10 ** 6)\n"
        "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\nprint(depth(200000))"
    )
    ok = await run(sandbox, legit, expected="200000", limits=SandboxLimits(wall_s=60.0))
    assert ok.verdict is Verdict.AC, ok.tests
    await assert_sandbox_healthy(sandbox)


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        ("import os\nprint('ok', flush=True)\nos._exit(0)", Verdict.AC),
        ("import os\nprint('ok')\nos._exit(0)", Verdict.WA),  # unflushed output is lost
        ("import os\nprint('ok', flush=True)\nos._exit(7)", Verdict.RE),
        ("import os\nprint('ok', flush=True)\nos._exit(255)", Verdict.RE),
        ("import os\nprint('ok', flush=True)\nos._exit(-1)", Verdict.RE),
        (
            "import os, signal\nprint('ok', flush=True)\nos.kill(os.getpid(), signal.SIGSEGV)",
            Verdict.RE,
        ),
    ],
    ids=["exit0-flushed", "exit0-unflushed", "exit7", "exit255", "exit-1", "segv"],
)
async def test_os_exit_with_odd_codes(sandbox: Sandbox, code: str, verdict: Verdict) -> None:
    result = await run(sandbox, code, expected="ok")
    assert result.verdict is verdict, result.tests
    await assert_sandbox_healthy(sandbox)


async def test_closing_stdout(sandbox: Sandbox) -> None:
    closed_fd = await run(sandbox, "import os\nos.close(1)\nprint('ok')", expected="ok")
    assert closed_fd.verdict is Verdict.RE
    closed_file = await run(sandbox, "import sys\nsys.stdout.close()\nprint('ok')", expected="ok")
    assert closed_file.verdict is Verdict.RE and "ValueError" in closed_file.detail
    await assert_sandbox_healthy(sandbox)


async def test_invalid_utf8_output(sandbox: Sandbox) -> None:
    code = "import sys\nsys.stdout.buffer.write(b'\\xff\\xfe\\x80ok\\n')"
    result = await run(sandbox, code, expected="ok")
    assert result.verdict is Verdict.WA
    assert "ok" in result.tests[0].got and "\ufffd" in result.tests[0].got
    await assert_sandbox_healthy(sandbox)


async def test_reading_stdin_when_none_is_given(sandbox: Sandbox) -> None:
    result = await run(sandbox, "print(input())", given="", expected="x")
    assert result.verdict is Verdict.RE and "EOFError" in result.detail
    read_all = await run(sandbox, "import sys\nprint(len(sys.stdin.read()))", expected="0")
    assert read_all.verdict is Verdict.AC
    await assert_sandbox_healthy(sandbox)


async def test_too_many_open_files(sandbox: Sandbox) -> None:
    code = "files = []\nwhile True:\n    files.append(open('/dev/null'))"
    result = await run(sandbox, code, limits=SandboxLimits(open_files=64))
    assert result.verdict is Verdict.RE and "OSError" in result.detail
    await assert_sandbox_healthy(sandbox)


async def test_huge_file_is_ole(sandbox: Sandbox) -> None:
    code = "with open('big', 'wb') as f:\n    f.write(b'x' * (64 << 20))"
    result = await run(sandbox, code, limits=SandboxLimits(file_size_bytes=1 << 20))
    assert result.verdict is Verdict.OLE
    await assert_sandbox_healthy(sandbox)


async def test_stopping_its_parent(sandbox: Sandbox) -> None:
    needs_a_shielded_worker(sandbox)
    code = (
        "import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGSTOP)\n"
        "except PermissionError:\n    print('refused')"
    )
    result = await run(sandbox, code, expected="refused")
    assert result.verdict is Verdict.AC, result.tests
    await assert_sandbox_healthy(sandbox)


@pytest.mark.parametrize(
    "code",
    ["x = " + "-" * 200_000 + "1", "print('a')\x00", "x = " + "(" * 5000 + ")" * 5000],
    ids=["deep-unary", "nul-byte", "deep-parens"],
)
async def test_pathological_source_is_ce(sandbox: Sandbox, code: str) -> None:
    result = await run(sandbox, code)
    assert result.verdict is Verdict.CE, result.detail
    await assert_sandbox_healthy(sandbox)


# Scans every readable mapping of its own memory (it is forked from the server, so this is
# the server's memory too, as of the fork) for a token whose sha256 is given, never building
# the token itself; then tries the server's /proc files.
MEMORY_HUNT = """
import hashlib, os, re
def hunt(digest):
    found = []
    pattern = re.compile(rb"atlas-expected-[0-9a-f]{32}")
    with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
        for line in maps:
            span, perms = line.split()[:2]
            start, end = (int(x, 16) for x in span.split("-"))
            if "r" not in perms or end - start > (256 << 20):
                continue
            try:
                mem.seek(start)
                chunk = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            if any(hashlib.sha256(m.group()).hexdigest() == digest
                   for m in pattern.finditer(chunk)):
                found.append("memory")
                break
    parent = os.getppid()
    for name in ("environ", "cmdline", "mem", "fd/0", "fd/1"):
        try:
            with open(f"/proc/{parent}/{name}", "rb") as f:
                if any(hashlib.sha256(m.group()).hexdigest() == digest
                       for m in pattern.finditer(f.read(1 << 20))):
                    found.append(name)
        except OSError:
            pass
    return found
"""


async def test_the_expected_output_never_reaches_the_candidate(sandbox: Sandbox) -> None:
    secret = f"atlas-expected-{uuid.uuid4().hex}"
    digest = hashlib.sha256(secret.encode()).hexdigest()
    code = MEMORY_HUNT + f"print(hunt({digest!r}))"
    result = await run(sandbox, code, expected=secret)
    assert result.verdict is Verdict.WA
    assert result.tests[0].got.strip() == "[]"
    # The hunt itself works: the same token given as the test's input is found in memory.
    given = TestCase(secret, secret, TestKind.STDIN)
    seen = await sandbox.run(Program(code, TestKind.STDIN), [given], SHORT)
    assert seen.tests[0].got.strip() == "['memory']"


async def test_forging_the_servers_reply_is_refused(sandbox: Sandbox) -> None:
    needs_isolation(sandbox)
    code = (
        "import os\nparent = os.getppid()\nresults = []\n"
        "for name in ('fd/1', 'fd/0', 'mem'):\n"
        "    try:\n"
        "        with open(f'/proc/{parent}/{name}', 'wb') as f:\n"
        "            f.write(b'{\"timed_out\": false}\\n')\n"
        "        results.append('wrote ' + name)\n"
        "    except OSError:\n        results.append('refused')\n"
        "print(' '.join(results))"
    )
    result = await run(sandbox, code, expected="refused refused refused")
    assert result.verdict is Verdict.AC, result.tests
    await assert_sandbox_healthy(sandbox)
