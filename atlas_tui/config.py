"""The workbench's settings: defaults, then a TOML file in the user config directory, then
`ATLAS_*` environment variables, then command-line flags (each later layer wins).

Every setting can be given all three ways. Top-level ones and `[limits]` have their own
variables and flags (ATLAS_MODEL, --model); every one, tables included, also has a variable
`ATLAS_<TABLE>__<KEY>` (ATLAS_LLM__N_CTX=4096, ATLAS_PIPELINE__K=3,
ATLAS_PIPELINE__D__REPAIR_ITERATIONS=1) and a flag `--set TABLE.KEY=VALUE` (--set llm.n_ctx=4096,
--set pipeline.D.k=2); values there are read as JSON when they are JSON. The tables:
`[limits]`, `[keymap]`, `[llm]` (the backend's knobs, see `atlas_tui.knobs.LLM`) and
`[pipeline]` (PipelineConfig's knobs for every condition, `[pipeline.D]` for one).
`Config.sources` says where each given setting came from (`atlas-tui config` shows it).

The file lives at `platformdirs.user_config_dir("atlas-tui")/config.toml` unless `ATLAS_CONFIG`
names another. A bad file is a `ConfigError` that names the file and the key; it never starts
the app with half a config.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from atlas_tui import knobs
from engine.pipeline.config import PipelineConfig

APP_NAME = "atlas-tui"
CONDITIONS = ("A", "B", "C", "D", "full")
BACKENDS = ("auto", "llama.cpp", "openai")
THEMES = ("dark", "light", "high-contrast")


class ConfigError(ValueError):
    """The config file, an environment variable or a flag holds a value we cannot use."""


def config_path() -> Path:
    override = os.environ.get("ATLAS_CONFIG")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


@dataclass(frozen=True, slots=True)
class Limits:
    time_s: float = 6.0  # per test, as LiveCodeBench
    memory_mb: int = 1024


@dataclass(frozen=True, slots=True)
class Config:
    model: str | None = None  # a GGUF path or a Hugging Face repo id (with a file name)
    backend: str = "auto"  # "auto" picks openai when base_url is set, else llama.cpp
    base_url: str | None = None  # an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1
    condition: str = "full"
    limits: Limits = field(default_factory=Limits)
    keymap: Mapping[str, str] = field(default_factory=dict)  # binding id -> "key1,key2"
    theme: str = "dark"
    auto_solve: bool = False
    output_dir: str | None = None  # None: answers are written next to each problem
    step_mode: bool = False  # pause before every step from the start
    store: str | None = None  # SQLite file for sessions; None: <problem dir>/.atlas/sessions.sqlite
    llm: Mapping[str, Any] = field(default_factory=dict)  # backend knobs given (knobs.LLM)
    pipeline: Mapping[str, Any] = field(default_factory=dict)  # knobs for every condition
    pipeline_by_condition: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # dotted setting -> where it came from ("file PATH", "env NAME", "flag"); defaults absent
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def has_model(self) -> bool:
        return bool(self.model or self.base_url)

    @property
    def backend_kind(self) -> str:
        """Which backend opens the model: openai with a server URL, else llama.cpp."""
        if self.backend != "auto":
            return self.backend
        return "openai" if self.base_url else "llama.cpp"

    def backend_knobs(self) -> dict[str, Any]:
        """The [llm] knobs the chosen backend takes (n_ctx is llama.cpp's, api_key a server's)."""
        return knobs.backend_knobs(self.llm, self.backend_kind)

    def pipeline_config(self, condition: str | None = None) -> PipelineConfig:
        """The pipeline's knobs for `condition` (default: the configured one)."""
        return knobs.pipeline_config(condition or self.condition, self.pipeline,
                                     self.pipeline_by_condition)

    def replace(self, **changes: Any) -> Config:
        return _validated(dataclasses.replace(self, **changes), "a change")


# --- layers ----------------------------------------------------------------------------------

_SCALARS: dict[str, type] = {
    "model": str,
    "backend": str,
    "base_url": str,
    "condition": str,
    "theme": str,
    "auto_solve": bool,
    "output_dir": str,
    "step_mode": bool,
    "store": str,
}
_LIMITS: dict[str, type] = {"time_s": float, "memory_mb": int}

# ATLAS_<NAME> -> key; limits are flat in the environment.
ENV_KEYS: dict[str, str] = {
    "ATLAS_MODEL": "model",
    "ATLAS_BACKEND": "backend",
    "ATLAS_BASE_URL": "base_url",
    "ATLAS_CONDITION": "condition",
    "ATLAS_THEME": "theme",
    "ATLAS_AUTO_SOLVE": "auto_solve",
    "ATLAS_OUTPUT_DIR": "output_dir",
    "ATLAS_STEP_MODE": "step_mode",
    "ATLAS_STORE": "store",
    "ATLAS_TIME_LIMIT": "limits.time_s",
    "ATLAS_MEMORY_MB": "limits.memory_mb",
}


