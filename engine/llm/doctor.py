"""Facts about the model side of this machine, for `atlas-tui doctor`.

- `build_facts()`: the llama-cpp-python version, what its llama.cpp was built for (CUDA, Metal,
  Vulkan or CPU), the GPUs with their memory, and system memory.
- `model_facts(model)`: load the model (`--model`), generate a few tokens, embed a text; the load
  time, tokens per second and embedding size.
- `server_facts(base_url)`: probe an OpenAI-compatible server (`--base-url`) and list what it
  can do.

Every check returns Facts instead of raising: a failure is a Fact with ok=False and a hint
saying what to try.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import llama_cpp

from engine.llm.base import BackendError, SamplingParams
from engine.llm.llamacpp import build_device, gpu_build

GENERATE_TOKENS = 16
EMBED_TEXT = "def solve(n):\n    return sum(i * i for i in range(1, n + 1))\n"


@dataclass(frozen=True, slots=True)
class Fact:
    name: str
    value: str
    ok: bool = True
    hint: str = ""  # what to try, when not ok


def build_facts() -> list[Fact]:
    device = build_device()
    facts = [
        Fact("llama-cpp-python", llama_cpp.__version__),
        Fact("llama.cpp build", f"{device} (GPU offload {'yes' if gpu_build() else 'no'})"),
    ]
    gpus = _gpus()
    if gpus:
        facts += [Fact(f"GPU {i}", gpu) for i, gpu in enumerate(gpus)]
        if not gpu_build():
            facts.append(Fact("GPU use", "a GPU is present but llama.cpp is a CPU build", ok=False,
                              hint="reinstall llama-cpp-python with CUDA: CMAKE_ARGS="
                                   "'-DGGML_CUDA=on' pip install --force-reinstall "
                                   "--no-cache-dir llama-cpp-python"))
    else:
        facts.append(Fact("GPU", "none found" if device == "CPU" else f"{device} build"))
    memory = _system_memory_gib()
    if memory:
        facts.append(Fact("memory", f"{memory:.1f} GiB"))
    return facts


def _gpus() -> list[str]:
    """Name and memory of each NVIDIA GPU (nvidia-smi), or the Apple GPU on a Metal build."""
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run(
                [smi, "--query-gpu=name,memory.total,memory.free",
                 "--format=csv,noheader,nounits"],
                capture_output=True, text=True, timeout=10, check=True).stdout
        except (OSError, subprocess.SubprocessError):
            return []
        gpus = []
        for line in out.strip().splitlines():
            name, total, free = (part.strip() for part in line.split(","))
            gpus.append(f"{name}, {float(total) / 1024:.1f} GiB ({float(free) / 1024:.1f} GiB "
                        "free)")
        return gpus
    if sys.platform == "darwin" and build_device() == "Metal":
        return [f"Apple GPU, unified memory {_system_memory_gib():.1f} GiB"]
    return []


def _system_memory_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return 0.0


async def model_facts(model: str, **knobs: Any) -> list[Fact]:
    """Load `model` (path or HF repo id), generate, embed; what it took."""
    from engine.llm.llamacpp import LlamaCppBackend, LlamaCppConfig
    from engine.llm.resolve import resolve_model

    try:
        path = resolve_model(model)
    except BackendError as exc:
        return [Fact("model", model, ok=False, hint=str(exc))]
    facts = [Fact("model file", f"{path} ({path.stat().st_size / 2**30:.2f} GiB)")]
    try:
        backend = await LlamaCppBackend.open(path, LlamaCppConfig(**knobs))
    except (BackendError, TypeError) as exc:
        return [*facts, Fact("load", "failed", ok=False, hint=str(exc))]
    try:
        info = backend.info
        facts += [
            Fact("load time", f"{backend.load_s:.2f} s"),
            Fact("device", info.device),
            Fact("context", f"{info.context_size} tokens"),
        ]
        if info.device == "CPU":
            decoding, prompts = backend.threads
            facts.append(Fact("threads", f"{decoding} decoding, {prompts} for prompts "
                                         f"(setting llm.n_threads)"))
        started = time.perf_counter()
        result = await backend.generate("Hello", SamplingParams(
            temperature=0.0, max_tokens=GENERATE_TOKENS, seed=0))
        wall = time.perf_counter() - started
        rate = result.completion_tokens / wall if wall > 0 else 0.0
        facts.append(Fact("generation", f"{result.completion_tokens} tokens in {wall:.2f} s, "
                                        f"{rate:.1f} tok/s "
                                        f"(first token {result.time_to_first_token_s:.2f} s)"))
        if info.embedding_size:
            started = time.perf_counter()
            vector = await backend.embed(EMBED_TEXT)
            facts.append(Fact("embedding", f"{len(vector)} dimensions in "
                                           f"{time.perf_counter() - started:.2f} s"))
    except BackendError as exc:
        facts.append(Fact("generation", "failed", ok=False, hint=str(exc)))
    finally:
        await backend.close()
    return facts


async def server_facts(base_url: str, model: str | None = None) -> list[Fact]:
    """Probe an OpenAI-compatible server and list its capabilities."""
    from engine.llm.openai_backend import OpenAIBackend

    try:
        backend = await OpenAIBackend.connect(base_url=base_url, model=model)
    except BackendError as exc:
        return [Fact("server", base_url, ok=False, hint=str(exc))]
    try:
        caps = backend.capabilities
        info = backend.info
        facts = [
            Fact("server", base_url),
            Fact("models", ", ".join(caps.models) or "none listed"),
            Fact("model", info.model),
            Fact("capabilities", ", ".join(caps.names()) or "none"),
        ]
        if caps.context_size:
            facts.append(Fact("context", f"{caps.context_size} tokens"))
        if caps.embedding_size:
            facts.append(Fact("embedding", f"{caps.embedding_size} dimensions"))
        if not caps.completions:
            facts.append(Fact("raw completions", "missing", ok=False,
                              hint="budget forcing needs /v1/completions; llama-server, vLLM "
                                   "and SGLang serve it"))
        facts += [Fact("note", note) for note in caps.notes]
        return facts
    finally:
        await backend.close()


def render(facts: list[Fact]) -> str:
    """Plain text, one fact a line, failures marked with what to try."""
    width = max((len(f.name) for f in facts), default=0)
    lines = []
    for fact in facts:
        mark = "ok " if fact.ok else "FAIL"
        lines.append(f"{mark} {fact.name:<{width}}  {fact.value}")
        if fact.hint:
            lines.append(f"     {'':<{width}}  try: {fact.hint}")
    return "\n".join(lines)
