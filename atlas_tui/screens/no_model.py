"""Shown when no model is configured or the model failed to load: what to do about it, and
the pull of a catalogue model (the default one) from right here, with its progress. The rest of
the workbench (browsing, running a candidate on the examples) still works."""

from __future__ import annotations

import time
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Markdown, ProgressBar
from textual.worker import get_current_worker

from engine.models import pull as pulling
from engine.models.catalogue import CatalogueModel

FRAME_S = 0.1  # progress reaches the screen at most this often

NO_MODEL_TEXT = """\
# No model yet

{reason}

Solving needs a model. Everything else works without one: browse the problems, read them,
edit a candidate and run it on the examples in the sandbox.

## Press p to download {name}

{model}, {licence}: {size} MB, every part checked against its pinned sha256 before it is used.
Escape stops it; what was checked is kept and the next pull goes on from there. In a shell:
`atlas-tui models pull {name}` (and `atlas-tui models list` for the others).

## A GGUF file, run in-process by llama.cpp

```
atlas-tui PROBLEM_DIR --model ~/models/Qwen3-14B-Q4_K_M.gguf
atlas-tui PROBLEM_DIR --model Qwen/Qwen3-14B-GGUF:Qwen3-14B-Q4_K_M.gguf
```

A path to a `.gguf` file, or a Hugging Face repo id with the file name after a colon
(downloaded once, with a progress bar).

## An OpenAI-compatible server

```
llama-server -m model.gguf --port 8080        # or vLLM, SGLang, Ollama
atlas-tui PROBLEM_DIR --base-url http://127.0.0.1:8080/v1
```

## Or once, in the config file

`{config_file}`

```
model = "~/models/Qwen3-14B-Q4_K_M.gguf"
# base_url = "http://127.0.0.1:8080/v1"
```

The environment works too: `ATLAS_MODEL`, `ATLAS_BASE_URL`.

Press **Escape** to browse the problems.
"""


class NoModelScreen(ModalScreen[str | None]):
    """Dismissed with the catalogue name of a model it pulled, or None."""

    DEFAULT_CSS = """
    NoModelScreen { align: center middle; }
    #no-model-body { width: 84; height: 90%; border: round $warning; background: $surface;
                     padding: 0 1; }
    #pull-status { width: 100%; margin: 1 0 0 0; }
    NoModelScreen ProgressBar { display: none; }
    NoModelScreen.pulling ProgressBar { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", "Browse without a model", id="no_model_close"),
        Binding("p", "pull", "Download the model", id="no_model_pull"),
    ]

    def __init__(self, reason: str, config_file: str, offer: CatalogueModel) -> None:
        super().__init__()
        self.offer = offer
        self._note = ""
        self._text = NO_MODEL_TEXT.format(
            reason=reason, config_file=config_file, name=offer.name, model=offer.model,
            licence=offer.licence, size=f"{offer.size / 1e6:.0f}")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="no-model-body"):
            yield Label("", id="pull-status")
            yield ProgressBar(id="pull-overall", total=self.offer.size, show_eta=True)
            yield ProgressBar(id="pull-part", total=1, show_eta=False)
            yield Markdown(self._text)

    def action_close(self) -> None:
        self.workers.cancel_group(self, "pull")  # a pull stops at its next chunk, resumable
        self.dismiss(None)

    def action_pull(self) -> None:
        if not self.has_class("pulling"):
            self.add_class("pulling")
            self._pull()

    def show_status(self, text: str) -> None:
        if self.is_attached:  # the pull's last reports may arrive after an Escape
            self.query_one("#pull-status", Label).update(text)

    def show_progress(self, label: str, part_total: int, part_done: int, overall: int) -> None:
        if not self.is_attached:
            return
        self.query_one("#pull-overall", ProgressBar).update(progress=overall)
        self.query_one("#pull-part", ProgressBar).update(total=part_total, progress=part_done)
        self.show_status(label + (f"\n{self._note}" if self._note else ""))

    def note(self, text: str) -> None:
        self._note = text
        self.show_status(text)

    @work(thread=True, exclusive=True, group="pull", exit_on_error=False)
    def _pull(self) -> None:
        """In a thread: the pull reads and hashes hundreds of MB, never on the UI loop."""
        entry = self.offer
        try:
            path = pulling.pull(entry, progress=_ScreenProgress(self))
        except pulling.Cancelled:
            return
        except Exception as exc:  # a failed pull is a message here, never a crashed workbench
            self.app.call_from_thread(self._failed, f"{type(exc).__name__}: {exc}")
            return
        self.app.call_from_thread(self._done, f"{entry.name}: {path}")

    def _failed(self, message: str) -> None:
        self.remove_class("pulling")
        self.show_status(f"The download failed: {message}\nPress p to try again.")

    def _done(self, text: str) -> None:
        self.show_status(f"Ready, verified: {text}")
        self.dismiss(self.offer.name)


class _ScreenProgress(pulling.Progress):
    """Forwards a pull's progress to the screen at most every FRAME_S, and stops the pull when
    the screen's worker is cancelled."""

    def __init__(self, screen: NoModelScreen) -> None:
        self.screen = screen
        self.worker = get_current_worker()
        self.label = ""
        self.size = 1
        self.shown_at = 0.0

    def part(self, label: str, number: int, count: int, size: int) -> None:
        self._check()
        self.label, self.size, self.shown_at = f"part {number}/{count}: {label}", size, 0.0

    def update(self, part_done: int, overall_done: int) -> None:
        self._check()
        now = time.monotonic()
        if now - self.shown_at >= FRAME_S or part_done >= self.size:
            self.shown_at = now
            self.screen.app.call_from_thread(self.screen.show_progress, self.label, self.size,
                                             part_done, overall_done)

    def note(self, text: str) -> None:
        self.screen.app.call_from_thread(self.screen.note, text)

    def _check(self) -> None:
        if self.worker.is_cancelled:
            raise pulling.Cancelled("the download was stopped")
