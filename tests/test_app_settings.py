"""A setting given in each of the three ways (the config file, an ATLAS_* variable, a flag)
reaches the backend and the pipeline: observed by the server the workbench talks to (the API
key, the chat template variables) and in the task's events (TaskStarted's config, the probe's
GenerationStarted temperature). `atlas-tui config` says where each came from."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support.fault_server import FaultServer
from ui_support import make_folder, wait_until

from atlas_tui.app import create_app
from atlas_tui.cli import main
from atlas_tui.commands.open import config_from_flags
from atlas_tui.config import Config, ConfigError, load_config
from engine.sandbox.sandbox import Sandbox
from widgets.queue import ProblemQueue

KEY = "sekrit-42"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with await Sandbox.create() as box:
        yield box


def configured(way: str, tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The same three settings (and the server), given one way."""
    file = tmp_path / "config.toml"
    file.write_text("")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    settings: tuple[str, ...] = ()
    if way == "file":
        file.write_text(f'[llm]\napi_key = "{KEY}"\ntemplate_variables = '
                        '{ enable_thinking = false }\n[pipeline.A]\nprobe_temperature = 0.25\n')
    elif way == "env":
        monkeypatch.setenv("ATLAS_LLM__API_KEY", KEY)
        monkeypatch.setenv("ATLAS_LLM__TEMPLATE_VARIABLES", '{"enable_thinking": false}')
        monkeypatch.setenv("ATLAS_PIPELINE__A__PROBE_TEMPERATURE", "0.25")
    else:
        settings = (f"llm.api_key={KEY}", 'llm.template_variables={"enable_thinking": false}',
                    "pipeline.A.probe_temperature=0.25")
    flags: dict[str, Any] = dict.fromkeys(
        ("model", "backend", "theme", "auto_solve", "step_mode", "output_dir", "store",
         "time_limit", "memory_mb"))
    return config_from_flags(file, settings, {**flags, "base_url": url, "condition": "A"})


