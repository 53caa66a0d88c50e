"""The engine's parts the workbench holds: the model (backend), the sandbox and each model's
Lens, each made on first use and kept until the app closes.

Everything slow runs in a Textual worker thread, never on the UI's event loop: opening the
model (a GGUF load, a Hugging Face download, a server's probe), starting the sandbox, and
loading a trained Lens (its import of torch takes a second; torch's native library is loaded
first with the GIL released, `engine.lens.native`, so the import stalls the loop less).
`loading` says what runs now and since when, so the status bar shows it; tests wait on the
workers (`app.workers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from textual.app import App
from textual.worker import WorkerFailed, get_current_worker

from atlas_tui.config import Config
from atlas_tui.knobs import LLM
from engine.lens.interface import EnergyScorer, NeutralLens
from engine.llm.base import Backend
from engine.sandbox.interface import TestRunner

Factory = Callable[[], Any]  # returns a value or an awaitable of one
LOAD_GROUP = "load"
DOWNLOAD_POLL_S = 0.5


class ModelUnavailable(RuntimeError):
    """No model is configured, or the configured one could not be opened."""


class Resources:
    def __init__(
        self,
        app: App[Any],
        config: Callable[[], Config],
        *,
        backend_factory: Factory | None = None,
        sandbox_factory: Factory | None = None,
        on_change: Callable[[], None] = lambda: None,
        on_model_failed: Callable[[str], None] = lambda reason: None,
    ) -> None:
        self._app = app
        self._config = config
        self._backend_factory = backend_factory
        self._sandbox_factory = sandbox_factory
        self._on_change = on_change
        self._on_model_failed = on_model_failed
        self.backend_now: Backend | None = None
        self.sandbox_now: TestRunner | None = None
        self._lenses: dict[str, EnergyScorer] = {}
        self._backend_lock = asyncio.Lock()
        self._sandbox_lock = asyncio.Lock()
        self._lens_lock = asyncio.Lock()
        self.loading: dict[str, float] = {}  # what is being made -> since (monotonic)
        self.downloaded = ""  # how much of a Hugging Face download arrived, while one runs

    @property
    def scripted(self) -> bool:
        """The backend comes from a factory the caller gave (tests, benchmarks)."""
        return self._backend_factory is not None

    # --- the parts ------------------------------------------------------------------------

    async def backend(self) -> Backend:
        async with self._backend_lock:
            if self.backend_now is None:
                if self._backend_factory is not None:
                    made = await self._off_loop("opening the model", self._backend_factory)
                else:
                    made = await self._open_configured()
                self.backend_now = made
                self._on_change()
            return self.backend_now

    async def sandbox(self) -> TestRunner:
        async with self._sandbox_lock:
            if self.sandbox_now is None:
                factory = self._sandbox_factory or _default_sandbox
                # engine.sandbox.Sandbox (or a test's runner): the one call the workbench makes
                made = await self._off_loop("starting the sandbox", factory)
                self.sandbox_now = cast(TestRunner, made)
                self._on_change()
            return self.sandbox_now

    async def lens(self, model: str) -> EnergyScorer:
        """The model's trained Lens if `atlas-tui lens train` made one, else the neutral one;
        loaded once per model, in a thread (it imports torch)."""
        async with self._lens_lock:
            if model not in self._lenses:
                self._lenses[model] = await self._off_loop("loading the Lens (torch)",
                                                           lambda: _lens_for(model))
            return self._lenses[model]

    def forget_backend(self) -> None:
        """The next solve opens the model anew (another one was pulled or configured)."""
        self.backend_now = None

    async def close(self) -> None:
        for resource in (self.backend_now, self.sandbox_now):
            close = getattr(resource, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):  # on the way out: nothing left to tell
                    result = close()
                    if inspect.isawaitable(result):
                        await result

    # --- how --------------------------------------------------------------------------------

    async def _open_configured(self) -> Backend:
        config = self._config()
        if not config.has_model:
            raise ModelUnavailable("no model configured (press ? or see the README: --model)")
        base_url = config.base_url if config.backend != "llama.cpp" else None
        if not base_url and config.model:
            self._watch_download(config.model)

        def open_it() -> Any:
            from engine.llm.resolve import open_backend  # llama.cpp, huggingface_hub: slow

            return open_backend(config.model, base_url, **config.backend_knobs())

        try:
            return await self._off_loop("opening the model", open_it)
        except Exception as exc:
            message = f"The model could not be opened: {type(exc).__name__}: {exc}"
            message += where_knobs_live(str(exc))
            self._on_model_failed(message)
            raise ModelUnavailable(message) from exc

    async def _off_loop(self, what: str, factory: Factory) -> Any:
        """Run `factory` in a worker thread; an awaitable it returns is awaited here."""
        self.loading[what] = time.monotonic()
        self._on_change()
        try:
            worker = self._app.run_worker(factory, name=what, group=LOAD_GROUP, thread=True,
                                          exit_on_error=False)
            try:
                made = await worker.wait()
            except WorkerFailed as failed:
                raise failed.error from None
            if inspect.isawaitable(made):
                made = await made
            return made
        finally:
            self.loading.pop(what, None)
            self._on_change()

    def describe_loading(self, now: float) -> str:
        """For the status bar: what is being made, and for how long (and how much of a
        Hugging Face download has arrived)."""
        parts = [f"{what} {now - since:.0f}s" for what, since in self.loading.items()]
        if self.loading and self.downloaded:
            parts.append(self.downloaded)
        return " · ".join(parts)

    def _watch_download(self, model: str) -> None:
        """While the model opens, a second worker reads how much of a Hugging Face download
        has arrived (huggingface_hub writes it into its cache as blobs/*.incomplete, and
        resolve_model takes no progress callback), for the status bar."""
        if "/" not in model or Path(model).expanduser().exists():
            return  # a local file or a catalogue name: nothing is downloaded here

        def watch() -> None:
            worker = get_current_worker()
            folder = hub_folder(model)
            while not worker.is_cancelled and self.loading:
                arrived = sum(p.stat().st_size for p in folder.glob("blobs/*.incomplete")) \
                    if folder.is_dir() else 0
                self.downloaded = f"downloading {arrived / 2**20:.1f} MB" if arrived else ""
                self._app.call_from_thread(self._on_change)
                time.sleep(DOWNLOAD_POLL_S)
            self.downloaded = ""

        self.downloaded = ""
        self._app.run_worker(watch, name="download progress", group=LOAD_GROUP, thread=True,
                             exit_on_error=False)


def hub_folder(model: str) -> Path:
    """Where huggingface_hub caches the repo of a `owner/repo[:pattern]` model spec."""
    from huggingface_hub import constants
    from huggingface_hub.file_download import repo_folder_name

    repo = model.partition(":")[0]
    return Path(constants.HF_HUB_CACHE) / repo_folder_name(repo_id=repo, repo_type="model")


def where_knobs_live(message: str) -> str:
    """A message that names a backend knob bare (a library's, or an older backend's): say
    where a person sets it, by the names the settings know. The engine's own messages name
    them as settings already (llm.n_ctx with its flag and variable): nothing to add."""
    named = [name for name in LLM if re.search(rf"\b{name}\b", message)]
    if not named or re.search(r"\bllm\.\w", message):
        return ""
    first = named[0]
    return (f"\nSettings named above: {', '.join(f'llm.{n}' for n in named)}, set under [llm] "
            f"in the config file ({first} = ...), as ATLAS_LLM__{first.upper()}, or with "
            f"--set llm.{first}=...; `atlas-tui config` lists them.")


def _lens_for(model: str) -> EnergyScorer:
    from engine.lens.paths import default_artifact_path

    if not default_artifact_path(model).is_file():
        return NeutralLens()  # no Lens trained for this model: torch is never imported
    from engine.lens.native import preload_torch

    preload_torch()  # its native library without the GIL: the import below then holds it less
    from engine.lens.scorer import lens_for  # imports torch (about a second, in this thread)

    return lens_for(model)


def _default_sandbox() -> Any:
    from engine.sandbox import Sandbox

    return Sandbox.create()
