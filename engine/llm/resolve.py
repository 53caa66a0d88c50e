"""From what the user typed (`--model`, `--base-url`, knobs) to a ready Backend.

`--model` takes a catalogue name, a GGUF path, or a Hugging Face repo id with an optional file
pattern:

- `qwen2.5-coder-0.5b`: a model of the project's catalogue (`atlas-tui models list`), once
  `atlas-tui models pull` has fetched and verified it.
- `~/models/qwen3-14b-q4_k_m.gguf`: that file.
- `Qwen/Qwen3-14B-GGUF:Q4_K_M`: the repo's GGUF whose name carries the quantization tag
  `Q4_K_M` (all parts of a split model), downloaded once into the Hugging Face cache with a
  progress bar; later runs, online or offline, use the cached copy.
- `Qwen/Qwen3-14B-GGUF:*Q8_0*.gguf`: a glob on the file name.
- `Qwen/Qwen3-14B-GGUF`: the repo's only GGUF, or its Q4_K_M when it has several.

`--base-url` (or `OPENAI_BASE_URL`) selects an OpenAI-compatible server instead.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any

from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub import constants as hf_constants
from huggingface_hub import errors as hf_errors

from engine.llm.base import Backend, BackendError
from engine.llm.llamacpp import LlamaCppBackend, LlamaCppConfig
from engine.models import catalogue
from engine.models.pull import hub_unreachable, local

DEFAULT_QUANT = "Q4_K_M"
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)


def open_backend(model: str | None = None, base_url: str | None = None, **knobs: Any
                 ) -> Backend:
    """A ready backend. With `base_url` (or `OPENAI_BASE_URL` and no model path): an
    OpenAI-compatible server, `model` naming the server's model. Otherwise `model` is resolved
    to a GGUF and loaded in-process (blocking until loaded). `knobs` are fields of
    LlamaCppConfig (n_ctx, n_gpu_layers, cache_type_k, flash_attn, n_threads, ...) or of
    OpenAIConfig; unknown ones are an error."""
    if base_url or (model is None and os.environ.get("OPENAI_BASE_URL")):
        from engine.llm.openai_backend import OpenAIBackend, OpenAIConfig

        config = OpenAIConfig(base_url=base_url, model=model,
                              **_knobs_for(OpenAIConfig, knobs, "an OpenAI-compatible server"))
        return OpenAIBackend(config)
    if not model:
        raise BackendError(
            "no model given: pass --model with a catalogue name (atlas-tui models pull "
            f"{catalogue.DEFAULT_MODEL} fetches the default), a GGUF path or a Hugging Face "
            "repo id such as Qwen/Qwen3-14B-GGUF:Q4_K_M, or --base-url for an "
            "OpenAI-compatible server")
    settings = LlamaCppConfig(**_knobs_for(LlamaCppConfig, knobs, "llama.cpp"))
    return LlamaCppBackend.load(resolve_model(model), settings)


def _knobs_for(config_type: type, knobs: dict[str, Any], what: str) -> dict[str, Any]:
    known = {f.name for f in fields(config_type)}
    unknown = sorted(set(knobs) - known)
    if unknown:
        raise BackendError(f"unknown option(s) for {what}: {', '.join(unknown)}; "
                           f"known: {', '.join(sorted(known))}")
    return {k: v for k, v in knobs.items() if v is not None}


def resolve_model(spec: str, *, cache_dir: Path | None = None, offline: bool | None = None,
                  revision: str | None = None, endpoint: str | None = None) -> Path:
    """The local GGUF file `spec` names, downloading it from Hugging Face when needed. For a
    split model, the first part (llama.cpp finds the others beside it). `endpoint` defaults to
    huggingface_hub's (HF_ENDPOINT, for a mirror)."""
    if (entry := catalogue.find(spec)) is not None:
        return catalogue_model(entry)
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    repo, _, pattern = spec.partition(":")
    if path.suffix.lower() == ".gguf" or path.exists() or not _REPO_ID.fullmatch(repo):
        raise BackendError(f"{spec!r} is not a GGUF file here nor a Hugging Face repo id "
                           "(owner/name, optionally :QUANT such as :Q4_K_M)")
    offline = hf_constants.HF_HUB_OFFLINE if offline is None else offline
    endpoint = endpoint or hf_constants.ENDPOINT
    if not offline and (unreachable := hub_unreachable(endpoint)):
        return _from_cache(repo, pattern, cache_dir, revision, reason=unreachable)
    if not offline:
        try:
            files = HfApi(endpoint=endpoint).list_repo_files(repo, revision=revision)
        except (hf_errors.RepositoryNotFoundError, hf_errors.GatedRepoError,
                hf_errors.RevisionNotFoundError) as exc:
            raise BackendError(f"Hugging Face has no accessible repo {repo!r}: {exc}. Check "
                               "the name; for a gated repo log in with `hf auth login`") from exc
        except Exception as exc:  # no network, DNS, proxy, TLS: use the cache instead
            return _from_cache(repo, pattern, cache_dir, revision, reason=str(exc))
        chosen = choose_gguf(files, pattern, repo)
        downloaded = [
            hf_hub_download(repo, name, revision=revision, cache_dir=cache_dir,
                            endpoint=endpoint)
            for name in chosen
        ]
        return Path(downloaded[0])
    return _from_cache(repo, pattern, cache_dir, revision, reason="offline mode (HF_HUB_OFFLINE)")


