"""The settings tables beyond the workbench's own: `[llm]` (the backend's knobs, passed to
`engine.llm.resolve.open_backend`) and `[pipeline]` (fields of
`engine.pipeline.config.PipelineConfig`, for every condition, or for one under
`[pipeline.D]`). Each knob is typed here, so a bad value is refused with its name and where it
came from, before a model is opened or a solve starts."""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Mapping
from typing import Any, Literal

from engine.pipeline.config import CONDITIONS, PipelineConfig

# The backend's knobs: name -> (type, which backends take it, what it does).
LLM: dict[str, tuple[type, tuple[str, ...], str]] = {
    "n_ctx": (int, ("llama.cpp",), "context tokens (0: the model's own); lower it on OOM"),
    "n_gpu_layers": (int, ("llama.cpp",), "layers on the GPU (-1: all, 0: none)"),
    "n_threads": (int, ("llama.cpp",), "CPU threads for decoding (default: one per physical core)"),
    "n_batch": (int, ("llama.cpp",), "prompt tokens per batch"),
    "flash_attn": (bool, ("llama.cpp",), "flash attention (default: on with a GPU)"),
    "cache_type_k": (str, ("llama.cpp",), "KV cache type of K (f16, q8_0, ...)"),
    "cache_type_v": (str, ("llama.cpp",), "KV cache type of V (quantized needs flash_attn)"),
    "embedding_ctx": (int, ("llama.cpp",), "at most this many tokens of a text are embedded"),
    "embeddings": (bool, ("llama.cpp",), "embed candidates for the Lens (false: no embedding "
                   "context, less memory; energies stay equal)"),
    "n_seq_max": (int, ("llama.cpp",), "sequences the context holds at once (batched answers "
                  "and kept prefixes)"),
    "repack_weights": (bool, ("llama.cpp",), "repacked weights for faster CPU kernels (false "
                       "where those kernels crash)"),
    "chat_template": (str, ("llama.cpp", "openai"),
                      "Jinja chat template or a known name (chatml); default: the model's"),
    "template_variables": (dict, ("llama.cpp", "openai"),
                           "extra chat template variables, e.g. {enable_thinking = false}"),
    "api_key": (str, ("openai",), "the server's API key (default: $OPENAI_API_KEY)"),
    "embeddings_base_url": (str, ("openai",), "a server for embeddings (default: the same)"),
    "embeddings_model": (str, ("openai",), "the embeddings model's name"),
    "max_concurrency": (int, ("openai",), "requests in flight to one server"),
}
SECRET = frozenset({"api_key"})

def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


PIPELINE_FIELDS: dict[str, Any] = {
    f.name: _default(f) for f in dataclasses.fields(PipelineConfig) if f.name != "condition"
}

# knobs that take one of a few words (selection: probe, first_passing, scored)
_CHOICES: dict[str, tuple[Any, ...]] = {
    name: typing.get_args(hint)
    for name, hint in typing.get_type_hints(PipelineConfig).items()
    if typing.get_origin(hint) is Literal
}


class KnobError(ValueError):
    """A knob that does not exist, or a value of the wrong type; the message says which."""


def parse_text(raw: str) -> Any:
    """A value from the environment or a flag: JSON when it reads as JSON, else the text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def llm_value(name: str, value: Any) -> Any:
    if name not in LLM:
        raise KnobError(f"unknown llm setting {name!r} (known: {', '.join(LLM)})")
    return _typed(value, LLM[name][0], f"llm.{name}")


def pipeline_value(name: str, value: Any, where: str = "pipeline") -> Any:
    if name not in PIPELINE_FIELDS:
        raise KnobError(f"unknown pipeline knob {name!r} (known: "
                        f"{', '.join(sorted(PIPELINE_FIELDS))}; per condition: "
                        f"[pipeline.D] with D one of {', '.join(CONDITIONS)})")
    default = PIPELINE_FIELDS[name]
    if name in _CHOICES and value not in _CHOICES[name]:
        raise KnobError(f"{where}.{name}: {value!r} is not one of {', '.join(_CHOICES[name])}")
    if isinstance(value, list):
        value = tuple(value)
    if default is None or value is None:
        return value  # optional knobs (seed, thinking_model, prompts_dir) take any plain value
    return _typed(value, type(default), f"{where}.{name}")


def _typed(value: Any, kind: type, name: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is dict and isinstance(value, Mapping):
        return dict(value)
    if kind is bool and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise KnobError(f"{name}: expected {kind.__name__}, got {value!r}")
    return value


def backend_knobs(llm: Mapping[str, Any], backend: str) -> dict[str, Any]:
    """The knobs `open_backend` takes for `backend` ("llama.cpp" or "openai")."""
    return {k: v for k, v in llm.items() if backend in LLM[k][1]}


def pipeline_config(condition: str, common: Mapping[str, Any],
                    by_condition: Mapping[str, Mapping[str, Any]]) -> PipelineConfig:
    """The condition's preset with the configured knobs on top (one condition's own last)."""
    return PipelineConfig.preset(condition, **{**common, **by_condition.get(condition, {})})
