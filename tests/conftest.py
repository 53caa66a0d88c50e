"""Shared fixtures. Tests that need ../shared/data, or the default real model, skip cleanly
where it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip: the core suite must pass without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs benchmark data at {SHARED_DATA} (see DESIGN.md); absent here")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weights llama GGUF (byte-fallback vocabulary, <think> tokens, ChatML
    template) written once per session with the `gguf` package; see tests/support/tiny_gguf.py."""
    from support.tiny_gguf import write_tiny_gguf

    return write_tiny_gguf(tmp_path_factory.mktemp("tiny_gguf") / "tiny.gguf")


@pytest.fixture(scope="session")
def real_model_path() -> Path:
    """The default catalogue model's file (verified by digest), or skip: scripts/setup.sh
    pulls it, so CI runs the `real_model` tests; ATLAS_SKIP_MODEL=1 set-ups skip them."""
    from engine.models import catalogue
    from engine.models.pull import local

    entry = catalogue.get(catalogue.DEFAULT_MODEL)
    path = local(entry)
    if path is None:
        pytest.skip(f"needs the default model {entry.name}: run scripts/setup.sh "
                    f"(or atlas-tui models pull {entry.name})")
    return path
