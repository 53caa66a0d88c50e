"""The project's real default model for tests marked `real_model` (temporary, on the batch
branch: the models engineer's `real_model_path` fixture in tests/conftest.py replaces it).

The path comes from $ATLAS_REAL_MODEL, else the default model's usual place; the test skips with
the reason where neither is there. Import the fixture into a test module to use it:

    from support.real_model import real_model_path  # noqa: F401
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_MODEL = Path("/work/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")


@pytest.fixture(scope="session")
def real_model_path() -> Path:
    configured = os.environ.get("ATLAS_REAL_MODEL")
    if configured:
        path = Path(configured)
        if not path.is_file():
            pytest.skip(f"ATLAS_REAL_MODEL={configured} is not a file")
        return path
    if not DEFAULT_MODEL.is_file():
        pytest.skip(f"needs the real default model (set ATLAS_REAL_MODEL, or fetch it to "
                    f"{DEFAULT_MODEL})")
    return DEFAULT_MODEL
