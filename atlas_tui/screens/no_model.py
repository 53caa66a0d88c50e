"""Shown when no model is configured or the model failed to load: what to do about it. The
rest of the workbench (browsing, running a candidate on the examples) still works."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

NO_MODEL_TEXT = """\
# No model yet

{reason}

Solving needs a model. Everything else works without one: browse the problems, read them,
edit a candidate and run it on the examples in the sandbox.

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


class NoModelScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    NoModelScreen { align: center middle; }
    #no-model-body { width: 84; height: 90%; border: round $warning; background: $surface;
                     padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "dismiss", "Browse without a model", id="no_model_close"),
    ]

    def __init__(self, reason: str, config_file: str) -> None:
        super().__init__()
        self._text = NO_MODEL_TEXT.format(reason=reason, config_file=config_file)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="no-model-body"):
            yield Markdown(self._text)
