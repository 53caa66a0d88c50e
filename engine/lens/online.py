"""Online recalibration: after each task, the Lens's pass probabilities learn from the newly
labelled candidates. Opt-in (benchmarks leave it off, so a run's figures do not depend on the
order its tasks finished in).

What changes is the calibration (energy -> probability), not the network: the energies of
earlier candidates stay comparable, and a bad update can be undone by refitting.

The guard against drifting on a handful of samples:
- nothing changes until at least `min_samples` new labels from `min_problems` different
  problems, with passes and fails among them, have come in since the last update;
- every refit pools the new samples with all earlier ones and with the held-out set the
  artifact was calibrated on, so a few odd tasks move the curve only in proportion to their
  share of everything seen;
- candidates of problems the Lens was trained on are ignored (their energies are
  over-confident, being in-sample).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engine import events as ev
from engine.lens.calibration import Platt
from engine.lens.collect import samples_of_task
from engine.lens.dataset import LensDataset
from engine.lens.scorer import GeometricLens


@dataclass(frozen=True, slots=True)
class RecalibrationGuard:
    min_samples: int = 20
    min_problems: int = 4


@dataclass(frozen=True, slots=True)
class RecalibrationResult:
    used: int  # new labelled samples accepted this time
    pending: int  # waiting for enough evidence
    updated: bool
    platt: Platt


class OnlineRecalibrator:
    """Feeds finished tasks' labelled candidates into a Lens's calibration."""

    def __init__(
        self,
        lens: GeometricLens,
        *,
        save_to: str | Path | None = None,
        guard: RecalibrationGuard = RecalibrationGuard(),
    ) -> None:
        self.lens = lens
        self.save_to = Path(save_to) if save_to is not None else None
        self.guard = guard
        self._energy: list[float] = []
        self._passed: list[int] = []
        self._problems: set[str] = set()

    @property
    def pending(self) -> int:
        return len(self._energy)

    def observe(self, data: LensDataset) -> RecalibrationResult:
        """Take one task's (or several tasks') embedded candidates; labels of the artifact's
        own label source are used, others ignored. Refits when the guard allows."""
        artifact = self.lens.artifact
        artifact.check(data.spec)
        data = data.labelled(artifact.record.label_source)
        trained_on = set(artifact.record.problems)
        fresh = [p for p in data.problems() if p not in trained_on]
        data = data.of_problems(fresh)
        if len(data):
            self._energy += artifact.energies(data.vectors).tolist()
            self._passed += data.labels[artifact.record.label_source].tolist()
            self._problems.update(fresh)
        if not self._enough():
            return RecalibrationResult(len(data), self.pending, False, artifact.platt)
        artifact.online_energy = np.concatenate(
            [artifact.online_energy, np.asarray(self._energy, np.float32)]
        )
        artifact.online_passed = np.concatenate(
            [artifact.online_passed, np.asarray(self._passed, np.int8)]
        )
        artifact.platt = Platt.fit(
            np.concatenate([artifact.calibration_energy, artifact.online_energy]),
            np.concatenate([artifact.calibration_passed, artifact.online_passed]),
        )
        artifact.online_updates += 1
        self._energy, self._passed, self._problems = [], [], set()
        if self.save_to is not None:
            artifact.save(self.save_to)
        return RecalibrationResult(len(data), 0, True, artifact.platt)

    def observe_task(
        self,
        problem_id: str,
        events: Sequence[ev.Event],
        vectors: Mapping[str, Sequence[float]] | None = None,
    ) -> RecalibrationResult:
        """One finished task's log. The vectors are those its `CandidateEmbedded` events carry
        (as emitted, before the store moves them to its table), or given (from the store)."""
        embedded = [e for e in events if isinstance(e, ev.CandidateEmbedded)]
        if vectors is None:
            vectors = {e.candidate_id: e.vector for e in embedded if e.vector}
        task_id = events[0].task_id if events else ""
        samples = samples_of_task(problem_id, task_id, events, vectors)
        if not samples:
            return RecalibrationResult(0, self.pending, False, self.lens.artifact.platt)
        spec = replace(
            self.lens.artifact.spec,
            model=embedded[0].model if embedded else self.lens.artifact.spec.model,
            dim=len(samples[0].vector),
        )
        return self.observe(LensDataset.from_rows(spec, samples))

    def _enough(self) -> bool:
        labels = set(self._passed)
        return (
            len(self._energy) >= self.guard.min_samples
            and len(self._problems) >= self.guard.min_problems
            and labels == {0, 1}
        )
