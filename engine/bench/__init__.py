"""The benchmark: many tasks, bounded concurrency, resume from the store, a report."""

from engine.bench.report import CEILING_LABEL, BenchReport, TaskRow, bench_report
from engine.bench.runner import BENCH_KIND, BenchError, BenchRun, bench_session, run_bench

__all__ = [
    "BENCH_KIND",
    "CEILING_LABEL",
    "BenchError",
    "BenchReport",
    "BenchRun",
    "TaskRow",
    "bench_report",
    "bench_session",
    "run_bench",
]
