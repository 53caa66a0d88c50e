"""Lens energy: each candidate embedded by the generating model and scored by the Lens.

Embeddings are collected even under the neutral Lens (its energies are all equal), because
they are what a Lens is later trained on. A backend that cannot embed is reported once and the
run goes on with equal energies."""

from __future__ import annotations

from collections.abc import Sequence

from engine import events as ev
from engine.lens.interface import EnergyScore
from engine.pipeline.context import Candidate, Run


async def score_energy(run: Run, candidates: Sequence[Candidate]) -> None:
    todo = [c for c in candidates if not c.energy_scored]
    if not todo or not run.config.lens_scoring:
        return
    model = run.backend.info.model
    vectors: list[list[float]] = []
    for candidate in todo:
        try:
            vector = await run.backend.embed(run.lens.feature_text(run.view, candidate.code))
        except Exception as exc:  # the backend retried already; selection goes on without it
            await run.error("embed", f"embedding failed, energies left equal: {exc}")
            run.config = run.config.with_overrides(lens_scoring=False)
            return
        vectors.append(vector)
        await run.emit(
            ev.CandidateEmbedded,
            candidate_id=candidate.id,
            dim=len(vector),
            model=model,
            vector=tuple(vector),
        )
    try:
        scores = run.lens.score(vectors, model)
    except Exception as exc:  # e.g. an artifact of another model: say so, select without it
        await run.error("lens", f"the Lens could not score, energies left equal: {exc}")
        run.config = run.config.with_overrides(lens_scoring=False)
        return
    for candidate, score in zip(todo, scores, strict=True):
        await _record(run, candidate, score)


async def probe_energy(run: Run, probe: Candidate | None) -> EnergyScore | None:
    """The probe's energy for adaptive k, only when a trained Lens can say something."""
    if probe is None or not run.lens.trained or not run.config.lens_scoring:
        return None
    await score_energy(run, [probe])
    if not probe.energy_scored:
        return None
    return EnergyScore(probe.energy, probe.pass_probability)


async def _record(run: Run, candidate: Candidate, score: EnergyScore) -> None:
    candidate.energy = score.energy
    candidate.pass_probability = score.pass_probability
    candidate.energy_scored = True
    await run.emit(
        ev.EnergyScored,
        candidate_id=candidate.id,
        energy=score.energy,
        pass_probability=score.pass_probability,
        lens=run.lens.name,
    )
