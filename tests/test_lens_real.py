"""The Lens judged across datasets (bench/lens_real.py, engine.lens.crossdata and
engine.lens.replay) on small stores whose figures are worked out by hand below."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from engine import events as ev
from engine.lens.crossdata import PassAt1, _pass_at_1, markdown, study
from engine.lens.metrics import auroc
from engine.lens.replay import replay_store
from engine.lens.train import TrainConfig
from engine.store import Store

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parent.parent
MODEL = "m.gguf"
PASS, FAIL = (1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0)
QUICK = TrainConfig(hidden=16, epochs=40, lr=3e-3, seed=0, device="cpu")


@dataclasses.dataclass
class Cand:
    cid: str
    chars: int
    public: str  # "1/1" or "0/1": the examples part the pipeline's ranking recorded
    hidden: str | None  # "AC", "WA" or None (not graded)
    vector: tuple[float, ...] | None = None
    selftests: str = ""  # the self-tests part of the ranking ("" as when there were none)


def _task(
    store: Store,
    session: str,
    problem: str,
    cands: list[Cand],
    submitted: str,
    *,
    ranked: bool = True,
    fallback: bool = False,
    oracle_any_pass: bool | None = None,
) -> None:
    task = store.new_task(session, problem)
    items: list[ev.Event] = [
        ev.TaskStarted(task_id="", title=problem, condition="full", model=MODEL),
        ev.TestAdded(
            task_id="", test_id="e1", kind="public", input="1", expected="2", origin="statement"
        ),
    ]
    for c in cands:
        items.append(
            ev.CandidateCreated(task_id="", candidate_id=c.cid, origin="plan", code="x" * c.chars)
        )
        verdict = "AC" if c.public.startswith("1") else "WA"
        items.append(ev.TestRun(task_id="", candidate_id=c.cid, test_id="e1", verdict=verdict))
        if c.vector is not None:
            items.append(
                ev.CandidateEmbedded(
                    task_id="", candidate_id=c.cid, dim=len(c.vector), model=MODEL, vector=c.vector
                )
            )
    if ranked:
        items += [
            ev.CandidateScored(
                task_id="",
                candidate_id=c.cid,
                score=1.0,
                parts=json.dumps({"examples": c.public, "self_tests": c.selftests}),
            )
            for c in cands
        ]
    items.append(ev.CandidateSelected(task_id="", candidate_id=submitted, reason="test"))
    for c in cands:
        if c.hidden is not None:
            items.append(
                ev.CandidateGraded(
                    task_id="", candidate_id=c.cid, verdict=c.hidden, passed=0, total=1
                )
            )
    verdict = next(c.hidden for c in cands if c.cid == submitted) or "WA"
    items.append(
        ev.Graded(
            task_id="",
            candidate_id=submitted,
            verdict=verdict,
            passed=int(verdict == "AC"),
            total=1,
            oracle_any_pass=oracle_any_pass,
            used_public_fallback=fallback,
        )
    )
    store.append_many(
        [dataclasses.replace(e, task_id=task, seq=i) for i, e in enumerate(items, start=1)]
    )


def _eval_store(path: Path) -> Path:
    """Four judged problems and one graded on public examples.

    q1: a (10 chars, examples 1/1, self-tests 1/2, passes), b (5, 1/1, 2/2, fails),
        c (3, 0/1, fails); b submitted (best on self-tests). The pool after the examples is
        {a, b}: shortest code picks b (fails), a random pick passes half the time; nothing ties
        with b before the energy, so the Lens as the pipeline's tie-breaker keeps b.
    q2: a (20, 1/1, passes), b (30, 1/1, passes); b submitted. Shortest picks a (passes).
    q3: a (12, 0/1, fails), b (9, 1/1, fails); b submitted, no candidate passed. Pool {b}.
    q4: graded on public examples (no hidden tests): left out.
    q5: one probe, never ranked nor embedded (an early exit), passes.
    Candidates: q1 a b c, q2 a b, q3 a b: 7 embedded, 3 pass / 4 fail, 3 problems, 1 mixed.
    """
    with Store(path) as store:
        session = store.new_session("bench")
        _task(store, session, "q1", [
            Cand("a", 10, "1/1", "AC", PASS, "1/2"), Cand("b", 5, "1/1", "WA", FAIL, "2/2"),
            Cand("c", 3, "0/1", "WA", FAIL, "0/2"),
        ], "b")
        _task(store, session, "q2", [
            Cand("a", 20, "1/1", "AC", PASS), Cand("b", 30, "1/1", "AC", PASS),
        ], "b")
        _task(store, session, "q3", [
            Cand("a", 12, "0/1", "WA", FAIL), Cand("b", 9, "1/1", "WA", FAIL),
        ], "b", oracle_any_pass=False)
        _task(store, session, "q4", [
            Cand("a", 4, "1/1", "AC", PASS), Cand("b", 4, "1/1", "WA", FAIL),
        ], "a", fallback=True)
        _task(store, session, "q5", [Cand("c1", 7, "1/1", "AC")], "c1", ranked=False)
    return path


def _train_store(path: Path, problems: int = 8) -> Path:
    """Every problem mixed; passing candidates embed along one axis, failing along another."""
    rng = np.random.default_rng(0)
    with Store(path) as store:
        session = store.new_session("bench")
        for p in range(problems):
            cands = []
            for i, hidden in enumerate(("AC", "WA", "AC", "WA")):
                base = np.array(PASS if hidden == "AC" else FAIL)
                vector = tuple((base + rng.normal(0, 0.05, 4)).tolist())
                cands.append(Cand(f"c{i}", 10 + i, "1/1", hidden, vector))
            _task(store, session, f"h{p}", cands, "c0")
    return path


def test_replay_finds_the_pipelines_pool_and_hidden_labels(tmp_path: Path) -> None:
    with Store(_eval_store(tmp_path / "eval.sqlite"), readonly=True) as store:
        found = replay_store(store)
    by = {t.problem: t for t in found.tasks}
    assert sorted(by) == ["q1", "q2", "q3", "q5"]
    assert [(s.problem, s.reason) for s in found.skipped] == [
        ("q4", "graded on public examples (no hidden tests)")
    ]
    assert by["q1"].pool == ("a", "b") and by["q1"].considered == ("a", "b", "c")
    assert by["q1"].ties == ("b",) and by["q2"].ties == ("a", "b")
    assert by["q3"].pool == ("b",) and by["q3"].hidden == {"a": 0, "b": 0}
    assert by["q5"].pool == ("c1",)  # no ranking: fractions from the example runs
    assert [by[p].submitted_passed for p in ("q1", "q2", "q3", "q5")] == [False, True, False, True]


def test_pass_at_1_of_each_selector_by_hand(tmp_path: Path) -> None:
    with Store(_eval_store(tmp_path / "eval.sqlite"), readonly=True) as store:
        tasks = replay_store(store).tasks
    ids = {t.problem: t.task for t in tasks}
    # q1: c has the lowest energy but is not in the pool (fails an example): a wins, passes,
    #     unlike the submitted b; as the pipeline's tie-breaker it has no tie to break (b).
    # q2: a tie, the earlier (a) wins: passes, and differs from the submitted b.
    energy = {
        (ids["q1"], "a"): 0.1, (ids["q1"], "b"): 0.9, (ids["q1"], "c"): 0.0,
        (ids["q2"], "a"): 0.5, (ids["q2"], "b"): 0.5,
        (ids["q3"], "a"): 0.0, (ids["q3"], "b"): 1.0,
    }
    assert _pass_at_1(tasks, energy) == PassAt1(
        problems=4, submitted=2, lens=3, shortest=2, random=2.5, oracle=3, with_choice=2,
        lens_changed=2, lens_unscored=0, tie_break=2, with_ties=1,
    )
    # q1's pool without energies: the submitted answer stands, and is counted
    partial = {k: v for k, v in energy.items() if k[0] != ids["q1"]}
    result = _pass_at_1(tasks, partial)
    assert (result.lens, result.lens_unscored, result.lens_changed) == (2, 1, 1)
    reversed_ = {k: -v for k, v in energy.items()}  # q1 picks b (fails), q2 still a tie
    assert _pass_at_1(tasks, reversed_).lens == 2
    assert _pass_at_1(tasks, None).lens is None


def test_the_study_trains_on_one_store_and_judges_on_the_other(tmp_path: Path) -> None:
    train_path = _train_store(tmp_path / "train.sqlite")
    eval_path = _eval_store(tmp_path / "eval.sqlite")
    result = study([train_path], [eval_path], config=QUICK)
    assert not result.notes
    assert result.train_counts is not None and result.eval_counts is not None
    assert (result.train_counts.candidates, result.train_counts.mixed) == (32, 8)
    c = result.eval_counts
    assert (c.candidates, c.passing, c.failing, c.problems, c.mixed) == (7, 3, 4, 3, 1)
    report = result.report
    assert report is not None and result.artifact is not None
    # baselines, by hand: random 0.5 / 0.5 / 1/3 (q1: one of three passes);
    # shortest: pass lengths 10, 20, 30 vs fail 5, 3, 12, 9 -> only 10 < 12 of 12 pairs
    assert (report.random.auroc, report.random.auroc_within) == (0.5, 0.5)
    assert report.random.selection_accuracy == pytest.approx(1 / 3)
    assert report.shortest.auroc == pytest.approx(1 / 12)
    assert (report.shortest.auroc_within, report.shortest.selection_accuracy) == (0.0, 0.0)
    # the Lens's figures are the metrics of its energies on the evaluation candidates
    assert report.lens.auroc == auroc(report.energy, report.passed)
    assert report.lens.auroc == 1.0  # the planted axis carries over to the other store
    assert report.lens.selection_accuracy == 1.0
    assert result.gate is not None and result.gate.decides
    assert result.artifact.record.heldout["shortest_auroc"] == pytest.approx(1 / 12)
    p = result.pass_at_1
    assert p is not None
    assert (p.problems, p.submitted, p.shortest, p.random, p.oracle) == (4, 2, 2, 2.5, 3)
    assert p.lens == 3  # q1 picks a (PASS-like), q2 either passes, q3 and q5 have one choice
    assert p.tie_break == 2  # q1 keeps b, q2 either passes
    text = markdown(result)
    assert "| random | 0.500 | 0.500 | 0.333 |" in text
    assert "| shortest code | 0.083 | 0.000 | 0.000 |" in text
    assert "| Lens | 1.000 | 1.000 | 1.000 |" in text
    assert "7 candidates (3 pass / 4 fail) of 3 problems, 1 with both" in text
    assert "| (a) the answer the run submitted | 2/4 (50.0 %) |" in text
    assert "| (b) lowest Lens energy | 3/4 (75.0 %); differs from (a) on 2 |" in text
    assert "Lens energy breaking its ties (problems with a tie: 1) | 2/4 (50.0 %) |" in text
    assert "| (c) shortest code | 2/4 (50.0 %) |" in text
    assert "| random choice (expected) | 2.5/4 (62.5 %) |" in text
    assert "| ceiling: any candidate passes (not a result) | 3/4 (75.0 %) |" in text
    assert "Evaluation tasks left out of pass@1: 1 graded on public examples" in text
    assert "Gate: the Lens may rank" in text


def test_small_data_is_reported_never_a_crash(tmp_path: Path) -> None:
    with Store(tmp_path / "fails.sqlite") as store:  # one problem, every candidate fails
        _task(store, store.new_session("bench"), "h0", [
            Cand("a", 3, "1/1", "WA", FAIL), Cand("b", 4, "1/1", "WA", FAIL),
        ], "a", oracle_any_pass=False)
    with Store(tmp_path / "unmixed.sqlite") as store:  # nothing mixed to rank within
        _task(store, store.new_session("bench"), "q0", [
            Cand("a", 3, "1/1", "AC", PASS), Cand("b", 4, "1/1", "AC", PASS),
        ], "a")
        _task(store, store.new_session("bench"), "q1", [Cand("a", 3, "1/1", "WA", FAIL)], "a")
    result = study([tmp_path / "fails.sqlite"], [tmp_path / "unmixed.sqlite"], config=QUICK)
    assert result.artifact is None and result.report is None and result.gate is None
    text = markdown(result)
    assert "the Lens was not trained: training needs passing and failing" in text
    assert "| Lens | n/a (not evaluated) | n/a | n/a |" in text
    assert "| (b) lowest Lens energy | n/a (no trained and evaluated Lens) |" in text
    assert "Gate: not judged" in text
    # a trained Lens on evaluation data without any mixed problem: n/a with the reason
    result = study([_train_store(tmp_path / "train.sqlite")], [tmp_path / "unmixed.sqlite"],
                   config=QUICK)
    text = markdown(result)
    assert "n/a (no problem with both passing and failing candidates)" in text
    assert result.gate is not None and not result.gate.decides
    # a store without embeddings is a note, not a crash
    with Store(tmp_path / "empty.sqlite") as store:
        store.new_session("bench")
    result = study([tmp_path / "empty.sqlite"], [tmp_path / "unmixed.sqlite"], config=QUICK)
    assert any("holds no candidate embeddings" in n for n in result.notes)
    assert "n/a" in markdown(result)


def test_the_command_prints_writes_and_saves(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    spec = importlib.util.spec_from_file_location("lens_real", ROOT / "bench" / "lens_real.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    train_path = _train_store(tmp_path / "train.sqlite")
    eval_path = _eval_store(tmp_path / "eval.sqlite")
    out, lens = tmp_path / "figures.md", tmp_path / "cross.lens"
    code = module.main([
        "--train", str(train_path), "--eval", str(eval_path), "--markdown", str(out),
        "--save", str(lens), "--epochs", "40", "--hidden", "16",
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed == out.read_text()
    assert "| random | 0.500 | 0.500 | 0.333 |" in printed
    from engine.lens.scorer import GeometricLens

    saved = GeometricLens.load(lens)
    assert saved.artifact.record.heldout["problems"] == 3.0  # the other dataset's problems
    assert saved.gate.decides == ("Gate: the Lens may rank" in printed)
