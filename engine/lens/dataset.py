"""Labelled candidates: embeddings plus pass/fail labels, kept apart by where each label came from.

Three label sources, never merged, because they mean different things:
- "hidden": the hidden-test verdict of the grader (`CandidateGraded`, or `Graded` for the
  submitted answer, or every candidate failing when the oracle says none passed).
- "public": the candidate passed every public example it ran on in the sandbox.
- "selftest": the candidate passed every self-generated test (kept by candidate consensus).
A label is 1 (pass), 0 (fail) or -1 (unknown for that source).

The file format is a NumPy `.npz` (no pickles: strings are stored as fixed-width unicode) with a
JSON header holding the feature spec, so a data set can be exported from one machine's store,
shared, and imported into training elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np

from engine.lens.features import FeatureSpec

LabelSource = Literal["hidden", "public", "selftest"]
LABEL_SOURCES: tuple[LabelSource, ...] = ("hidden", "public", "selftest")
UNKNOWN = -1
FORMAT = "atlas-lens-data/1"


class LensDataError(ValueError):
    """A data file or a set of samples that cannot be used, with the reason."""


@dataclass(frozen=True, slots=True, eq=False)
class LensDataset:
    spec: FeatureSpec
    vectors: np.ndarray  # (n, dim) float32, raw pooled embeddings (not normalized)
    problem: np.ndarray  # (n,) str: candidates of one problem are ranked against each other
    task: np.ndarray  # (n,) str
    candidate: np.ndarray  # (n,) str
    code_chars: np.ndarray  # (n,) int: length of the code, for the "shortest code" baseline
    labels: dict[LabelSource, np.ndarray]  # each (n,) int8 in {-1, 0, 1}

    def __post_init__(self) -> None:
        n = len(self.vectors)
        if self.vectors.ndim != 2 or self.vectors.shape[1] != self.spec.dim:
            raise LensDataError(
                f"vectors have shape {self.vectors.shape}, the spec says {self.spec.dim} dims"
            )
        columns = [self.problem, self.task, self.candidate, self.code_chars]
        columns += [self.labels[s] for s in LABEL_SOURCES]
        if any(len(c) != n for c in columns):
            raise LensDataError("every column of a Lens data set must have one entry per vector")

    def __len__(self) -> int:
        return len(self.vectors)

    @classmethod
    def empty(cls, spec: FeatureSpec) -> LensDataset:
        return cls.from_rows(spec, [])

    @classmethod
    def from_rows(cls, spec: FeatureSpec, rows: Sequence[Sample]) -> LensDataset:
        vectors = np.zeros((len(rows), spec.dim), dtype=np.float32)
        for i, row in enumerate(rows):
            if len(row.vector) != spec.dim:
                raise LensDataError(
                    f"candidate {row.candidate} of task {row.task} has a {len(row.vector)}-dim "
                    f"embedding, the data set holds {spec.dim}-dim ones"
                )
            vectors[i] = row.vector
        labels = {
            source: np.array([r.labels.get(source, UNKNOWN) for r in rows], dtype=np.int8)
            for source in LABEL_SOURCES
        }
        return cls(
            spec=spec,
            vectors=vectors,
            problem=_strings([r.problem for r in rows]),
            task=_strings([r.task for r in rows]),
            candidate=_strings([r.candidate for r in rows]),
            code_chars=np.array([r.code_chars for r in rows], dtype=np.int64),
            labels=labels,
        )

    # --- selection ----------------------------------------------------------------------------

    def take(self, index: np.ndarray) -> LensDataset:
        return replace(
            self,
            vectors=self.vectors[index],
            problem=self.problem[index],
            task=self.task[index],
            candidate=self.candidate[index],
            code_chars=self.code_chars[index],
            labels={s: v[index] for s, v in self.labels.items()},
        )

    def labelled(self, source: LabelSource) -> LensDataset:
        """Only the candidates with a known label from `source`."""
        return self.take(np.flatnonzero(self.labels[source] != UNKNOWN))

    def y(self, source: LabelSource) -> np.ndarray:
        return self.labels[source].astype(np.float32)

    def problems(self) -> list[str]:
        return sorted(set(self.problem.tolist()))

    def of_problems(self, problems: Sequence[str]) -> LensDataset:
        return self.take(np.flatnonzero(np.isin(self.problem, list(problems))))

    def counts(self, source: LabelSource) -> dict[str, int]:
        lab = self.labels[source]
        return {"pass": int((lab == 1).sum()), "fail": int((lab == 0).sum())}

    def merged(self, other: LensDataset) -> LensDataset:
        """Both data sets in one; the same (task, candidate) twice keeps the later labels."""
        if (why := self.spec.mismatch(other.spec)) is not None:
            raise LensDataError(f"cannot merge data sets: {why}")
        keys = {(t, c): i for i, (t, c) in enumerate(zip(other.task, other.candidate, strict=True))}
        keep = np.array(
            [(t, c) not in keys for t, c in zip(self.task, self.candidate, strict=True)], dtype=bool
        )
        mine = self.take(np.flatnonzero(keep))
        return replace(
            mine,
            vectors=np.concatenate([mine.vectors, other.vectors]),
            problem=_strings([*mine.problem.tolist(), *other.problem.tolist()]),
            task=_strings([*mine.task.tolist(), *other.task.tolist()]),
            candidate=_strings([*mine.candidate.tolist(), *other.candidate.tolist()]),
            code_chars=np.concatenate([mine.code_chars, other.code_chars]),
            labels={s: np.concatenate([mine.labels[s], other.labels[s]]) for s in LABEL_SOURCES},
        )

    # --- files --------------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        header = {
            "format": FORMAT,
            "model": self.spec.model,
            "dim": self.spec.dim,
            "pooling": self.spec.pooling,
            "text_version": self.spec.text_version,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:  # np.savez would append ".npz" to a bare name
            np.savez_compressed(
                out,
                header=np.array(json.dumps(header)),
                vectors=self.vectors,
                problem=self.problem,
                task=self.task,
                candidate=self.candidate,
                code_chars=self.code_chars,
                allow_pickle=True,  # numpy's default, said so the labels' ** is not taken for it
                **{f"label_{s}": self.labels[s] for s in LABEL_SOURCES},
            )
        return path

    @classmethod
    def load(cls, path: str | Path) -> LensDataset:
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data["header"]))
                if header.get("format") != FORMAT:
                    raise LensDataError(
                        f"{path} is not a Lens data file (format {header.get('format')!r})"
                    )
                spec = FeatureSpec(
                    model=header["model"],
                    dim=int(header["dim"]),
                    pooling=header["pooling"],
                    text_version=header["text_version"],
                )
                return cls(
                    spec=spec,
                    vectors=data["vectors"].astype(np.float32),
                    problem=data["problem"],
                    task=data["task"],
                    candidate=data["candidate"],
                    code_chars=data["code_chars"],
                    labels={s: data[f"label_{s}"].astype(np.int8) for s in LABEL_SOURCES},
                )
        except FileNotFoundError:
            raise LensDataError(f"no such data file: {path}") from None
        except (KeyError, ValueError, OSError) as exc:
            if isinstance(exc, LensDataError):
                raise
            raise LensDataError(f"{path} is not a readable Lens data file: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Sample:
    """One labelled candidate before it goes into a data set."""

    problem: str
    task: str
    candidate: str
    vector: Sequence[float]
    code_chars: int
    labels: dict[LabelSource, int]


def _strings(values: Sequence[str]) -> np.ndarray:
    return np.array(list(values), dtype=np.str_) if values else np.zeros(0, dtype="<U1")