def load_config(
    *,
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Config:
    """Defaults < file < environment < flags. Flags whose value is None are not given; flags
    are dotted names (`limits.time_s`, `llm.n_ctx`, `pipeline.D.k`)."""
    path = path or config_path()
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    if path.is_file():
        data = _read_file(path)
    sources: dict[str, str] = {}
    config = _apply(Config(), data, where=str(path))
    sources.update(dict.fromkeys(_dotted(data), f"file {path}"))
    from_env, names = _from_env(env)
    config = _apply(config, from_env, where="the environment")
    sources.update({key: f"env {names.get(key, '?')}" for key in _dotted(from_env)})
    given = _nest({k: v for k, v in (flags or {}).items() if v is not None})
    config = _apply(config, given, where="the command line")
    sources.update(dict.fromkeys(_dotted(given), "flag"))
    return dataclasses.replace(config, sources=sources)


def _dotted(nested: Mapping[str, Any], prefix: str = "") -> list[str]:
    """{"llm": {"n_ctx": 1}} -> ["llm.n_ctx"]; template_variables stays one setting."""
    out = []
    for key, value in nested.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and name not in ("llm.template_variables",):
            out += _dotted(value, f"{name}.")
        else:
            out.append(name)
    return out


def _read_file(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})") from exc


def _from_env(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings the environment gives, nested, and the variable each dotted key came from."""
    flat: dict[str, Any] = {}
    names: dict[str, str] = {}
    for name, key in ENV_KEYS.items():
        if name in env:
            flat[key] = _parse_env(name, key, env[name])
            names[key] = name
    for name, value in env.items():  # ATLAS_KEY_SOLVE=ctrl+s remaps one binding
        if name.startswith("ATLAS_KEY_") and value:
            flat[f"keymap.{name.removeprefix('ATLAS_KEY_').lower()}"] = value
            names[f"keymap.{name.removeprefix('ATLAS_KEY_').lower()}"] = name
        elif name.startswith("ATLAS_") and "__" in name:  # ATLAS_LLM__N_CTX=4096
            path = name.removeprefix("ATLAS_").split("__")
            dotted = ".".join([p.lower() for p in path[:-1]] + [path[-1].lower()])
            if len(path) == 3 and path[0] == "PIPELINE":  # ATLAS_PIPELINE__D__K: a condition
                dotted = f"pipeline.{_condition_name(path[1])}.{path[2].lower()}"
            flat[dotted] = _parse_env(name, dotted, value)
            names[dotted] = name
    return _nest(flat), names


def _condition_name(text: str) -> str:
    return next((c for c in CONDITIONS if c.lower() == text.lower()), text)


def _parse_env(name: str, key: str, raw: str) -> Any:
    if key.split(".")[0] in ("llm", "pipeline", "keymap"):
        return knobs.parse_text(raw)  # typed when applied
    if key.startswith("limits.") and key.removeprefix("limits.") not in _LIMITS:
        raise ConfigError(f"{name}: unknown limit (known: time_s, memory_mb)")
    if ("." not in key and key not in _SCALARS) or (
            "." in key and not key.startswith("limits.")):
        raise ConfigError(f"{name}: unknown setting {key!r} (tables: limits, keymap, llm, "
                          "pipeline)")
    kind = _LIMITS.get(key.removeprefix("limits.")) if key.startswith("limits.") else _SCALARS[key]
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{name}={raw!r}: expected true or false")
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}={raw!r}: expected a number") from exc
    return raw


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """{"limits.time_s": 2} -> {"limits": {"time_s": 2}}."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *heads, last = key.split(".")
        table = nested
        for head in heads:
            table = table.setdefault(head, {})
        table[last] = value
    return nested


def _apply(config: Config, data: Mapping[str, Any], *, where: str) -> Config:
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key in _SCALARS:
            changes[key] = _typed(value, _SCALARS[key], f"{where}: {key}")
        elif key == "limits":
            changes["limits"] = _limits(config.limits, value, where)
        elif key == "keymap":
            changes["keymap"] = {**config.keymap, **_keymap(value, where)}
        elif key == "llm":
            changes["llm"] = {**config.llm, **_table(value, knobs.llm_value, where, "llm")}
        elif key == "pipeline":
            common, by_condition = _pipeline(value, where)
            changes["pipeline"] = {**config.pipeline, **common}
            merged = {c: dict(v) for c, v in config.pipeline_by_condition.items()}
            for condition, table in by_condition.items():
                merged[condition] = {**merged.get(condition, {}), **table}
            changes["pipeline_by_condition"] = merged
        else:
            known = ", ".join([*_SCALARS, "limits", "keymap", "llm", "pipeline"])
            raise ConfigError(f"{where}: unknown setting {key!r} (known: {known})")
    for key in ("model", "base_url", "output_dir", "store"):
        if changes.get(key) == "":
            changes[key] = None  # an empty string clears a setting from an earlier layer
    return _validated(dataclasses.replace(config, **changes), where)


def _table(value: Any, check: Any, where: str, name: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: {name} must be a table, got {value!r}")
    try:
        return {str(k): check(str(k), v) for k, v in value.items()}
    except knobs.KnobError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _pipeline(value: Any, where: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """[pipeline] knobs for every condition, and [pipeline.D] tables for one condition."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: pipeline must be a table, got {value!r}")
    common = {k: v for k, v in value.items() if k not in CONDITIONS}
    by_condition = {}
    for condition in CONDITIONS:
        if condition in value:
            by_condition[condition] = _table(
                value[condition], lambda k, v, c=condition: knobs.pipeline_value(
                    k, v, f"pipeline.{c}"), where, f"pipeline.{condition}")
    return _table(common, knobs.pipeline_value, where, "pipeline"), by_condition


def _typed(value: Any, kind: type, where: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: expected {kind.__name__}, got {value!r}")
    return value


def _limits(current: Limits, value: Any, where: str) -> Limits:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: limits must be a table, got {value!r}")
    changes = {}
    for key, item in value.items():
        if key not in _LIMITS:
            raise ConfigError(f"{where}: unknown limit {key!r} (known: time_s, memory_mb)")
        changes[key] = _typed(item, _LIMITS[key], f"{where}: limits.{key}")
    return dataclasses.replace(current, **changes)


def _keymap(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: keymap must be a table of binding id = \"keys\"")
    keymap = {}
    for binding_id, keys in value.items():
        if not isinstance(keys, str) or not keys.strip():
            raise ConfigError(f"{where}: keymap.{binding_id} must be keys like \"ctrl+s\"")
        keymap[str(binding_id)] = keys
    return keymap


def _validated(config: Config, where: str) -> Config:
    if config.condition not in CONDITIONS:
        raise ConfigError(f"{where}: condition {config.condition!r} is not one of {CONDITIONS}")
    if config.backend not in BACKENDS:
        raise ConfigError(f"{where}: backend {config.backend!r} is not one of {BACKENDS}")
    if config.theme not in THEMES:
        raise ConfigError(f"{where}: theme {config.theme!r} is not one of {THEMES}")
    if config.limits.time_s <= 0 or config.limits.memory_mb <= 0:
        raise ConfigError(f"{where}: limits must be positive, got {config.limits}")
    for condition in CONDITIONS:  # knobs that fit alone may still not build a config
        try:
            config.pipeline_config(condition)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: pipeline for condition {condition}: {exc}") from exc
    return config


def write_default_config(path: Path | None = None) -> Path:
    """Write a commented starting file (only if none exists) and return its path."""
    path = path or config_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(DEFAULT_FILE, encoding="utf-8")
    return path


DEFAULT_FILE = """\
# atlas-tui settings. Environment variables (ATLAS_MODEL, ATLAS_BASE_URL, ...) and
# command-line flags override what is written here.

# model = "~/models/Qwen3-14B-Q4_K_M.gguf"     # a GGUF file, or "owner/repo:file.gguf"
# base_url = "http://127.0.0.1:8080/v1"         # an OpenAI-compatible server instead
# backend = "auto"                              # auto, llama.cpp or openai
condition = "full"                              # A, B, C, D or full
theme = "dark"                                  # dark, light or high-contrast
auto_solve = false                              # solve new problems as they appear
# output_dir = "answers"                        # default: next to each problem

[limits]
time_s = 6.0
memory_mb = 1024

[llm]
# The backend's knobs (atlas-tui config lists them all). For out-of-memory errors: lower n_ctx,
# cache_type_k/cache_type_v = "q8_0", or fewer n_gpu_layers.
# n_ctx = 8192
# n_gpu_layers = -1
# api_key = "..."                               # an OpenAI-compatible server's key
# chat_template = "chatml"
# template_variables = { enable_thinking = false }

[pipeline]
# PipelineConfig's knobs for every condition; [pipeline.D] for condition D only.
# k = 4
# repair_iterations = 3

[keymap]
# binding id = "keys" (comma separated); see the help screen (?) for every id.
# solve = "s"
# quit = "q,ctrl+q"
"""
