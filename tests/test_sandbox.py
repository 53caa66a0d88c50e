"""The sandbox's contract: harnesses, LiveCodeBench comparison, verdicts, limits, cancellation.

Every test runs real candidate programs in real worker processes under the best isolation tier
this machine offers."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path

import pytest
from support.processes import host_processes_with

from engine.problems.model import TestCase, TestKind
from engine.sandbox import (
    Program,
    Sandbox,
    SandboxLimits,
    Verdict,
    outputs_match,
)
from engine.sandbox.compare import compare_outputs, values_match

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def sandbox():
    async with await Sandbox.create(allow_rlimits_only=True, workers=2) as box:
        yield box


def stdin(code: str) -> Program:
    return Program(code, TestKind.STDIN)


def case(given: str, expected: str = "", kind: TestKind = TestKind.STDIN) -> TestCase:
    return TestCase(given, expected, kind)


# ---- comparison (pure) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "got", "match"),
    [
        ("1 2\n3\n", "1 2\n3", True),  # trailing newline
        ("1 2\n3", "  1 2  \n 3 \n\n", True),  # whole output and each line stripped
        ("1.5", "1.50", True),  # decimal equality
        ("1.5 2", "1.500 2.0", True),
        ("50000000000000000", "50000000000000001", False),  # no float closeness
        ("0.1", "0.10000001", False),
        ("Yes", "yes", False),
        ("1\n2", "1 2", False),  # line count differs
        ("1\n\n2", "1\n2", False),  # an inner empty line counts
        ("a b", "a  b", False),  # text lines compare exactly after stripping
        ("1 2", "1  2", True),  # ...but as numbers spacing does not matter
        ("", "", True),
        ("", "\n\n", True),
    ],
)
def test_outputs_match_follows_livecodebench(expected: str, got: str, match: bool) -> None:
    assert outputs_match(expected, got) is match


def test_compare_outputs_says_where() -> None:
    matched, reason = compare_outputs("1\n2\n3", "1\n5\n3")
    assert not matched and reason.startswith("line 2")
    matched, reason = compare_outputs("1\n2", "1")
    assert "expected 2 line(s), got 1" in reason


def test_atol_tolerance() -> None:
    assert outputs_match("0.3333", "0.33333333", atol=1e-3)
    assert not outputs_match("0.3333", "0.34", atol=1e-3)
    assert values_match([1.0, 2.0], [1.0000001, 2.0], atol=1e-6)
    assert not values_match([1.0, 2.0], [1.1, 2.0], atol=1e-6)
    assert values_match(3, 3.0)
    assert not values_match([1, 2], [2, 1])


# ---- stdin programs -----------------------------------------------------------------------


async def test_stdin_program_ac_and_wa(sandbox: Sandbox) -> None:
    program = stdin("a, b = map(int, input().split())\nprint(a + b)")
    result = await sandbox.run(program, [case("1 2\n", "3\n"), case("2 2\n", "5\n")])
    assert [t.verdict for t in result.tests] == [Verdict.AC, Verdict.WA]
    assert result.verdict is Verdict.WA and result.n_passed == 1
    wrong = result.tests[1]
    assert wrong.got == "4\n" and wrong.expected == "5\n" and wrong.input == "2 2\n"
    assert "line 1" in wrong.detail
    assert result.tier is sandbox.tier


@pytest.mark.parametrize(
    "code",
    [
        "import sys\nprint(sum(int(x) for x in sys.stdin.read().split()))",
        "print(sum(map(int, open(0).read().split())))",
        "import sys\ntotal = 0\nfor line in sys.stdin:\n    total += sum(map(int, line.split()))\n"
        "print(total)",
        "import sys\nn = int(sys.stdin.readline())\nrest = sys.stdin.read().split()\n"
        "print(n + sum(map(int, rest)))",
        "import sys\ndata = sys.stdin.buffer.read().split()\nprint(sum(map(int, data)))",
        # Threads with a bigger stack, as competitive programmers do for deep recursion.
        "import sys, threading\ndef main():\n    print(sum(map(int, sys.stdin.read().split())))\n"
        "threading.stack_size(64 * 1024 * 1024)\nt = threading.Thread(target=main)\nt.start()\n"
        "t.join()",
        "import os\nprint(sum(map(int, os.read(0, 1 << 20).split())))",
    ],
    ids=["read", "open0", "for-line", "readline-then-read", "buffer", "thread", "os.read"],
)
async def test_stdin_behaves_like_a_real_judge(sandbox: Sandbox, code: str) -> None:
    result = await sandbox.run(stdin(code), [case("3\n1 2\n4\n", "10\n")])
    assert result.verdict is Verdict.AC, result.tests[0]


async def test_livecodebench_imports_are_available(sandbox: Sandbox) -> None:
    # LiveCodeBench's grader star-imports the usual modules in front of the program.
    code = (
        "q = deque([3, 1, 2])\nh = list(q)\nheapify(h)\n"
        "print(heappop(h), gcd(12, 18), bisect_left([1, 2, 3], 2), sqrt(16), pow(2, 10, 1000))\n"
        "print(len(list(permutations([1, 2, 3]))), Counter('aab')['a'], reduce(add, [1, 2, 3]))"
    )
    result = await sandbox.run(stdin(code), [case("", "1 6 1 4.0 24\n6 2 6")])
    assert result.verdict is Verdict.AC, result.tests[0]


async def test_prelude_names_resolve_inside_functions_and_can_be_rebound(
    sandbox: Sandbox,
) -> None:
    code = (
        "input = sys.stdin.readline\n"
        "def solve():\n    n = int(input())\n    return sum(accumulate(range(n)))\n"
        "class Box:\n    def get(self):\n        return defaultdict(int)['x']\n"
        "print(solve(), Box().get())"
    )
    result = await sandbox.run(stdin(code), [case("4\n", "10 0")])
    assert result.verdict is Verdict.AC, result.tests[0]
    method = functional(
        "class Solution:\n    def f(self, xs: List[int]) -> int:\n"
        "        return max(accumulate(xs, operator.add))",
        "f",
    )
    assert (await sandbox.run(method, [fcase([[1, -2, 5]], 4)])).passed


async def test_program_runs_as_main(sandbox: Sandbox) -> None:
    code = "def main():\n    print(input()[::-1])\nif __name__ == '__main__':\n    main()"
    result = await sandbox.run(stdin(code), [case("abc\n", "cba")])
    assert result.verdict is Verdict.AC


async def test_syntax_error_is_ce_and_stops(sandbox: Sandbox) -> None:
    result = await sandbox.run(stdin("print(("), [case("", "x"), case("", "y")])
    assert result.verdict is Verdict.CE
    assert len(result.tests) == 1 and "SyntaxError" in result.detail


async def test_runtime_error_reports_exception_and_stderr(sandbox: Sandbox) -> None:
    result = await sandbox.run(stdin("x = [1]\nprint(x[5])"), [case("", "1")])
    test = result.tests[0]
    assert result.verdict is Verdict.RE
    assert "IndexError" in test.detail and "IndexError" in test.stderr_tail
    assert "solution.py" in test.stderr_tail  # the traceback names the line


async def test_exit_codes(sandbox: Sandbox) -> None:
    tests = [case("", "ok")]
    assert (await sandbox.run(stdin("print('ok')\nexit()"), tests)).verdict is Verdict.AC
    assert (await sandbox.run(stdin("import sys\nprint('ok')\nsys.exit(0)"), tests)).passed
    nonzero = await sandbox.run(stdin("import sys\nprint('ok')\nsys.exit(3)"), tests)
    assert nonzero.verdict is Verdict.RE and "exit status 3" in nonzero.detail
    message = await sandbox.run(stdin("import sys\nsys.exit('bad input')"), tests)
    assert message.verdict is Verdict.RE and "bad input" in message.tests[0].stderr_tail


async def test_stop_on_first_failure(sandbox: Sandbox) -> None:
    program = stdin("print(input())")
    tests = [case("1\n", "1"), case("2\n", "3"), case("3\n", "3")]
    full = await sandbox.run(program, tests)
    short = await sandbox.run(program, tests, stop_on_first_failure=True)
    assert [t.verdict for t in full.tests] == [Verdict.AC, Verdict.WA, Verdict.AC]
    assert [t.verdict for t in short.tests] == [Verdict.AC, Verdict.WA]


async def test_compare_false_captures_whole_output(sandbox: Sandbox) -> None:
    program = stdin("n = int(input())\nprint('x' * n)")
    result = await sandbox.run(program, [case("5000\n"), case("3\n")], compare=False)
    assert result.verdict is Verdict.AC
    assert result.tests[0].got == "x" * 5000 + "\n"  # not truncated: differential testing
    assert result.tests[1].got == "xxx\n"


async def test_fresh_process_per_test(sandbox: Sandbox) -> None:
    # State does not leak between tests: each test gets its own process.
    code = "import sys\nsys.modules.setdefault('seen', [])\nprint(len(globals().get('c', [])))"
    result = await sandbox.run(stdin(code), [case("", "0"), case("", "0")])
    assert result.passed


async def test_files_in_the_work_dir_do_not_survive_a_test(sandbox: Sandbox) -> None:
    code = (
        "import os\nprint(os.path.exists('note.txt'))\n"
        "open('note.txt', 'w').write('hi')\nprint(open('note.txt').read())"
    )
    result = await sandbox.run(stdin(code), [case("", "False\nhi"), case("", "False\nhi")])
    assert result.passed, result.tests


# ---- functional tests ---------------------------------------------------------------------


def functional(code: str, name: str) -> Program:
    return Program(code, TestKind.FUNCTIONAL, func_name=name)


def fcase(args: list, expected: object) -> TestCase:
    return TestCase(
        "\n".join(json.dumps(a) for a in args), json.dumps(expected), TestKind.FUNCTIONAL
    )


async def test_solution_method(sandbox: Sandbox) -> None:
    code = (
        "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n"
        "        seen = {}\n        for i, x in enumerate(nums):\n"
        "            if target - x in seen:\n                return [seen[target - x], i]\n"
        "            seen[x] = i\n"
    )
    program = functional(code, "twoSum")
    result = await sandbox.run(
        program, [fcase([[2, 7, 11, 15], 9], [0, 1]), fcase([[3, 2, 4], 6], [2, 1])]
    )
    assert [t.verdict for t in result.tests] == [Verdict.AC, Verdict.WA]
    assert result.tests[0].got == "[0, 1]"


async def test_plain_function_and_tuple_answer(sandbox: Sandbox) -> None:
    program = functional("def divmod2(a, b):\n    return a // b, a % b", "divmod2")
    result = await sandbox.run(program, [fcase([7, 2], [3, 1])])
    assert result.verdict is Verdict.AC  # a tuple answer compares as a list


async def test_functional_input_tolerates_a_trailing_newline(sandbox: Sandbox) -> None:
    program = functional("def add(a, b):\n    return a + b", "add")
    given = TestCase("1\n2\n", "3", TestKind.FUNCTIONAL)
    assert (await sandbox.run(program, [given])).passed
    no_args = functional("def answer():\n    return 42", "answer")
    assert (await sandbox.run(no_args, [TestCase("", "42", TestKind.FUNCTIONAL)])).passed


async def test_functional_exit_is_re(sandbox: Sandbox) -> None:
    program = functional("import sys\ndef f(x):\n    sys.exit(0)", "f")
    result = await sandbox.run(program, [fcase([1], 1)])
    assert result.verdict is Verdict.RE and "during the call" in result.detail


async def test_missing_entry_point_is_ce(sandbox: Sandbox) -> None:
    program = functional("class Solution:\n    def other(self):\n        return 1", "wanted")
    result = await sandbox.run(program, [fcase([], 1), fcase([], 1)])
    assert result.verdict is Verdict.CE and len(result.tests) == 1
    assert "wanted" in result.tests[0].detail


async def test_functional_exception_and_prints(sandbox: Sandbox) -> None:
    program = functional("def f(x):\n    print('debug', x)\n    return 10 // x", "f")
    result = await sandbox.run(program, [fcase([5], 2), fcase([0], 0)])
    assert [t.verdict for t in result.tests] == [Verdict.AC, Verdict.RE]
    assert "ZeroDivisionError" in result.tests[1].detail


async def test_functional_atol(sandbox: Sandbox) -> None:
    program = Program("def third(x):\n    return x / 3", TestKind.FUNCTIONAL, "third", atol=1e-6)
    result = await sandbox.run(program, [fcase([1], 0.3333333)])
    assert result.passed
    exact = functional("def third(x):\n    return x / 3", "third")
    assert (await sandbox.run(exact, [fcase([1], 0.3333333)])).verdict is Verdict.WA


# ---- assert tests -------------------------------------------------------------------------


async def test_humaneval_style_check(sandbox: Sandbox) -> None:
    program = Program("def add(a, b):\n    return a + b", TestKind.ASSERT)
    check = (
        "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(0, 0) == 0\n"
    )
    wrong = "def check(candidate):\n    assert candidate(1, 2) == 4, 'one plus two'"
    result = await sandbox.run(
        program,
        [
            case(check + "\ncheck(add)", kind=TestKind.ASSERT),
            case(wrong + "\ncheck(add)", kind=TestKind.ASSERT),
        ],
    )
    assert [t.verdict for t in result.tests] == [Verdict.AC, Verdict.WA]
    assert "one plus two" in result.tests[1].detail


async def test_mbpp_style_setup_and_asserts(sandbox: Sandbox) -> None:
    program = Program(
        "def area(r):\n    return math.pi * r * r", TestKind.ASSERT, test_setup="import math"
    )
    result = await sandbox.run(
        program, [case("assert round(area(1), 2) == 3.14", kind=TestKind.ASSERT)]
    )
    assert result.passed, result.tests


async def test_exit_before_asserts_is_not_a_pass(sandbox: Sandbox) -> None:
    program = Program("import sys\ndef f():\n    return 1\nsys.exit(0)", TestKind.ASSERT)
    result = await sandbox.run(program, [case("assert f() == 2", kind=TestKind.ASSERT)])
    assert result.verdict is Verdict.RE


# ---- limits -------------------------------------------------------------------------------


async def test_wall_timeout_is_tle(sandbox: Sandbox) -> None:
    limits = SandboxLimits(wall_s=1.0)
    result = await sandbox.run(stdin("import time\ntime.sleep(30)"), [case("", "")], limits)
    assert result.verdict is Verdict.TLE


async def test_cpu_limit_is_tle(sandbox: Sandbox) -> None:
    # A generous wall limit: even on a loaded machine the CPU limit is what ends it.
    limits = SandboxLimits(wall_s=60.0, cpu_s=1.0)
    result = await sandbox.run(stdin("while True:\n    pass"), [case("", "")], limits)
    assert result.verdict is Verdict.TLE and "CPU" in result.detail


async def test_memory_limit_is_mle(sandbox: Sandbox) -> None:
    limits = SandboxLimits(memory_mb=256)
    code = "x = bytearray(400 * 1024 * 1024)\nprint(len(x))"
    result = await sandbox.run(stdin(code), [case("", "0")], limits)
    assert result.verdict is Verdict.MLE


async def test_output_limit_is_ole(sandbox: Sandbox) -> None:
    limits = SandboxLimits(output_bytes=100_000)
    result = await sandbox.run(stdin("while True:\n    print('x' * 1000)"), [case("", "")], limits)
    assert result.verdict is Verdict.OLE


async def test_peak_memory_is_measured(sandbox: Sandbox) -> None:
    code = "x = bytearray(100 << 20)\nfor i in range(0, len(x), 4096):\n    x[i] = 1\nprint(1)"
    result = await sandbox.run(stdin(code), [case("", "1")])
    assert result.passed and result.tests[0].peak_memory_mb >= 100


# ---- concurrency and cancellation ---------------------------------------------------------


async def test_runs_in_parallel_share_the_pool(sandbox: Sandbox) -> None:
    program = stdin("print(int(input()) * 2)")
    runs = [sandbox.run(program, [case(f"{i}\n", f"{2 * i}")]) for i in range(8)]
    results = await asyncio.gather(*runs)
    assert all(r.passed for r in results)


async def test_cancelling_a_run_kills_it_and_the_sandbox_goes_on(sandbox: Sandbox) -> None:
    token = f"atlas-cancel-{uuid.uuid4().hex}"
    code = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', {token!r}])\n"
        "time.sleep(120)"
    )
    task = asyncio.create_task(sandbox.run(stdin(code), [case("", "")]))
    for _ in range(600):  # until the candidate's child is running
        await asyncio.sleep(0.1)
        if host_processes_with(token):
            break
    assert host_processes_with(token), "the candidate never started"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(300):  # SIGKILL is asynchronous: give the kernel a moment
        if not host_processes_with(token):
            break
        await asyncio.sleep(0.1)
    assert host_processes_with(token) == []
    result = await sandbox.run(stdin("print(1)"), [case("", "1")])
    assert result.passed


async def test_string_hashing_is_the_same_in_every_worker() -> None:
    # Set order of strings depends on the hash seed: one fixed seed gives one verdict.
    program = stdin("print(''.join(set('abcdefghij')))")
    outputs = set()
    for _ in range(2):
        async with await Sandbox.create(allow_rlimits_only=True, workers=1) as box:
            result = await box.run(program, [case("")], compare=False)
            outputs.add(result.tests[0].got)
    assert len(outputs) == 1


async def test_multiprocessing_works(sandbox: Sandbox) -> None:
    code = (
        "from multiprocessing import Pool\n"
        "if __name__ == '__main__':\n"
        "    with Pool(2) as pool:\n"
        "        print(sum(pool.map(abs, [-1, -2, -3])))"
    )
    result = await sandbox.run(stdin(code), [case("", "6")])
    assert result.verdict is Verdict.AC, result.tests[0]


THREADS = (
    "import threading, time\n"
    "threads = [threading.Thread(target=time.sleep, args=(0.3,)) for _ in range(30)]\n"
    "for t in threads:\n    t.start()\nfor t in threads:\n    t.join()\nprint('done')"
)


async def test_many_threads_fit_the_default_limits(sandbox: Sandbox) -> None:
    # glibc's per-thread malloc arenas would eat the address-space limit without
    # MALLOC_ARENA_MAX: 30 threads must not be an MLE or a failed thread start.
    result = await sandbox.run(stdin(THREADS), [case("", "done")])
    assert result.verdict is Verdict.AC, result.tests[0]


async def test_process_limit_counts_threads(sandbox: Sandbox) -> None:
    if os.geteuid() == 0 and not sandbox.isolation.private_uids:
        pytest.skip("the kernel exempts root from RLIMIT_NPROC, and candidates run as root here")
    limits = SandboxLimits(processes=8)
    result = await sandbox.run(stdin(THREADS), [case("", "done")], limits)
    assert result.verdict is Verdict.RE and "can't start new thread" in result.detail


async def test_cancelling_while_a_worker_starts_leaves_nothing() -> None:
    before = living_children()
    box = await Sandbox.create(allow_rlimits_only=True, workers=1)
    task = asyncio.create_task(box.run(stdin("print(1)"), [case("", "1")]))
    await asyncio.sleep(0.01)  # the run is now starting its worker
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await box.close()
    assert living_children() - before == set()


def living_children() -> set[int]:
    """This process's children that are still running (zombies excluded)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            state, parent = stat[stat.rfind(b")") + 2 :].split()[:2]
            if int(parent) == os.getpid() and state != b"Z":
                found.add(int(entry))
    return found
