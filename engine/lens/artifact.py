"""A trained Lens on disk: the energy network, the feature statistics, the calibration, and the
record of what it was trained on (model, pooling, label source, problems, held-out figures).

One file, written with `torch.save` and read back with `weights_only=True`, so loading an
artifact never runs code from it.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.lens.calibration import Platt
from engine.lens.dataset import LABEL_SOURCES, LabelSource
from engine.lens.features import FeatureSpec, Standardizer, features
from engine.lens.net import EnergyMLP

FORMAT = "atlas-lens/1"


class LensArtifactError(ValueError):
    """An artifact that cannot be read, with the reason."""


class LensMismatchError(ValueError):
    """Embeddings of another model (pooling, feature text, size) than the Lens was trained on."""


@dataclass(frozen=True, slots=True)
class TrainingRecord:
    """What an artifact was trained on and how well it did on problems it did not see."""

    label_source: LabelSource
    samples: int
    problems: tuple[str, ...]  # trained or calibrated on: `lens eval` leaves these out
    calibration_problems: int
    epochs: int
    seed: int
    device: str
    elapsed_s: float
    created_at: float = field(default_factory=time.time)
    # Figures on the calibration problems (held out from the network's training).
    heldout: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class LensArtifact:
    spec: FeatureSpec
    standardizer: Standardizer
    net: EnergyMLP
    platt: Platt
    record: TrainingRecord
    # The held-out energies and labels the calibration was fitted on: the prior that online
    # recalibration blends new samples into.
    calibration_energy: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    calibration_passed: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    # Labelled candidates seen after training (online recalibration, engine.lens.online).
    online_energy: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    online_passed: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    online_updates: int = 0

    @property
    def name(self) -> str:
        day = time.strftime("%Y-%m-%d", time.localtime(self.record.created_at))
        return f"lens:{self.spec.model_key}@{day}"

    def check(self, spec: FeatureSpec) -> None:
        if (why := self.spec.mismatch(spec)) is not None:
            raise LensMismatchError(why)

    @torch.no_grad()
    def energies(self, vectors: np.ndarray) -> np.ndarray:
        """Energies for raw pooled embeddings that already passed `check`."""
        x = np.asarray(vectors, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.spec.dim:
            raise LensMismatchError(
                f"embeddings have shape {x.shape}, this Lens expects (k, {self.spec.dim})"
            )
        if len(x) == 0:
            return np.zeros(0, dtype=np.float32)
        self.net.eval()
        device = next(self.net.parameters()).device
        tensor = torch.from_numpy(features(x, self.standardizer)).to(device)
        return self.net(tensor).float().cpu().numpy()

    def to(self, device: torch.device | str) -> LensArtifact:
        self.net.to(device)
        return self

    # --- files --------------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {
            "format": FORMAT,
            "spec": asdict(self.spec),
            "hidden": self.net.hidden,
            "platt": asdict(self.platt),
            "record": asdict(self.record),
            "online_updates": self.online_updates,
        }
        state = {k: v.detach().cpu() for k, v in self.net.state_dict().items()}
        payload = {
            "header": json.dumps(header),
            "state": state,
            "mean": torch.from_numpy(self.standardizer.mean),
            "scale": torch.from_numpy(self.standardizer.scale),
            "calibration_energy": torch.from_numpy(np.asarray(self.calibration_energy, np.float32)),
            "calibration_passed": torch.from_numpy(np.asarray(self.calibration_passed, np.int8)),
            "online_energy": torch.from_numpy(np.asarray(self.online_energy, np.float32)),
            "online_passed": torch.from_numpy(np.asarray(self.online_passed, np.int8)),
        }
        tmp = path.with_name(path.name + ".tmp")
        torch.save(payload, tmp)
        tmp.replace(path)  # a crash mid-write never leaves half an artifact behind
        return path

    @classmethod
    def load(cls, path: str | Path, device: torch.device | str = "cpu") -> LensArtifact:
        path = Path(path)
        if not path.is_file():
            raise LensArtifactError(f"no Lens artifact at {path}")
        try:
            payload: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
            header = json.loads(payload["header"])
        except Exception as exc:
            raise LensArtifactError(f"{path} is not a readable Lens artifact: {exc}") from exc
        if header.get("format") != FORMAT:
            raise LensArtifactError(
                f"{path} is a {header.get('format')!r} file, not a Lens artifact ({FORMAT})"
            )
        spec = FeatureSpec(**header["spec"])
        net = EnergyMLP(spec.dim, hidden=int(header["hidden"]))
        net.load_state_dict(payload["state"])
        net.eval()
        record = dict(header["record"])
        record["problems"] = tuple(record["problems"])
        if record.get("label_source") not in LABEL_SOURCES:
            raise LensArtifactError(
                f"{path} was trained on unknown labels {record.get('label_source')!r}")
        return cls(
            spec=spec,
            standardizer=Standardizer(mean=payload["mean"].numpy(), scale=payload["scale"].numpy()),
            net=net.to(device),
            platt=Platt(**header["platt"]),
            record=TrainingRecord(**record),
            calibration_energy=payload["calibration_energy"].numpy(),
            calibration_passed=payload["calibration_passed"].numpy(),
            online_energy=payload["online_energy"].numpy(),
            online_passed=payload["online_passed"].numpy(),
            online_updates=int(header.get("online_updates", 0)),
        )
