"""The small interface through which the pipeline uses the Lens.

The pipeline asks the scorer for the text to embed (a candidate in the context of its
problem), embeds it with the generating model's own backend, and hands the vectors back for
scoring. Without a trained artifact the `NeutralLens` scores everything the same, so selection
falls back to tests alone and nothing pretends to know more than it does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from engine.llm.base import BudgetTier
from engine.problems.model import ProblemView


@dataclass(frozen=True, slots=True)
class EnergyScore:
    energy: float  # lower is more likely correct
    pass_probability: float | None  # calibrated; None when the scorer knows nothing


@runtime_checkable
class EnergyScorer(Protocol):
    @property
    def name(self) -> str:
        """Shown in events and the UI, e.g. "neutral" or "lens:qwen3-14b@2026-11-23"."""
        ...

    @property
    def trained(self) -> bool: ...

    @property
    def decides(self) -> bool:
        """Whether the energies take part in decisions (ranking, k, tier); when False they are
        only shown. A trained Lens decides only after beating the baselines on held-out
        problems (engine.lens.gate)."""
        ...

    def feature_text(self, view: ProblemView, code: str) -> str:
        """The text whose embedding represents this candidate."""
        ...

    def score(self, embeddings: Sequence[Sequence[float]], model: str) -> list[EnergyScore]:
        """Energies for candidates embedded by `model` (refused if the artifact was trained on
        another model's embeddings)."""
        ...

    def suggest_k(self, probe_energy: EnergyScore | None, default_k: int) -> int:
        """Adaptive k: how many candidates a problem gets, from the probe's energy."""
        ...

    def suggest_tier(self, probe_energy: EnergyScore | None, default: BudgetTier) -> BudgetTier:
        """The thinking budget tier for the problem, from the probe's energy."""
        ...


# Bumped whenever `candidate_text` changes: embeddings of another version are another feature.
FEATURE_TEXT_VERSION = "v1"
# The statement is cut to this many characters so that a long statement neither overflows the
# model's context (which would cut off the code, the only part that differs between candidates)
# nor drowns the code's tokens in a mean-pooled embedding.
STATEMENT_CHARS = 2000


def candidate_text(view: ProblemView, code: str) -> str:
    """The text whose embedding represents a candidate: its problem, then its code.

    Every scorer uses this one function, so embeddings collected while the neutral Lens was in
    use are the features a trained Lens later learns from and scores.
    """
    return f"{view.statement[:STATEMENT_CHARS]}\n\n{code}"


class NeutralLens:
    """No trained artifact: every candidate gets the same energy; k and tier unchanged."""

    name = "neutral"
    trained = False
    decides = False  # every energy is equal: nothing to decide with

    def feature_text(self, view: ProblemView, code: str) -> str:
        return candidate_text(view, code)

    def score(self, embeddings: Sequence[Sequence[float]], model: str) -> list[EnergyScore]:
        return [EnergyScore(energy=0.0, pass_probability=None) for _ in embeddings]

    def suggest_k(self, probe_energy: EnergyScore | None, default_k: int) -> int:
        return default_k

    def suggest_tier(self, probe_energy: EnergyScore | None, default: BudgetTier) -> BudgetTier:
        return default
