"""Which chat template OpenAIBackend applies on the client for raw /v1/completions calls.

Budget forcing needs a raw prompt (it stops the model and continues the same text), so messages
must be rendered exactly as the model was trained to see them. Where the template comes from, in
order: the one configured (`chat_template`: the Jinja text from the model's tokenizer_config.json
or its GGUF `tokenizer.chat_template`, or a known name such as "chatml"); the one the server
publishes (llama-server's GET /props); a known template guessed from the model id (Qwen: ChatML).
Rendering is the project's one ChatTemplate (engine/llm/chat_template.py), shared with the
in-process backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.llm.chat_template import CHATML, ChatTemplate

KNOWN_TEMPLATES: dict[str, str] = {"chatml": CHATML}


@dataclass(frozen=True)
class ChosenTemplate:
    template: ChatTemplate
    origin: str  # "configured", "known:chatml", "server", "guessed:chatml"


def guess_template_name(model_id: str) -> str | None:
    """A known template for a model id, only where the family is unambiguous."""
    name = model_id.lower()
    if "qwen" in name and "deepseek" not in name:
        return "chatml"
    return None


def choose_template(
    *,
    configured: str | None,
    served: str | None,
    model_id: str,
    bos_token: str = "",
    eos_token: str = "",
    variables: Mapping[str, Any] | None = None,
) -> ChosenTemplate | None:
    """The template to render with, and where it came from; None when there is none."""
    if configured:
        if configured in KNOWN_TEMPLATES:
            source, origin = KNOWN_TEMPLATES[configured], f"known:{configured}"
        else:
            source, origin = configured, "configured"
    elif served:
        source, origin = served, "server"
    elif (name := guess_template_name(model_id)) is not None:
        source, origin = KNOWN_TEMPLATES[name], f"guessed:{name}"
    else:
        return None
    template = ChatTemplate(source, bos_token=bos_token, eos_token=eos_token, variables=variables)
    return ChosenTemplate(template, origin)
