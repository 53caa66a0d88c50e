"""`doctor` facts about the model side: the llama.cpp build, a real model load, a real server."""

from __future__ import annotations

from pathlib import Path

from support.fault_server import refused_url
from support.llama_server import llama_server

from engine.cpus import physical_cores
from engine.llm.doctor import Fact, build_facts, model_facts, render, server_facts


def _by_name(facts: list[Fact]) -> dict[str, Fact]:
    return {fact.name: fact for fact in facts}


def test_build_facts_name_the_llama_cpp_build() -> None:
    facts = _by_name(build_facts())
    assert facts["llama-cpp-python"].value
    build = facts["llama.cpp build"].value
    assert build.split()[0] in {"CUDA", "Metal", "ROCm", "HIP", "Vulkan", "SYCL", "CANN",
                                "OpenCL", "GPU", "CPU"}
    assert "GPU" in facts or any(name.startswith("GPU ") for name in facts)


async def test_model_facts_load_generate_and_embed(tiny_gguf: Path) -> None:
    facts = _by_name(await model_facts(str(tiny_gguf), n_ctx=512))
    assert all(f.ok for f in facts.values()), render(list(facts.values()))
    assert facts["load time"].value.endswith(" s")
    assert "tok/s" in facts["generation"].value
    assert facts["embedding"].value.startswith("64 dimensions")
    assert facts["context"].value == "512 tokens"
    assert facts["threads"].value.startswith(f"{physical_cores() or 1} decoding")


async def test_model_failures_say_what_to_try(tmp_path: Path) -> None:
    missing = await model_facts(str(tmp_path / "nope.gguf"))
    assert len(missing) == 1 and not missing[0].ok and "GGUF" in missing[0].hint
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 32)
    facts = _by_name(await model_facts(str(broken)))
    assert not facts["load"].ok and "could not load" in facts["load"].hint
    assert "FAIL" in render(list(facts.values()))


async def test_server_facts_probe_a_real_server_and_a_dead_one(tiny_gguf: Path) -> None:
    with llama_server(tiny_gguf, embedding=True) as url:
        facts = _by_name(await server_facts(url))
    assert all(f.ok for f in facts.values()), render(list(facts.values()))
    assert "completions" in facts["capabilities"].value
    dead = await server_facts(refused_url())
    assert len(dead) == 1 and not dead[0].ok and dead[0].hint
