"""Model backends: llama.cpp in-process, OpenAI-compatible servers, and a scripted test double."""
