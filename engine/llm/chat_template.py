"""A model's own chat template, rendered client-side into a raw prompt.

The template comes from the GGUF metadata (`tokenizer.chat_template`) or, for a server, from
configuration. Rendering uses llama-cpp-python's Jinja2 formatter, which follows the
Hugging Face conventions (sandboxed Jinja, `tojson`, `raise_exception`, `strftime_now`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from engine.llm.base import BackendError, ChatMessage

# Used when a model ships no template: ChatML, the format most instruction-tuned models use.
CHATML = (
    "{%- for message in messages %}"
    "{{ '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}"
)


class ChatTemplate:
    def __init__(self, template: str, *, bos_token: str = "", eos_token: str = "",
                 variables: Mapping[str, Any] | None = None) -> None:
        """`variables` are passed to every rendering (for example `enable_thinking`)."""
        self.source = template
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.variables = dict(variables or {})
        try:
            self._with_prompt = Jinja2ChatFormatter(template, eos_token, bos_token, True)
            self._without_prompt = Jinja2ChatFormatter(template, eos_token, bos_token, False)
        except Exception as exc:  # jinja2 syntax errors and the like
            raise BackendError(f"the chat template does not parse: {exc}") from exc

    def render(self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True
               ) -> str:
        formatter = self._with_prompt if add_generation_prompt else self._without_prompt
        payload: list[Any] = [{"role": m.role, "content": m.content} for m in messages]
        try:
            return formatter(messages=payload, **self.variables).prompt
        except Exception as exc:
            raise BackendError(f"the chat template failed to render: {exc}") from exc
