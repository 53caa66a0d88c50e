"""The Lens judged across datasets: trained on the candidates of runs on one dataset, evaluated on
the problems of another, with hidden-test labels only, beside the random and shortest-code
baselines, and as a selector (pass@1) against the answers the runs submitted.

`study` does the work, `markdown` writes the figures; `bench/lens_real.py` is the command.
Small data is reported, not fatal: a figure that cannot be computed is "n/a" with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from engine.lens.artifact import LensArtifact, LensArtifactError, LensMismatchError
from engine.lens.collect import collect
from engine.lens.dataset import LensDataError, LensDataset
from engine.lens.evaluate import EvalReport, evaluate
from engine.lens.features import DEFAULT_POOLING
from engine.lens.gate import GateVerdict, ranking_gate
from engine.lens.metrics import mixed_problems
from engine.lens.replay import Replays, TaskReplay, pick, replay_store
from engine.lens.train import TrainConfig, train

_ERRORS = (LensDataError, LensArtifactError, LensMismatchError)


@dataclass(frozen=True, slots=True)
class Counts:
    candidates: int
    problems: int
    mixed: int  # problems with both passing and failing candidates
    passing: int
    failing: int


@dataclass(frozen=True, slots=True)
class PassAt1:
    problems: int
    submitted: int
    lens: int | None  # None: no trained Lens
    shortest: int
    random: float  # expected passes of a uniform choice in each pool
    oracle: int
    with_choice: int  # problems whose pool holds two candidates or more
    lens_changed: int  # problems where the Lens picks another candidate than the run submitted
    lens_unscored: int  # pools of 2+ without an embedded candidate: the submitted answer stands
    tie_break: int | None  # the pipeline's own ranking with the energy as its tie-breaker
    with_ties: int  # problems where two or more candidates tie on everything before the energy


@dataclass(slots=True)
class Study:
    train_paths: list[Path]
    eval_paths: list[Path]
    model: str = ""
    dim: int = 0
    train_counts: Counts | None = None
    eval_counts: Counts | None = None
    artifact: LensArtifact | None = None
    report: EvalReport | None = None
    gate: GateVerdict | None = None
    pass_at_1: PassAt1 | None = None
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> tasks left out
    notes: list[str] = field(default_factory=list)  # why a figure is missing


def _load(paths: list[Path], model: str | None, pooling: str) -> LensDataset:
    from engine.store import Store

    merged: LensDataset | None = None
    for path in paths:
        with Store(path, readonly=True) as store:
            data = collect(store, model=model, pooling=pooling)
        merged = data if merged is None else merged.merged(data)
    assert merged is not None
    return merged.labelled("hidden")


def _counts(data: LensDataset) -> Counts:
    passed = data.labels["hidden"]
    return Counts(
        candidates=len(data),
        problems=len(data.problems()),
        mixed=len(mixed_problems(data.problem, passed)),
        passing=int((passed == 1).sum()),
        failing=int((passed == 0).sum()),
    )


def _replays(paths: list[Path]) -> Replays:
    from engine.store import Store

    tasks: list[TaskReplay] = []
    skipped = []
    for path in paths:
        with Store(path, readonly=True) as store:
            found = replay_store(store)
        tasks += found.tasks
        skipped += found.skipped
    return Replays(tasks, skipped)


def study(
    train_paths: list[Path],
    eval_paths: list[Path],
    *,
    config: TrainConfig | None = None,
    model: str | None = None,
    pooling: str = DEFAULT_POOLING,
) -> Study:
    """Train on `train_paths`' problems, evaluate on `eval_paths`' problems (hidden labels)."""
    out = Study(list(train_paths), list(eval_paths))
    config = replace(config or TrainConfig(), label_source="hidden")
    try:
        train_data = _load(out.train_paths, model, pooling)
        out.train_counts = _counts(train_data)
        out.model, out.dim = train_data.spec.model, train_data.spec.dim
    except _ERRORS as exc:
        train_data = None
        out.notes.append(f"no training data: {exc}")
    try:
        eval_data: LensDataset | None = _load(out.eval_paths, model or out.model or None, pooling)
        assert eval_data is not None
        out.eval_counts = _counts(eval_data)
        out.model, out.dim = out.model or eval_data.spec.model, out.dim or eval_data.spec.dim
    except _ERRORS as exc:
        eval_data = None
        out.notes.append(f"no evaluation data: {exc}")
    if train_data is not None:
        try:
            out.artifact = train(train_data, config)
        except _ERRORS as exc:
            out.notes.append(f"the Lens was not trained: {exc}")
    if out.artifact is not None and eval_data is not None:
        try:
            out.report = evaluate(out.artifact, eval_data, "hidden")
        except _ERRORS as exc:
            out.notes.append(f"the Lens was not evaluated: {exc}")
    if out.report is not None and out.artifact is not None:
        heldout = out.report.heldout()
        out.gate = ranking_gate(heldout)
        # The artifact's stored held-out evaluation is the one on the other dataset: the gate
        # reads it wherever the artifact is used (save it with bench/lens_real.py --save).
        out.artifact.record = replace(out.artifact.record, heldout=heldout)
    replays = _replays(out.eval_paths)
    for s in replays.skipped:
        out.skipped[s.reason] = out.skipped.get(s.reason, 0) + 1
    energy = _energies(out.artifact, eval_data) if out.report is not None else None
    out.pass_at_1 = _pass_at_1(replays.tasks, energy)
    return out


def _energies(
    artifact: LensArtifact | None, data: LensDataset | None
) -> dict[tuple[str, str], float] | None:
    if artifact is None or data is None or not len(data):
        return None
    energy = artifact.energies(data.vectors)
    return {
        (t, c): float(e)
        for t, c, e in zip(data.task.tolist(), data.candidate.tolist(), energy, strict=True)
    }


def _pass_at_1(tasks: list[TaskReplay], energy: dict[tuple[str, str], float] | None) -> PassAt1:
    lens_passes, changed, unscored, shortest, tie_break = 0, 0, 0, 0, 0
    for t in tasks:
        shortest += t.passed(pick(t, _length_of(t)) or t.submitted)
        if energy is None:
            continue
        tie_break += t.passed(pick(t, _energy_of(t, energy), among=t.ties) or t.submitted)
        chosen = t.pool[0] if len(t.pool) == 1 else pick(t, _energy_of(t, energy))
        if chosen is None:
            unscored += 1
            chosen = t.submitted
        lens_passes += t.passed(chosen)
        changed += chosen != t.submitted
    return PassAt1(
        problems=len(tasks),
        submitted=sum(t.submitted_passed for t in tasks),
        lens=lens_passes if energy is not None else None,
        shortest=shortest,
        random=float(sum(t.pool_pass_rate() for t in tasks)),
        oracle=sum(t.oracle for t in tasks),
        with_choice=sum(len(t.pool) >= 2 for t in tasks),
        lens_changed=changed,
        lens_unscored=unscored,
        tie_break=tie_break if energy is not None else None,
        with_ties=sum(len(t.ties) >= 2 for t in tasks),
    )


def _length_of(t: TaskReplay) -> Callable[[str], float | None]:
    return lambda c: float(t.code_chars.get(c, 0))


def _energy_of(
    t: TaskReplay, energy: dict[tuple[str, str], float]
) -> Callable[[str], float | None]:
    return lambda c: energy.get((t.task, c))


# --- the figures, as Markdown ---------------------------------------------------------------


def _num(value: float, why: str) -> str:
    return f"n/a ({why})" if math.isnan(value) else f"{value:.3f}"


def _share(passes: float, total: int) -> str:
    if total == 0:
        return "n/a (no problems)"
    count = f"{passes:.1f}" if isinstance(passes, float) else str(passes)
    return f"{count}/{total} ({100 * passes / total:.1f} %)"


def _counts_line(counts: Counts | None) -> str:
    if counts is None:
        return "none"
    return (
        f"{counts.candidates} candidates ({counts.passing} pass / {counts.failing} fail) of "
        f"{counts.problems} problems, {counts.mixed} with both passing and failing candidates"
    )


def markdown(s: Study) -> str:
    names = lambda paths: ", ".join(p.name for p in paths)  # noqa: E731
    lines = [
        f"Lens on real embeddings: trained on {names(s.train_paths)}, "
        f"evaluated on {names(s.eval_paths)}",
        "",
        f"- model: {s.model or 'unknown'} ({s.dim} dims); labels: hidden tests only",
        f"- training: {_counts_line(s.train_counts)}",
        f"- evaluation: {_counts_line(s.eval_counts)}",
    ]
    if s.artifact is not None:
        r = s.artifact.record
        lines.append(
            f"- trained {r.epochs} epochs, seed {r.seed}, on {r.device} in {r.elapsed_s:.1f} s "
            f"({r.calibration_problems} training problems held out for calibration)"
        )
    lines += [f"- {note}" for note in s.notes]
    lines += [
        "",
        "| scorer | AUROC | AUROC within problems | selection accuracy |",
        "|---|---|---|---|",
    ]
    rep = s.report
    if rep is None:
        lines.append("| Lens | n/a (not evaluated) | n/a | n/a |")
    else:
        one_class = "only one class among the candidates"
        no_mixed = "no problem with both passing and failing candidates"
        rows = (("Lens", rep.lens), ("random", rep.random), ("shortest code", rep.shortest))
        for name, f in rows:
            lines.append(
                f"| {name} | {_num(f.auroc, one_class)} | {_num(f.auroc_within, no_mixed)} | "
                f"{_num(f.selection_accuracy, no_mixed)} |"
            )
        if rep.mixed_problems < 10:
            lines += [
                "",
                f"Only {rep.mixed_problems} evaluation problems have both passing and failing "
                "candidates: the within-problem figures are mostly noise.",
            ]
    lines += ["", f"Gate: {_gate_line(s.gate)}"]
    p = s.pass_at_1
    if p is not None:
        lines += [
            "",
            f"pass@1 over the {p.problems} evaluation problems (hidden tests); the Lens and "
            "shortest code choose among the pipeline's candidates with the best public-example "
            f"score ({p.with_choice} problems offer a choice of two or more):",
            "",
            "| selection | pass@1 |",
            "|---|---|",
            f"| (a) the answer the run submitted | {_share(p.submitted, p.problems)} |",
            "| (b) lowest Lens energy | "
            + (
                "n/a (no trained and evaluated Lens)"
                if p.lens is None
                else f"{_share(p.lens, p.problems)}; differs from (a) on {p.lens_changed}"
                + (f", {p.lens_unscored} unembedded pools kept (a)" if p.lens_unscored else "")
            )
            + " |",
            f"| (c) shortest code | {_share(p.shortest, p.problems)} |",
            "| (d) the pipeline's ranking, Lens energy breaking its ties "
            f"(problems with a tie: {p.with_ties}) | "
            + (
                "n/a (no trained and evaluated Lens)"
                if p.tie_break is None
                else _share(p.tie_break, p.problems)
            )
            + " |",
            f"| random choice (expected) | {_share(p.random, p.problems)} |",
            f"| ceiling: any candidate passes (not a result) | {_share(p.oracle, p.problems)} |",
        ]
    if s.skipped:
        left = "; ".join(f"{n} {why}" for why, n in sorted(s.skipped.items()))
        lines += ["", f"Evaluation tasks left out of pass@1: {left}."]
    return "\n".join(lines) + "\n"


def _gate_line(gate: GateVerdict | None) -> str:
    if gate is None:
        return "not judged (no evaluation on held-out problems); the Lens would not rank."
    verdict = "the Lens may rank" if gate.decides else "the Lens stays out of decisions"
    return f"{verdict}: {gate.reason}."