@pytest.mark.parametrize("way", ["file", "env", "flag"])
async def test_a_setting_given_each_way_reaches_the_backend_and_the_pipeline(
    way: str, tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FaultServer() as server:
        config = configured(way, tmp_path, server.url, monkeypatch)
        where = {"file": f"file {tmp_path / 'config.toml'}", "env": "env ATLAS_LLM__API_KEY",
                 "flag": "flag"}[way]
        assert config.sources["llm.api_key"] == where
        app = create_app(make_folder(tmp_path / "problems"), config,
                         sandbox_factory=lambda: sandbox, store_path=tmp_path / "s.sqlite",
                         watch=False, animate=False)
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_until(pilot, app.loaded.is_set, "folder loaded")
            app.query_one(ProblemQueue).table.focus()
            await pilot.press("s")
            await wait_until(pilot, lambda: (s := app.current_state()) is not None
                             and s.finished, "the task ended", steps=6000)
            state = app.current_state()
            assert state is not None
        # the pipeline: TaskStarted's config, and the probe's generation used it
        assert state.config["probe_temperature"] == 0.25 and state.condition == "A"
        probe = next(s for s in state.streams.values() if s.purpose == "probe")
        assert probe.temperature == 0.25
        # the backend: every generation request carried the key and the template variables
        asked = server.posts("/v1/chat/completions")
        assert asked and all(r.headers.get("authorization") == f"Bearer {KEY}" for r in asked)
        generations = [r for r in asked if r.body.get("stream")]  # not the capability probe
        assert generations and all(
            r.body["chat_template_kwargs"] == {"enable_thinking": False} for r in generations)


def test_atlas_tui_config_shows_each_setting_and_where_it_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "config.toml"
    file.write_text("condition = 'D'\n[llm]\nn_ctx = 4096\n[pipeline]\nk = 2\n")
    monkeypatch.setenv("ATLAS_PIPELINE__D__REPAIR_ITERATIONS", "1")
    monkeypatch.setenv("ATLAS_LLM__API_KEY", KEY)
    result = CliRunner().invoke(main, ["config", "--config", str(file), "--json",
                                       "--set", "llm.n_gpu_layers=0"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["llm.n_ctx"] == {"value": 4096, "source": f"file {file}"}
    assert shown["llm.n_gpu_layers"] == {"value": 0, "source": "flag"}
    assert shown["pipeline.k"] == {"value": 2, "source": f"file {file}"}
    assert shown["pipeline.repair_iterations"] == {
        "value": 1, "source": "env ATLAS_PIPELINE__D__REPAIR_ITERATIONS"}
    assert shown["llm.api_key"]["value"] == "***" and KEY not in result.output
    assert shown["condition"]["source"] == f"file {file}"
    assert shown["theme"] == {"value": "dark", "source": "default"}


def test_the_backend_gets_its_own_knobs_only() -> None:
    config = load_config(path=Path("/nonexistent.toml"), env={},
                         flags={"llm.n_ctx": 2048, "llm.api_key": KEY})
    assert config.backend_knobs() == {"n_ctx": 2048}  # llama.cpp: no API key
    served = config.replace(base_url="http://127.0.0.1:1/v1")
    assert served.backend_knobs() == {"api_key": KEY}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"llm.n_ctxx": 1}, "unknown llm setting 'n_ctxx'"),
        ({"llm.n_ctx": "big"}, "llm.n_ctx: expected int"),
        ({"pipeline.kk": 1}, "unknown pipeline knob 'kk'"),
        ({"pipeline.D.k": True}, "pipeline.D.k: expected int"),
        ({"pipeline.selection": "best"}, "pipeline.selection: 'best' is not one of probe"),
    ],
)
def test_a_bad_knob_is_refused_with_its_name(flags: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(path=Path("/nonexistent.toml"), env={}, flags=flags)


async def test_a_model_that_fails_to_load_names_the_settings_that_help(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """The out-of-memory advice reaches the workbench's dialog with the settings it names."""
    from ui_support import screen_text

    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)  # a GGUF header and nothing after it
    app = create_app(make_folder(tmp_path / "problems"), Config(model=str(broken)),
                     sandbox_factory=lambda: sandbox, store_path=tmp_path / "s.sqlite",
                     watch=False, animate=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_until(pilot, app.loaded.is_set, "folder loaded")
        app.query_one(ProblemQueue).table.focus()
        await pilot.press("s")
        await wait_until(pilot, lambda: "could not be opened" in screen_text(app),
                         "the screen that says what to do", steps=6000)
        text = " ".join(screen_text(app).replace("│", " ").split())  # the dialog's lines
        assert "Out of memory? Lower the context, llm.n_ctx" in text
        assert "llm.n_ctx" in text and "ATLAS_LLM__N_CTX" in text and "--set llm.n_ctx=" in text
        # every setting the message names is one the settings know
        assert load_config(path=Path("/nonexistent.toml"), env={}, flags={
            "llm.n_ctx": 2048, "llm.cache_type_k": "q8_0", "llm.n_gpu_layers": 0})


async def test_llama_cpp_messages_that_suggest_a_setting_name_one_that_exists(
    tmp_path: Path, tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The out-of-memory advice (and the full-context and flash-attention messages) name the
    workbench's own settings, llm.KEY; the three ways the advice spells out for the context
    (--set, ATLAS_ variable, config file) each reach that setting in `atlas-tui config`."""
    import re

    from atlas_tui.knobs import LLM
    from engine.llm.base import BackendError, SamplingParams
    from engine.llm.llamacpp import LlamaCppBackend, LlamaCppConfig

    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(BackendError) as loading:
        await LlamaCppBackend.open(broken)
    async with await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(n_ctx=256)) as backend:
        with pytest.raises(BackendError) as full:
            await backend.generate("word " * 300, SamplingParams(max_tokens=4))
    with pytest.raises(BackendError) as flash:
        await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(cache_type_v="q8_0",
                                                              flash_attn=False))
    with pytest.raises(BackendError) as sequences:
        await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(n_seq_max=0))
    async with await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(embeddings=False)) as plain:
        with pytest.raises(BackendError) as no_embeddings:
            await plain.embed("x")
    oom = str(loading.value)
    assert "Out of memory?" in oom and "n_ctx" in oom and "n_gpu_layers" in oom
    for message in (oom, str(full.value), str(flash.value), str(sequences.value),
                    str(no_embeddings.value)):
        named = set(re.findall(r"\bllm\.(\w+)", message))
        assert named and named <= set(LLM), (message, named - set(LLM))
        assert not re.search(r"(?<![.\w])(n_ctx|flash_attn|cache_type_v)=", message), message

    [(key, flag_value)] = set(re.findall(r"--set llm\.(\w+)=(\d+)", oom))
    [(variable, env_value)] = set(re.findall(r"(ATLAS_LLM__\w+)=(\d+)", oom))
    [(file_key, file_value)] = set(re.findall(r"(\w+) = (\d+) under \[llm\]", oom))
    assert key == file_key == "n_ctx" and variable == "ATLAS_LLM__N_CTX"
    file = tmp_path / "config.toml"
    for way, args, expected_source in (
        ("flag", ["--set", f"llm.{key}={flag_value}"], "flag"),
        ("env", [], f"env {variable}"),
        ("file", [], f"file {file}"),
    ):
        file.write_text(f"[llm]\n{file_key} = {file_value}\n" if way == "file" else "")
        with monkeypatch.context() as env:
            if way == "env":
                env.setenv(variable, env_value)
            result = CliRunner().invoke(main, ["config", "--config", str(file), "--json", *args])
        assert result.exit_code == 0, result.output
        shown = json.loads(result.output)[f"llm.{key}"]
        assert shown == {"value": 4096, "source": expected_source}, way
