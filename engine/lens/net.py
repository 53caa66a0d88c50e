"""C(x): a small MLP from a normalized embedding to a non-negative energy (low = likely right)."""

from __future__ import annotations

import torch
from torch import nn


class EnergyMLP(nn.Module):
    """Linear -> SiLU -> Dropout -> Linear -> SiLU -> Linear -> softplus.

    The softplus head keeps energies positive, so "energy 0" means "as sure as this Lens gets",
    and a score is never read as a signed logit by mistake; probabilities come from the separate
    Platt calibration (engine.lens.calibration).
    """

    def __init__(self, dim: int, hidden: int = 256, dropout: float = 0.1) -> None:
        super().__init__()
        self.dim = dim
        self.hidden = hidden
        self.body = nn.Sequential(
            nn.Linear(dim, hidden),
            nn.SiLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, 1),
        )
        self.head = nn.Softplus()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x)).squeeze(-1)


def pick_device(requested: str | None = None) -> torch.device:
    """CUDA when torch sees a GPU (or as asked), else the CPU."""
    if requested:
        return torch.device(requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
