"""Where a model's trained Lens lives, answered without torch: whoever only needs to know
whether a Lens exists (the workbench, before its first solve) does not pay torch's import."""

from __future__ import annotations

import re
from pathlib import Path

import platformdirs

from engine.lens.features import model_key


def default_artifact_path(model: str) -> Path:
    """Where `atlas-tui lens train` puts a model's Lens unless told otherwise."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", model_key(model))  # a repo id's ":" or spaces
    return Path(platformdirs.user_data_dir("atlas-tui")) / "lens" / f"{safe}.lens"
