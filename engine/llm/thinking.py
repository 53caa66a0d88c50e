"""Telling thinking from answer in streamed text, for models that think inside tags."""

from __future__ import annotations

from engine.llm.base import Channel, Delta, ThinkTags

DEFAULT_TAGS = ThinkTags()


def prompt_opens_thinking(prompt: str, tags: ThinkTags = DEFAULT_TAGS) -> bool:
    """True when the prompt ends inside an open think block (templates such as DeepSeek-R1's
    open it for the model), so generation starts in the thinking channel."""
    opened = prompt.rfind(tags.open)
    return opened >= 0 and prompt.rfind(tags.close) < opened


class ThinkSplitter:
    """Turns a stream of text pieces into Deltas on the thinking or answer channel.

    Tags are removed from the deltas. A tag split across pieces is held back until it is
    complete, so a delta never carries half a tag. Only one think block is recognised, and only
    before the answer has begun: an open tag later in the answer is answer text.
    """

    def __init__(self, tags: ThinkTags = DEFAULT_TAGS, *, thinking: bool = False) -> None:
        self.tags = tags
        self.thinking = thinking
        self.thinking_text = ""
        self.answer_text = ""
        self._pending = ""
        self._closed = False  # a think block has been closed: no second one

    def feed(self, text: str) -> list[Delta]:
        deltas: list[Delta] = []
        buffer = self._pending + text
        self._pending = ""
        while buffer:
            if not self.thinking and not self._may_open():
                self._emit(buffer, deltas)
                break
            tag = self.tags.close if self.thinking else self.tags.open
            at = buffer.find(tag)
            if at >= 0 and not self.thinking and buffer[:at].strip():
                self._emit(buffer, deltas)  # words before the open tag: the answer has begun
                break
            if at >= 0:
                self._emit(buffer[:at], deltas)
                self._closed = self._closed or self.thinking
                self.thinking = not self.thinking
                buffer = buffer[at + len(tag):]
                continue
            keep = _partial_suffix(buffer, tag)
            self._emit(buffer[: len(buffer) - keep], deltas)
            self._pending = buffer[len(buffer) - keep:]
            break
        return deltas

    def _may_open(self) -> bool:
        return not self.thinking_text and not self._closed and not self.answer_text.strip()

    def drop_pending(self) -> None:
        """Forget held-back text (the start of a tag the caller is removing from the stream)."""
        self._pending = ""

    def flush(self) -> list[Delta]:
        """Whatever was held back as a possible tag start, now that the stream has ended."""
        deltas: list[Delta] = []
        self._emit(self._pending, deltas)
        self._pending = ""
        return deltas

    def _emit(self, text: str, deltas: list[Delta]) -> None:
        if not text:
            return
        channel: Channel = "thinking" if self.thinking else "answer"
        if self.thinking:
            self.thinking_text += text
        else:
            self.answer_text += text
        deltas.append(Delta(text, channel))


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that is a proper start of `tag`."""
    for length in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:length]):
            return length
    return 0
