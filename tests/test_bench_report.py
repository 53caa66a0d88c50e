"""The report's per-phase figures on scripted runs match their events, `bench compare` on two
stored runs with known outcomes gives the figures computed by hand, the ATLAS export and the
date window say what they should, and the self-test check runs the reference in the sandbox."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_bench import PerProblemSolver, _problems
from test_task import BACKEND, PROBLEM, RIGHT, WRONG, Config, SubprocessGrader

from atlas_tui.cli import main
from engine import events as ev
from engine.bench import bench_report, run_bench
from engine.bench.compare import compare_runs
from engine.bench.export import atlas_task
from engine.bench.selfcheck import check_selftests
from engine.bench.stats import mcnemar, percentile, wilson_interval
from engine.bench.window import in_window
from engine.problems.model import ProblemView
from engine.sandbox import Sandbox
from engine.store import Store


class PhasedSolver:
    """Per problem id, a scripted story: which candidates each phase made, which generations
    stopped how, which self-tests were kept, and which candidate was submitted."""

    async def __call__(self, view: ProblemView, backend: Any, sandbox: Any, config: Any,
                       emit: Any, gates: Any = None, lens: Any = None) -> None:
        t = view.id
        story = view.id.split("-")[0]

        async def candidate(cid: str, origin: str, code: str, parent: str | None = None) -> None:
            await emit(ev.CandidateCreated(task_id=t, candidate_id=cid, origin=origin,
                                           code=code, parent_id=parent))

        async def generation(sid: str, reason: str, prompt: int, completion: int) -> None:
            await emit(ev.GenerationFinished(task_id=t, stream_id=sid, prompt_tokens=prompt,
                                             completion_tokens=completion,
                                             finish_reason=reason))

        async def submit(cid: str, code: str, phase: str) -> None:
            await emit(ev.CandidateSelected(task_id=t, candidate_id=cid, reason="scripted"))
            await emit(ev.AnswerSubmitted(task_id=t, candidate_id=cid, code=code, phase=phase))

        if story == "probe":  # the probe is right and goes in
            await generation("g1", "stop", 100, 50)
            await candidate("c1", "probe", RIGHT)
            await submit("c1", RIGHT, "probe")
        elif story == "select":  # selection picks a right plan over a wrong probe
            await generation("g1", "stop", 100, 100)
            await generation("g2", "loop", 100, 400)
            await candidate("c1", "probe", WRONG)
            await candidate("c2", "plan", RIGHT)
            for sid, text in (("s1", "3\n"), ("s2", "4\n")):
                await emit(ev.TestAdded(task_id=t, test_id=sid, kind="self", input=text,
                                        expected="6\n" if sid == "s1" else "9\n",
                                        origin="agreement"))
            await emit(ev.TestsGenerated(task_id=t, kept=("s1", "s2"), discarded=("s3",)))
            await submit("c2", RIGHT, "plan")
        elif story == "repair":  # the probe is wrong, its repair is right
            await generation("g1", "length", 200, 1000)
            await candidate("c1", "probe", WRONG)
            await candidate("c2", "repair", RIGHT, parent="c1")
            await submit("c2", RIGHT, "repair")
        elif story == "hurt":  # selection trades a right probe for a wrong plan
            await generation("g1", "stop", 100, 300)
            await candidate("c1", "probe", RIGHT)
            await candidate("c2", "plan", WRONG)
            await submit("c2", WRONG, "plan")


STORIES = ("probe-1", "select-1", "repair-1", "hurt-1")


def _story_problems() -> list[Any]:
    out = []
    for i, pid in enumerate(STORIES):
        out.append(dataclasses.replace(
            PROBLEM, id=pid, title=pid, difficulty="easy" if i < 2 else "hard",
            metadata={"platform": "atcoder" if i % 2 else "leetcode",
                      "contest_date": f"2024-0{i + 1}-15"},
            references=(RIGHT,)))
    return out


async def test_the_per_phase_figures_match_the_scripted_events(tmp_path: Path) -> None:
    grader = SubprocessGrader()
    with Store(tmp_path / "run.sqlite") as store:
        run = await run_bench(_story_problems(), BACKEND, None, Config(), store,
                              solver=PhasedSolver(), grader=grader)
        report = bench_report(store, run.session_id)
    assert (report.n_solved, report.n_gradable) == (3, 4)
    assert report.answers_by_phase == {"probe": 1, "plan": 2, "repair": 1}
    assert report.solved_by_phase == {"probe": 1, "plan": 1, "repair": 1}
    assert (report.repair_answers, report.rescued_by_repair, report.rescues_unknown) == (1, 1, 0)
    assert (report.changed_by_selection, report.selection_helped, report.selection_hurt) == (
        2, 1, 1)
    assert (report.selftests_generated, report.selftests_kept, report.selftests_discarded) == (
        3, 2, 1)
    assert (report.generations, report.loop_stops, report.length_stops) == (5, 1, 1)
    # tokens per problem: 150, 700, 1200, 400 -> median 550, p90 1050 (linear between ranks)
    assert (report.tokens_median, report.tokens_p90) == (550, pytest.approx(1050))
    assert report.by_difficulty == {"easy": (2, 2), "hard": (1, 2)}
    assert report.by_platform == {"leetcode": (2, 2), "atcoder": (1, 2)}
    assert report.grading_set == "hidden tests"
    rows = {r.problem_id: r for r in report.rows}
    assert rows["repair-1"].rescued_by_repair is True and rows["repair-1"].answer_origin == "repair"
    assert rows["select-1"].changed_by_selection is True and rows["select-1"].selftests_kept == 2
    assert rows["probe-1"].changed_by_selection is False
    text = report.to_text()
    assert "answers by phase: plan 2, probe 1, repair 1" in text
    assert "repair: 1 answers, 1 rescued" in text
    assert "selection changed 2 answers away from the probe: 1 helped, 1 hurt" in text
    assert "1 stopped by the loop guard, 1 at their token limit" in text
    assert "by platform: atcoder 1/2, leetcode 2/2" in text
    assert "95% CI" in text and "PUBLIC" not in text


async def test_without_the_oracle_a_rescue_is_unknown_not_guessed(tmp_path: Path) -> None:
    with Store(tmp_path / "run.sqlite") as store:
        run = await run_bench(_story_problems(), BACKEND, None, Config(), store, oracle=False,
                              solver=PhasedSolver(), grader=SubprocessGrader())
        report = bench_report(store, run.session_id)
    assert (report.rescued_by_repair, report.rescues_unknown) == (0, 1)
    assert (report.selection_helped, report.selection_hurt) == (0, 0)
    assert report.changed_by_selection == 2  # known from the events alone


async def test_a_run_graded_on_public_examples_says_so_loudly(tmp_path: Path) -> None:
    public_only = [dataclasses.replace(p, hidden_tests=()) for p in _story_problems()]

    class PublicGrader(SubprocessGrader):
        async def __call__(self, problem: Any, code: str, sandbox: Any) -> Any:
            result = await super().__call__(
                dataclasses.replace(problem, hidden_tests=problem.public_tests), code, sandbox)
            return dataclasses.replace(result, used_public_fallback=True)

    with Store(tmp_path / "run.sqlite") as store:
        run = await run_bench(public_only, BACKEND, None, Config(), store, solver=PhasedSolver(),
                              grader=PublicGrader())
        report = bench_report(store, run.session_id)
    assert report.grading_set == "PUBLIC EXAMPLES ONLY"
    assert "!!! GRADED ON PUBLIC EXAMPLES ONLY" in report.to_text()


async def test_kept_self_tests_are_checked_against_the_reference_after_the_run(
        tmp_path: Path) -> None:
    problems = _story_problems()
    with Store(tmp_path / "run.sqlite") as store:
        run = await run_bench(problems, BACKEND, None, Config(), store, solver=PhasedSolver(),
                              grader=SubprocessGrader())
        report = bench_report(store, run.session_id)
        async with await Sandbox.create(allow_rlimits_only=True) as sandbox:
            checked, per_problem = await check_selftests(
                store, report, {p.id: p for p in problems}, sandbox)
    # s1: 3 -> 6 is what the reference prints; s2: 4 -> 9 is not.
    assert [(c.problem_id, c.checked, c.correct) for c in per_problem] == [("select-1", 2, 1)]
    assert (checked.selftests_checked, checked.selftests_correct) == (2, 1)
    assert "1/2 kept ones correct by the dataset's reference" in checked.to_text()


async def _run_with(path: Path, right: set[str], prefix: str = "p") -> None:
    grader = SubprocessGrader()
    problems = [dataclasses.replace(p, id=p.id.replace("p", prefix)) for p in _problems(6)]
    with Store(path) as store:
        await run_bench(problems, BACKEND, None, Config(), store,
                        solver=PerProblemSolver(right, grader), grader=grader)


async def test_compare_gives_the_figures_computed_by_hand(tmp_path: Path) -> None:
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    await _run_with(a, {"p1", "p2", "p3"})
    await _run_with(b, {"p2", "p4"})
    reports = []
    for path in (a, b):
        with Store(path, readonly=True) as store:
            reports.append(bench_report(store, store.sessions("bench")[0].session_id))
    comparison = compare_runs(reports, ["a", "b"])
    assert comparison.common == ("p1", "p2", "p3", "p4", "p5", "p6")
    run_a, run_b = comparison.runs
    assert (run_a.solved, run_a.n, run_b.solved) == (3, 6, 2)
    # Wilson 95% for 3/6: centre 0.5, half-width 1.96*sqrt(.25/6 + 1.96²/144) / (1 + 1.96²/6)
    z = 1.959963984540054
    half = z * math.sqrt(0.25 / 6 + z * z / 144) / (1 + z * z / 6)
    assert (run_a.ci_low, run_a.ci_high) == (pytest.approx(0.5 - half), pytest.approx(0.5 + half))
    [pair] = comparison.pairs
    assert (pair.both, pair.a_only, pair.b_only, pair.neither) == (1, 2, 1, 2)
    assert pair.a_only_ids == ("p1", "p3") and pair.b_only_ids == ("p4",)
    # exact McNemar on 2 vs 1: 2 * P(X <= 1 | n=3, p=1/2) = 2 * 4/8 = 1
    assert (pair.p_value, pair.method) == (1.0, "exact")

    result = CliRunner().invoke(main, ["bench", "compare", str(a), str(b), "--json",
                                       str(tmp_path / "c.json")])
    assert result.exit_code == 0, result.output
    assert "| a | b | 1 | 2 | 1 | 2 | 1 (exact) |" in result.output
    assert "| a | D | 3/6 | 50.0% | 18.8% to 81.2% |" in result.output
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["common_problems"] == 6 and data["pairs"][0]["a_only"] == 2


async def test_compare_pools_one_condition_over_two_datasets(tmp_path: Path) -> None:
    """`a1.sqlite+a2.sqlite`: one run over both datasets' problems, for one paired test."""
    a1, b1, a2, b2 = (tmp_path / f"{n}.sqlite" for n in ("a1", "b1", "a2", "b2"))
    await _run_with(a1, {"p1", "p2", "p3"})
    await _run_with(b1, {"p2", "p4"})
    await _run_with(a2, {"q1"}, prefix="q")
    await _run_with(b2, {"q1", "q2", "q3", "q4"}, prefix="q")
    result = CliRunner().invoke(main, ["bench", "compare", f"{a1}+{a2}", f"{b1}+{b2}",
                                       "--json", str(tmp_path / "c.json")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["common_problems"] == 12
    assert [(r["label"], r["solved"]) for r in data["runs"]] == [("a1+a2", 4), ("b1+b2", 6)]
    [pair] = data["pairs"]
    # a wins p1, p3; b wins p4, q2, q3, q4; both p2, q1: exact McNemar on 2 vs 4
    assert (pair["both"], pair["a_only"], pair["b_only"], pair["neither"]) == (2, 2, 4, 4)
    assert pair["p_value"] == pytest.approx(2 * (1 + 6 + 15) / 64)

    refused = CliRunner().invoke(main, ["bench", "compare", f"{a1}+{b1}", str(a2)])
    assert refused.exit_code != 0 and "share problem ids" in refused.output
    missing = CliRunner().invoke(main, ["bench", "compare", f"{a1}+{tmp_path / 'no.sqlite'}",
                                        str(a2)])
    assert missing.exit_code != 0 and "no store file" in missing.output


def test_mcnemar_and_wilson_match_published_values() -> None:
    # exact: 2 * (C(12,0) + C(12,1) + C(12,2)) / 2**12 = 2 * 79 / 4096
    assert mcnemar(10, 2) == (pytest.approx(158 / 4096), "exact")
    # chi-squared with continuity correction: (|30 - 10| - 1)² / 40 = 9.025 -> p = 0.002663
    p, method = mcnemar(30, 10)
    assert method == "chi2" and p == pytest.approx(0.002663, abs=2e-6)
    assert mcnemar(0, 0) == (1.0, "exact")
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    assert wilson_interval(0, 10)[1] == pytest.approx(0.2775, abs=1e-4)  # the textbook value
    assert percentile([1, 2, 3, 4], 50) == 2.5 and percentile([], 90) is None


async def test_export_writes_atlas_per_task_files(tmp_path: Path) -> None:
    with Store(tmp_path / "run.sqlite") as store:
        run = await run_bench(_story_problems(), BACKEND, None, Config(), store,
                              solver=PhasedSolver(), grader=SubprocessGrader())
        report = bench_report(store, run.session_id)
    rows = {r.problem_id: atlas_task(r) for r in report.rows}
    assert rows["repair-1"] == {"task_id": "repair-1", "passed": True, "code": RIGHT,
                                "phase_solved": "repair", "candidates_generated": 2,
                                "total_tokens": 1200,
                                "total_time_ms": pytest.approx(
                                    rows["repair-1"]["total_time_ms"])}
    assert rows["hurt-1"]["passed"] is False and rows["hurt-1"]["phase_solved"] == "none"
    result = CliRunner().invoke(main, ["bench", "export", str(tmp_path / "run.sqlite"),
                                       "--atlas", str(tmp_path / "per_task")])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "per_task").iterdir())
    assert files == sorted(f"{pid}.json" for pid in STORIES)
    written = json.loads((tmp_path / "per_task" / "probe-1.json").read_text())
    assert set(written) == {"task_id", "passed", "code", "phase_solved",
                            "candidates_generated", "total_tokens", "total_time_ms"}


