"""What the Lens looks at: the generating model's pooled embedding of a candidate, normalized.

Pooling. The backend's `embed` returns one vector per text from the model's own weights; for
llama.cpp that is the mean of the last hidden states over every token of `candidate_text`
(statement, then code), for an OpenAI-compatible server whatever its `/v1/embeddings` pools.
Mean pooling is the default because it is what both backends can give for any decoder model
and it is stable: every token contributes, so one odd last token (a newline, a closing
bracket) cannot swing the vector. In a causal model the statement's tokens never see the code,
so candidates of one problem differ only through their code tokens; capping the statement
(`interface.STATEMENT_CHARS`) keeps that difference from being drowned. The pooling name is
recorded in every data file and artifact, so vectors pooled another way are never mixed in.

Normalization, in two steps, both needed:
1. L2 to unit length: pooled hidden states have norms that vary with text length and with
   a few outlier dimensions, which would otherwise dominate the energy.
2. Per-dimension standardization with the training set's mean and spread: LLM embeddings are
   anisotropic (they share one large common direction, so raw cosines are all near 1);
   subtracting the mean removes it and leaves the directions that tell candidates apart.
   The mean and spread are part of the artifact, so scoring uses the training statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

import numpy as np

from engine.lens.interface import FEATURE_TEXT_VERSION

DEFAULT_POOLING = "mean"
_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """Which embeddings a data file or an artifact holds; two specs must match to mix."""

    model: str  # the model as the backend names it (BackendInfo.model)
    dim: int
    pooling: str = DEFAULT_POOLING
    text_version: str = FEATURE_TEXT_VERSION

    @property
    def model_key(self) -> str:
        return model_key(self.model)

    def mismatch(self, other: FeatureSpec) -> str | None:
        """Why embeddings described by `other` cannot be used with this spec, or None."""
        if self.model_key != other.model_key:
            return (
                f"embeddings come from model {other.model!r}, but this Lens was trained on "
                f"{self.model!r}: an energy over one model's embedding space means nothing in "
                "another's. Train a Lens for this model (atlas-tui lens train) or run without one."
            )
        if self.pooling != other.pooling:
            return (
                f"embeddings were pooled by {other.pooling!r}, this Lens expects {self.pooling!r}"
            )
        if self.text_version != other.text_version:
            return (
                f"embeddings are of feature text {other.text_version!r}, this Lens expects "
                f"{self.text_version!r}"
            )
        if self.dim != other.dim:
            return f"embeddings have {other.dim} dimensions, this Lens expects {self.dim}"
        return None


def model_key(model: str) -> str:
    """A model's identity for matching: its file or repo name, without folders or case, so the
    same GGUF opened from another folder (or served under its file name) still matches."""
    name = PurePath(model.strip().replace("\\", "/")).name or model.strip()
    return name.lower()


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to unit L2 length (zero rows stay zero)."""
    x = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, _EPS)


@dataclass(frozen=True, slots=True)
class Standardizer:
    """Per-dimension centering and scaling fitted on unit-length training vectors."""

    mean: np.ndarray  # (dim,)
    scale: np.ndarray  # (dim,)

    @classmethod
    def fit(cls, unit: np.ndarray) -> Standardizer:
        mean = unit.mean(axis=0).astype(np.float32)
        scale = unit.std(axis=0).astype(np.float32)
        # A dimension that never varies in training carries no signal; scaling it by ~0 would
        # blow up whatever it does at scoring time.
        scale = np.where(scale < _EPS, 1.0, scale).astype(np.float32)
        return cls(mean=mean, scale=scale)

    def __call__(self, unit: np.ndarray) -> np.ndarray:
        return ((unit - self.mean) / self.scale).astype(np.float32)


def features(vectors: np.ndarray, standardizer: Standardizer) -> np.ndarray:
    """Raw pooled embeddings -> the Lens's input."""
    return standardizer(unit_rows(vectors))
