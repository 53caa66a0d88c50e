"""The trained Lens as the pipeline sees it: an `EnergyScorer` over one artifact.

The energies are always computed and shown. They take part in decisions (the last tie-breaker
of selection's ranking, adaptive k, the budget tier) only when the artifact's stored held-out
evaluation beat both baselines, random and shortest code, on AUROC and selection accuracy
(`engine.lens.gate`); otherwise `decides` is False and the Lens's name says "shown only".
Adaptive k and the budget tier further need skill on problems it did not train on (held-out
AUROC at least `skill_floor`): a Lens that has not earned trust does not get to cut a problem's
compute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.lens.artifact import LensArtifact, LensMismatchError
from engine.lens.features import FeatureSpec
from engine.lens.gate import SHOWN_ONLY, GateVerdict, ranking_gate
from engine.lens.interface import EnergyScore, EnergyScorer, NeutralLens, candidate_text
from engine.lens.metrics import auroc
from engine.lens.paths import default_artifact_path
from engine.llm.base import BudgetTier
from engine.problems.model import ProblemView

_TIERS = list(BudgetTier)
ONLINE_EVIDENCE = 50  # online samples after which their AUROC, not the held-out one, counts


class GeometricLens:
    """A trained C(x): energies, calibrated pass probabilities, adaptive k and tier."""

    trained = True

    def __init__(
        self,
        artifact: LensArtifact,
        *,
        skill_floor: float = 0.6,
        confident: float = 0.8,
        doubtful: float = 0.2,
        max_k: int = 16,
    ) -> None:
        self.artifact = artifact
        self.skill_floor = skill_floor
        self.confident = confident
        self.doubtful = doubtful
        self.max_k = max_k

    @classmethod
    def load(cls, path: str | Path) -> GeometricLens:
        """The Lens saved at `path`, with the default thresholds."""
        return cls(LensArtifact.load(path))

    @property
    def gate(self) -> GateVerdict:
        """Whether this Lens may take part in decisions, and why (engine.lens.gate)."""
        return ranking_gate(self.artifact.record.heldout)

    @property
    def decides(self) -> bool:
        return self.gate.decides

    @property
    def name(self) -> str:
        name = self.artifact.name
        return name if self.decides else f"{name} ({SHOWN_ONLY})"

    @property
    def has_skill(self) -> bool:
        """Held-out AUROC at least `skill_floor`; once online recalibration has seen
        `ONLINE_EVIDENCE` labelled candidates, their AUROC decides instead (a Lens that stops
        working on the user's own problems loses its say over k and the tier)."""
        artifact = self.artifact
        if len(artifact.online_energy) >= ONLINE_EVIDENCE:
            measured = auroc(artifact.online_energy, artifact.online_passed)
        else:
            measured = artifact.record.heldout.get("auroc", math.nan)
        return measured >= self.skill_floor  # NaN (never measured) is not skill

    def feature_text(self, view: ProblemView, code: str) -> str:
        return candidate_text(view, code)

    def score(self, embeddings: Sequence[Sequence[float]], model: str) -> list[EnergyScore]:
        if not embeddings:
            return []
        vectors = np.asarray(embeddings, dtype=np.float32)
        if vectors.ndim != 2:
            raise LensMismatchError("embeddings must all have the same length")
        spec = self.artifact.spec
        self.artifact.check(
            FeatureSpec(
                model=model,
                dim=vectors.shape[1],
                pooling=spec.pooling,
                text_version=spec.text_version,
            )
        )
        energy = self.artifact.energies(vectors)
        prob = self.artifact.platt.probability(energy)
        return [
            EnergyScore(energy=float(e), pass_probability=float(p))
            for e, p in zip(energy, prob, strict=True)
        ]

    def _verdict(self, probe: EnergyScore | None) -> int:
        """+1 likely solved, -1 likely hard, 0 no opinion."""
        if (
            probe is None
            or probe.pass_probability is None
            or not self.decides
            or not self.has_skill
        ):
            return 0
        if probe.pass_probability >= self.confident:
            return 1
        if probe.pass_probability <= self.doubtful:
            return -1
        return 0

    def suggest_k(self, probe_energy: EnergyScore | None, default_k: int) -> int:
        match self._verdict(probe_energy):
            case 1:
                return max(1, math.ceil(default_k / 2))
            case -1:
                return max(default_k, min(self.max_k, default_k * 2))
            case _:
                return default_k

    def suggest_tier(self, probe_energy: EnergyScore | None, default: BudgetTier) -> BudgetTier:
        if default is BudgetTier.NONE:  # a model that does not think stays that way
            return default
        step = -self._verdict(probe_energy)  # likely solved: lighter; likely hard: harder
        index = min(max(_TIERS.index(default) + step, 1), len(_TIERS) - 1)
        return _TIERS[index]


def lens_for(model: str, path: str | Path | None = None) -> EnergyScorer:
    """The Lens to use with `model`: the artifact at `path` (or the model's default place) if
    there is one, else the neutral Lens. An artifact of another model is refused loudly."""
    where = Path(path) if path is not None else default_artifact_path(model)
    if path is None and not where.is_file():
        return NeutralLens()
    lens = GeometricLens.load(where)
    lens.artifact.check(
        FeatureSpec(model=model, dim=lens.artifact.spec.dim, pooling=lens.artifact.spec.pooling)
    )
    return lens
