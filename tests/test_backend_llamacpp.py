"""LlamaCppBackend on a tiny GGUF the suite writes itself: real load, tokens and embeddings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import llama_cpp
import pytest
from backend_suite import *  # noqa: F403  (the shared backend suite runs on this backend)
from support.tiny_gguf import CHAT_TEMPLATE, THINK_CLOSE_ID, THINK_OPEN_ID

from engine.llm.llamacpp import LlamaCppBackend, LlamaCppConfig


def test_tiny_gguf_is_a_real_model_with_think_tokens(tiny_gguf: Path) -> None:
    llm = llama_cpp.Llama(str(tiny_gguf), n_ctx=256, verbose=False)
    try:
        assert llm.metadata["tokenizer.chat_template"] == CHAT_TEMPLATE
        ids = llm.tokenize(b"<think>plan</think>", add_bos=False, special=True)
        assert ids[0] == THINK_OPEN_ID and ids[-1] == THINK_CLOSE_ID
        # byte fallback: any text round-trips, even outside the ordinary pieces
        text = "déjà vu ✓"
        assert llm.detokenize(llm.tokenize(text.encode(), add_bos=False)).decode() == text
        out = llm.create_completion("hello", max_tokens=8, temperature=0.0)
        assert out["usage"]["completion_tokens"] >= 1
    finally:
        llm.close()


@pytest.fixture
async def backend(tiny_gguf: Path) -> AsyncIterator[LlamaCppBackend]:
    opened = await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(n_ctx=2048))
    yield opened
    await opened.close()
