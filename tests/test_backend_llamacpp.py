"""LlamaCppBackend on a tiny GGUF the suite writes itself: real load, tokens and embeddings."""

from __future__ import annotations

from pathlib import Path

import llama_cpp
from support.tiny_gguf import CHAT_TEMPLATE, THINK_CLOSE_ID, THINK_OPEN_ID


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