def catalogue_model(entry: catalogue.CatalogueModel) -> Path:
    """The verified file of a catalogue model; it is never fetched here (a pull is a download
    of hundreds of MB that a person starts: `atlas-tui models pull`, or the workbench)."""
    path = local(entry)
    if path is None:
        raise BackendError(
            f"{entry.name} is not downloaded yet (or no longer matches its digest): run "
            f"`atlas-tui models pull {entry.name}` ({entry.size / 1e6:.0f} MB, verified)")
    return path


def _from_cache(repo: str, pattern: str, cache_dir: Path | None, revision: str | None,
                *, reason: str) -> Path:
    try:
        folder = Path(snapshot_download(repo, revision=revision, cache_dir=cache_dir,
                                        local_files_only=True, allow_patterns=["*.gguf"]))
    except (hf_errors.LocalEntryNotFoundError, FileNotFoundError, OSError) as exc:
        where = cache_dir or hf_constants.HF_HUB_CACHE
        raise BackendError(
            f"cannot download {repo} ({reason}) and it is not in the Hugging Face cache at "
            f"{where}. Either connect once so it can be downloaded, or fetch the .gguf file "
            "on another machine and pass its path: --model /path/to/model.gguf") from exc
    files = [p.relative_to(folder).as_posix() for p in folder.rglob("*.gguf")]
    return folder / choose_gguf(files, pattern, repo)[0]


def choose_gguf(files: Iterable[str], pattern: str, repo: str) -> list[str]:
    """The files of the one model in `files` that `pattern` picks (a quantization tag such as
    Q4_K_M, or a glob); all parts of a split model, first part first."""
    models: dict[str, list[str]] = {}
    for name in sorted(files):
        base = name.rsplit("/", 1)[-1]
        if not base.lower().endswith(".gguf") or base.lower().startswith("mmproj"):
            continue
        key = _SPLIT.sub(".gguf", name)  # the parts of a split model group under one name
        models.setdefault(key, []).append(name)
    if not models:
        raise BackendError(f"{repo} has no .gguf files; pick a GGUF repo (often named ...-GGUF)")
    if pattern:
        matching = [key for key in models if _matches(key, pattern)]
    else:
        matching = list(models) if len(models) == 1 else [
            key for key in models if _matches(key, DEFAULT_QUANT)]
    if len(matching) != 1:
        listing = ", ".join(key.rsplit("/", 1)[-1] for key in models)
        verdict = ("no file matches" if not matching else "several files match") + (
            f" {pattern!r}" if pattern else f" (no pattern given, default {DEFAULT_QUANT})")
        raise BackendError(f"in {repo}, {verdict}. Add :QUANT or a glob after the repo id; "
                           f"it has: {listing}")
    return models[matching[0]]


def _matches(name: str, pattern: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    if any(c in pattern for c in "*?[") or pattern.lower().endswith(".gguf"):
        return fnmatch.fnmatch(base.lower(), pattern.lower())
    tag = re.compile(rf"(?<![A-Za-z0-9]){re.escape(pattern)}(?![A-Za-z0-9_])", re.IGNORECASE)
    return bool(tag.search(base))