def test_the_date_window_keeps_problems_within_both_ends() -> None:
    problems = [*_story_problems(), dataclasses.replace(PROBLEM, id="undated")]
    kept, undated = in_window(problems, dt.date(2024, 2, 15), dt.date(2024, 3, 15))
    assert [p.id for p in kept] == ["select-1", "repair-1"] and undated == ["undated"]
    assert in_window(problems, None, None) == (problems, [])


def test_report_command_reads_a_stored_run(tmp_path: Path) -> None:
    import asyncio

    out = tmp_path / "run.sqlite"

    async def make() -> None:
        with Store(out) as store:
            await run_bench(_story_problems(), BACKEND, None, Config(), store,
                            solver=PhasedSolver(), grader=SubprocessGrader())

    asyncio.run(make())
    result = CliRunner().invoke(main, ["bench", "report", str(out), "--json",
                                       str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    assert "strict pass@1: 3/4 = 75.0%" in result.output
    assert json.loads((tmp_path / "r.json").read_text())["answers_by_phase"]["plan"] == 2
    missing = CliRunner().invoke(main, ["bench", "report", str(out), "--check-selftests"])
    assert missing.exit_code == 1 and "needs the run's dataset" in missing.output


@pytest.mark.data
def test_every_livecodebench_row_has_a_date_the_window_reads(shared_data: Path) -> None:
    from engine.problems import load

    problems = load(shared_data / "livecodebench" / "lcb_v5_880_public.jsonl.gz").problems
    kept, undated = in_window(problems, dt.date(2024, 8, 1), None)
    assert undated == [] and 0 < len(kept) < len(problems)
    assert all(p.metadata["contest_date"] >= "2024-08-01" for p in kept)
