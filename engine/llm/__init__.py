"""Model backends: llama.cpp in-process, OpenAI-compatible servers, and a scripted test double.

- base.py: the Backend protocol and its value types (the one interface the pipeline uses)
- llamacpp.py: LlamaCppBackend, a GGUF run in-process on one owner thread
- batch_decode.py: the scheduler on that thread: every sequence in flight in one decode, shared
  prompt prefixes prefilled once, per-sequence samplers, prompt-lookup speculation
- batch.py: stream_many for every backend (concurrent streams, tagged with their request)
- guarded.py: the loop guard (guard.py) under the budget driver: finish_reason "loop"
- openai_backend.py (+ openai_http.py, openai_template.py): OpenAIBackend over HTTP
- budget.py: budget forcing, one stop-and-continue driver over each backend's complete_raw
- thinking.py: telling thinking from answer in streamed text
- chat_template.py: a model's chat template rendered client-side
- resolve.py: --model/--base-url to a Backend (GGUF paths, Hugging Face repo ids, knobs)
- scripted.py: ScriptedBackend, a test double answering from a script
- doctor.py: facts for `atlas-tui doctor`
"""
