"""Runs side by side on the problems they share: is a difference more than noise?

Each run's strict pass@1 is counted on the common problems only (a problem every run has and
that has tests to grade on; one a run did not finish counts as not solved there), with its
Wilson 95 % interval. Two runs on the same problems are paired, so each pair gets the problems
won and lost between them and McNemar's test on those discordant problems (exact for small
counts): two runs with the same score can still differ on many problems, and the test says
whether the split of wins and losses is more lopsided than chance.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

from engine.bench.report import NO_TESTS, BenchReport
from engine.bench.stats import mcnemar, percentile, wilson_interval


@dataclass(frozen=True, slots=True)
class RunColumn:
    label: str
    condition: str
    solved: int
    n: int
    pass_at_1: float
    ci_low: float
    ci_high: float
    tokens_mean: float
    tokens_median: float
    time_median_s: float
    grading_set: str


@dataclass(frozen=True, slots=True)
class PairResult:
    a: str
    b: str
    both: int
    a_only: int  # won by a, lost by b
    b_only: int
    neither: int
    p_value: float
    method: str  # "exact" or "chi2"
    a_only_ids: tuple[str, ...]
    b_only_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Comparison:
    common: tuple[str, ...]
    runs: tuple[RunColumn, ...]
    pairs: tuple[PairResult, ...]
    left_out: dict[str, int]  # label -> problems of that run not shared by all

    def to_json(self) -> dict[str, Any]:
        return {
            "common_problems": len(self.common),
            "problems": list(self.common),
            "runs": [asdict(r) for r in self.runs],
            "pairs": [asdict(p) for p in self.pairs],
            "left_out": self.left_out,
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2)

    def to_markdown(self) -> str:
        lines = [
            f"Strict pass@1 on the {len(self.common)} problems all runs share.",
            "",
            "| run | condition | solved | pass@1 | 95% CI | tokens/problem (mean, median) "
            "| time/problem (median) | graded on |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in self.runs:
            lines.append(
                f"| {r.label} | {r.condition or '?'} | {r.solved}/{r.n} | {r.pass_at_1:.1%} | "
                f"{r.ci_low:.1%} to {r.ci_high:.1%} | {r.tokens_mean:.0f}, "
                f"{r.tokens_median:.0f} | {r.time_median_s:.1f} s | {r.grading_set} |"
            )
        if self.pairs:
            lines += [
                "",
                "| A | B | both | A only | B only | neither | McNemar p |",
                "|---|---|---|---|---|---|---|",
            ]
            for p in self.pairs:
                lines.append(f"| {p.a} | {p.b} | {p.both} | {p.a_only} | {p.b_only} | "
                             f"{p.neither} | {p.p_value:.4g} ({p.method}) |")
        dropped = {k: v for k, v in self.left_out.items() if v}
        if dropped:
            lines += ["", "Left out (not in every run): " + ", ".join(
                f"{k} {v}" for k, v in dropped.items())]
        return "\n".join(lines) + "\n"


def pooled(reports: Sequence[BenchReport]) -> BenchReport:
    """Several runs of one condition on different datasets as one run (their problems side by
    side), for a paired test over all of them. Only what a comparison reads is pooled (the
    problems' rows and the counts); per-phase figures stay in each run's own report."""
    if not reports:
        raise ValueError("nothing to pool")
    conditions = {r.condition for r in reports}
    if len(conditions) > 1:
        raise ValueError(f"runs of different conditions ({', '.join(sorted(conditions))}) "
                         "cannot be pooled into one")
    ids = [row.problem_id for r in reports for row in r.rows]
    if len(set(ids)) != len(ids):
        raise ValueError("the runs share problem ids: pool runs on different datasets")
    return BenchReport(
        session_id="+".join(r.session_id for r in reports),
        title=" + ".join(r.title for r in reports),
        condition=reports[0].condition,
        n_problems=sum(r.n_problems for r in reports),
        n_finished=sum(r.n_finished for r in reports),
        n_solved=sum(r.n_solved for r in reports),
        n_oracle=sum(r.n_oracle for r in reports),
        n_oracle_known=sum(r.n_oracle_known for r in reports),
        n_public_fallback=sum(r.n_public_fallback for r in reports),
        n_no_tests=sum(r.n_no_tests for r in reports),
        rows=tuple(row for r in reports for row in r.rows),
    )


def compare_runs(reports: Sequence[BenchReport], labels: Sequence[str]) -> Comparison:
    """Compare runs (their reports, each with a label) on their common problems."""
    if len(reports) != len(labels) or len(set(labels)) != len(labels):
        raise ValueError("each run needs its own label")
    solved: list[dict[str, bool]] = []
    gradable: list[set[str]] = []
    for report in reports:
        gradable.append({r.problem_id for r in report.rows if r.verdict != NO_TESTS})
        solved.append({r.problem_id: r.verdict == "AC" for r in report.rows})
    order = [r.problem_id for r in reports[0].rows]
    shared = set.intersection(*gradable) if gradable else set()
    common = tuple(p for p in order if p in shared)

    columns = []
    for report, label, won in zip(reports, labels, solved, strict=True):
        rows = {r.problem_id: r for r in report.rows}
        n_solved = sum(won[p] for p in common)
        tokens = [rows[p].prompt_tokens + rows[p].completion_tokens for p in common]
        times = [rows[p].elapsed_s or 0.0 for p in common]
        low, high = wilson_interval(n_solved, len(common))
        columns.append(RunColumn(
            label=label, condition=report.condition, solved=n_solved, n=len(common),
            pass_at_1=n_solved / len(common) if common else 0.0, ci_low=low, ci_high=high,
            tokens_mean=sum(tokens) / len(tokens) if tokens else 0.0,
            tokens_median=percentile(tokens, 50) or 0.0,
            time_median_s=percentile(times, 50) or 0.0,
            grading_set=report.grading_set,
        ))

    pairs = []
    for i, j in combinations(range(len(reports)), 2):
        a_only = tuple(p for p in common if solved[i][p] and not solved[j][p])
        b_only = tuple(p for p in common if solved[j][p] and not solved[i][p])
        both = sum(solved[i][p] and solved[j][p] for p in common)
        p_value, method = mcnemar(len(a_only), len(b_only))
        pairs.append(PairResult(
            a=labels[i], b=labels[j], both=both, a_only=len(a_only), b_only=len(b_only),
            neither=len(common) - both - len(a_only) - len(b_only), p_value=p_value,
            method=method, a_only_ids=a_only, b_only_ids=b_only,
        ))
    left_out = {label: len(g - shared) for label, g in zip(labels, gradable, strict=True)}
    return Comparison(common, tuple(columns), tuple(pairs), left_out)
