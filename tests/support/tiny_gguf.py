"""Write a tiny llama-architecture GGUF with random weights, for tests and benchmarks.

The model is real as far as llama.cpp is concerned (it loads, tokenizes, generates, embeds and
applies its chat template), only its weights are noise. The vocabulary is SentencePiece-style with
byte fallback: 256 `<0xNN>` byte tokens so any text tokenizes, printable ASCII and a few common
words as ordinary pieces, and ChatML control tokens. `<think>` and `</think>` are single
user-defined tokens (rendered in the output like Qwen3's), so a test can push the model towards
or away from closing its thinking with a logit bias on `THINK_CLOSE_ID`.

Size is configurable (`TinyModelSpec`); `BENCH_SPEC` has tens of millions of parameters, enough
that the model and not Python dominates a tokens-per-second measurement.

Run as a script to write one: `python -m tests.support.tiny_gguf OUT.gguf [--bench]`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

try:  # gguf is a test dependency; a clear message beats an ImportError deep in a fixture
    import gguf
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("writing a tiny GGUF needs the `gguf` package: pip install gguf") from exc

# Fixed ids of the special tokens, so tests can bias or look for them.
UNK_ID = 0
BOS_ID = 1
EOS_ID = 2
IM_START_ID = 3
IM_END_ID = 4
THINK_OPEN_ID = 5
THINK_CLOSE_ID = 6

_SPECIALS: list[tuple[str, gguf.TokenType]] = [
    ("<unk>", gguf.TokenType.UNKNOWN),
    ("<s>", gguf.TokenType.CONTROL),
    ("</s>", gguf.TokenType.CONTROL),
    ("<|im_start|>", gguf.TokenType.CONTROL),
    ("<|im_end|>", gguf.TokenType.CONTROL),
    ("<think>", gguf.TokenType.USER_DEFINED),
    ("</think>", gguf.TokenType.USER_DEFINED),
]

# Whole-word pieces beyond single characters; "▁" marks a leading space as in SentencePiece.
_WORDS = [
    "▁def", "▁return", "▁print", "▁for", "▁in", "▁if", "▁else", "▁import", "▁class", "▁int",
    "▁input", "▁range", "▁len", "▁the", "▁and", "▁is", "▁of", "▁to", "▁a", "▁Wait", "Wait",
    "▁code", "▁answer", "▁solution", "▁n", "▁i", "▁x", "self", "▁self", "()", "):", "▁=",
    "▁+", "▁-", "▁==", "python", "```", "\n", "\n\n", "▁▁", "▁▁▁▁",
]

# ChatML with Qwen3-style thinking: a think block is expected after the assistant header, and
# `enable_thinking=false` closes an empty one for the model.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{ '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{ '<think>\\n\\n</think>\\n\\n' }}{%- endif %}"
    "{%- endif %}"
)

WeightType = Literal["f32", "f16", "q8_0"]


@dataclass(frozen=True, slots=True)
class TinyModelSpec:
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_head_kv: int = 2
    n_ff: int = 128
    context_length: int = 4096
    extra_vocab: int = 0  # filler tokens that grow the embedding and output matrices
    weight_type: WeightType = "f32"
    seed: int = 0
    name: str = "atlas-tiny-random"

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


TEST_SPEC = TinyModelSpec()
# About 45M parameters: the model dominates a tokens-per-second measurement.
BENCH_SPEC = TinyModelSpec(
    n_embd=512, n_layer=8, n_head=8, n_head_kv=4, n_ff=1536, extra_vocab=16000,
    weight_type="f16", name="atlas-bench-random",
)


def vocabulary(spec: TinyModelSpec = TEST_SPEC) -> tuple[list[str], list[float], list[int]]:
    """Token texts, SentencePiece scores (longer pieces merge first) and token types."""
    tokens: list[str] = [text for text, _ in _SPECIALS]
    types: list[int] = [int(kind) for _, kind in _SPECIALS]
    scores: list[float] = [0.0] * len(_SPECIALS)
    for byte in range(256):
        tokens.append(f"<0x{byte:02X}>")
        types.append(int(gguf.TokenType.BYTE))
        scores.append(0.0)
    pieces = ["▁", *(chr(c) for c in range(33, 127)), *_WORDS]
    for piece in dict.fromkeys(pieces):  # keep order, drop duplicates
        tokens.append(piece)
        types.append(int(gguf.TokenType.NORMAL))
        scores.append(float(len(piece)))
    for i in range(spec.extra_vocab):
        tokens.append(f"[filler{i}]")
        types.append(int(gguf.TokenType.NORMAL))
        scores.append(-1.0)
    return tokens, scores, types


def n_params(spec: TinyModelSpec) -> int:
    n_vocab = len(vocabulary(spec)[0])
    kv = spec.n_head_kv * spec.head_dim
    per_layer = (
        2 * spec.n_embd  # norms
        + 2 * spec.n_embd * spec.n_embd  # q, o
        + 2 * spec.n_embd * kv  # k, v
        + 3 * spec.n_embd * spec.n_ff  # gate, up, down
    )
    return 2 * n_vocab * spec.n_embd + spec.n_embd + spec.n_layer * per_layer


def write_tiny_gguf(path: Path | str, spec: TinyModelSpec = TEST_SPEC) -> Path:
    """Write the model to `path` (deterministic for a given spec) and return the path."""
    if spec.n_embd % spec.n_head or spec.n_head % spec.n_head_kv:
        raise ValueError("n_embd must divide by n_head, and n_head by n_head_kv")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokens, scores, types = vocabulary(spec)
    rng = np.random.default_rng(spec.seed)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name(spec.name)
    writer.add_context_length(spec.context_length)
    writer.add_embedding_length(spec.n_embd)
    writer.add_block_count(spec.n_layer)
    writer.add_feed_forward_length(spec.n_ff)
    writer.add_head_count(spec.n_head)
    writer.add_head_count_kv(spec.n_head_kv)
    writer.add_rope_dimension_count(spec.head_dim)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(len(tokens))
    writer.add_file_type(_FILE_TYPE[spec.weight_type])

    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(UNK_ID)
    writer.add_bos_token_id(BOS_ID)
    writer.add_eos_token_id(IM_END_ID)
    writer.add_eot_token_id(IM_END_ID)
    writer.add_pad_token_id(EOS_ID)
    writer.add_add_bos_token(False)
    writer.add_add_space_prefix(False)
    writer.add_chat_template(CHAT_TEMPLATE)

    def matrix(name: str, rows: int, cols: int, scale: float) -> None:
        data = rng.standard_normal((rows, cols), dtype=np.float32) * np.float32(scale)
        _add_weight(writer, name, data, spec.weight_type)

    def norm(name: str) -> None:
        writer.add_tensor(name, np.ones(spec.n_embd, dtype=np.float32))

    kv = spec.n_head_kv * spec.head_dim
    attn_scale = 1.0 / np.sqrt(spec.n_embd)
    # Large enough output weights that sampling is not uniform noise: greedy decoding then
    # differs from sampling, and seeds matter.
    matrix("token_embd.weight", len(tokens), spec.n_embd, 1.0)
    for layer in range(spec.n_layer):
        prefix = f"blk.{layer}."
        norm(prefix + "attn_norm.weight")
        matrix(prefix + "attn_q.weight", spec.n_embd, spec.n_embd, attn_scale)
        matrix(prefix + "attn_k.weight", kv, spec.n_embd, attn_scale)
        matrix(prefix + "attn_v.weight", kv, spec.n_embd, attn_scale)
        matrix(prefix + "attn_output.weight", spec.n_embd, spec.n_embd, attn_scale)
        norm(prefix + "ffn_norm.weight")
        matrix(prefix + "ffn_gate.weight", spec.n_ff, spec.n_embd, attn_scale)
        matrix(prefix + "ffn_up.weight", spec.n_ff, spec.n_embd, attn_scale)
        matrix(prefix + "ffn_down.weight", spec.n_embd, spec.n_ff, 1.0 / np.sqrt(spec.n_ff))
    norm("output_norm.weight")
    matrix("output.weight", len(tokens), spec.n_embd, 0.5)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


_FILE_TYPE: dict[WeightType, int] = {
    "f32": int(gguf.LlamaFileType.ALL_F32),
    "f16": int(gguf.LlamaFileType.MOSTLY_F16),
    "q8_0": int(gguf.LlamaFileType.MOSTLY_Q8_0),
}


def _add_weight(writer: gguf.GGUFWriter, name: str, data: np.ndarray, kind: WeightType) -> None:
    if kind == "f32":
        writer.add_tensor(name, data)
    elif kind == "f16":
        writer.add_tensor(name, data.astype(np.float16))
    else:
        quantized = gguf.quants.quantize(data, gguf.GGMLQuantizationType.Q8_0)
        writer.add_tensor(name, quantized, raw_dtype=gguf.GGMLQuantizationType.Q8_0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--bench", action="store_true", help="tens of millions of parameters")
    args = parser.parse_args()
    spec = BENCH_SPEC if args.bench else TEST_SPEC
    write_tiny_gguf(args.out, spec)
    print(f"wrote {args.out} ({n_params(spec) / 1e6:.1f}M parameters)")


if __name__ == "__main__":
    main()
