"""The model's chat template, applied on the client for raw /v1/completions calls.

Budget forcing needs a raw prompt (it stops the model and continues the same text), so messages
must be rendered exactly as the model was trained to see them. Where the template comes from, in
order: the one configured (the Jinja text from the model's tokenizer_config.json or its GGUF
`tokenizer.chat_template`, or a known name such as "chatml"); the one the server publishes
(llama-server's GET /props); a known template guessed from the model id (Qwen: ChatML).
Rendering follows Hugging Face's apply_chat_template: a sandboxed Jinja environment with
trim_blocks and lstrip_blocks, `messages`, `add_generation_prompt`, `bos_token`, `eos_token`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.llm.base import BackendError, ChatMessage

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

KNOWN_TEMPLATES: dict[str, str] = {"chatml": CHATML}


def guess_template_name(model_id: str) -> str | None:
    """A known template for a model id, only where the family is unambiguous."""
    name = model_id.lower()
    if "qwen" in name and "deepseek" not in name:
        return "chatml"
    return None


def _raise(message: str) -> None:
    raise jinja2.TemplateError(message)


@dataclass(frozen=True)
class ChatTemplate:
    """A Jinja chat template with the special tokens it refers to."""

    source: str
    bos_token: str = ""
    eos_token: str = ""
    origin: str = "configured"  # "configured", "server", "known:<name>"

    @classmethod
    def from_setting(
        cls, setting: str, *, bos_token: str = "", eos_token: str = ""
    ) -> ChatTemplate:
        """A known name ("chatml") or the Jinja text itself."""
        if setting in KNOWN_TEMPLATES:
            return cls(KNOWN_TEMPLATES[setting], bos_token, eos_token, f"known:{setting}")
        return cls(setting, bos_token, eos_token, "configured")

    @cached_property
    def _compiled(self) -> jinja2.Template:
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = _raise
        env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
        try:
            return env.from_string(self.source)
        except jinja2.TemplateError as exc:
            raise BackendError(f"the chat template ({self.origin}) does not parse: {exc}") from exc

    def render(self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True) -> str:
        try:
            return self._compiled.render(
                messages=[{"role": m.role, "content": m.content} for m in messages],
                add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
        except jinja2.TemplateError as exc:
            raise BackendError(f"the chat template ({self.origin}) failed: {exc}") from exc
