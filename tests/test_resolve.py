"""Model resolution: GGUF paths, Hugging Face repo ids with quant patterns, the offline cache,
and open_backend's choice of backend and knobs. No test touches the network."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants

from engine.llm.base import BackendError
from engine.llm.llamacpp import LlamaCppBackend
from engine.llm.openai_backend import OpenAIBackend
from engine.llm.resolve import choose_gguf, open_backend, resolve_model

QWEN_FILES = [
    "README.md",
    "Qwen3-14B-Q4_K_M.gguf",
    "Qwen3-14B-Q4_K_S.gguf",
    "Qwen3-14B-Q8_0.gguf",
    "Qwen3-14B-BF16/Qwen3-14B-BF16-00002-of-00002.gguf",
    "Qwen3-14B-BF16/Qwen3-14B-BF16-00001-of-00002.gguf",
    "mmproj-Qwen3-14B-f16.gguf",
]


def test_a_quant_tag_picks_one_file_and_a_split_model_comes_whole() -> None:
    assert choose_gguf(QWEN_FILES, "Q4_K_M", "r") == ["Qwen3-14B-Q4_K_M.gguf"]
    assert choose_gguf(QWEN_FILES, "q8_0", "r") == ["Qwen3-14B-Q8_0.gguf"]
    assert choose_gguf(QWEN_FILES, "BF16", "r") == [
        "Qwen3-14B-BF16/Qwen3-14B-BF16-00001-of-00002.gguf",
        "Qwen3-14B-BF16/Qwen3-14B-BF16-00002-of-00002.gguf",
    ]
    assert choose_gguf(QWEN_FILES, "*Q4_K_S.gguf", "r") == ["Qwen3-14B-Q4_K_S.gguf"]
    assert choose_gguf(QWEN_FILES, "", "r") == ["Qwen3-14B-Q4_K_M.gguf"]  # the default quant
    assert choose_gguf(["only.gguf", "mmproj-x.gguf"], "", "r") == ["only.gguf"]


def test_no_match_or_several_say_what_the_repo_has() -> None:
    with pytest.raises(BackendError, match=r"no file matches 'Q2_K'.*Qwen3-14B-Q8_0.gguf"):
        choose_gguf(QWEN_FILES, "Q2_K", "Qwen/Qwen3-14B-GGUF")
    with pytest.raises(BackendError, match="several files match '\\*Q4\\*'"):
        choose_gguf(QWEN_FILES, "*Q4*", "r")
    with pytest.raises(BackendError, match=r"no \.gguf files"):
        choose_gguf(["model.safetensors"], "", "Qwen/Qwen3-14B")


def test_paths_are_used_as_they_are_and_typos_are_named(tiny_gguf: Path, tmp_path: Path) -> None:
    assert resolve_model(str(tiny_gguf)) == tiny_gguf
    with pytest.raises(BackendError, match="not a GGUF file here nor a Hugging Face repo id"):
        resolve_model(str(tmp_path / "missing.gguf"))
    with pytest.raises(BackendError, match="not a GGUF file here"):
        resolve_model("just some words")


def _fake_hf_cache(cache: Path, repo: str, files: dict[str, Path]) -> None:
    """The layout huggingface_hub writes: refs/main names the snapshot holding the files."""
    folder = cache / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("0123456789abcdef0123456789abcdef01234567")
    snapshot = folder / "snapshots" / "0123456789abcdef0123456789abcdef01234567"
    for name, source in files.items():
        (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, snapshot / name)


async def test_offline_uses_the_cache_or_says_what_to_do(
    tiny_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "hub"
    _fake_hf_cache(cache, "acme/tiny-GGUF", {"tiny-Q8_0.gguf": tiny_gguf,
                                             "tiny-Q4_K_M.gguf": tiny_gguf})
    found = resolve_model("acme/tiny-GGUF:Q8_0", cache_dir=cache, offline=True)
    assert found.name == "tiny-Q8_0.gguf" and found.is_file()
    assert resolve_model("acme/tiny-GGUF", cache_dir=cache, offline=True).name == \
        "tiny-Q4_K_M.gguf"
    with pytest.raises(BackendError, match=r"not in the Hugging Face cache.*--model /path"):
        resolve_model("Qwen/Qwen3-14B-GGUF:Q4_K_M", cache_dir=cache, offline=True)

    # open_backend goes through the same resolution, with the hub's own offline settings
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))
    backend = open_backend("acme/tiny-GGUF:Q8_0", n_ctx=256, embeddings=False)
    try:
        assert isinstance(backend, LlamaCppBackend)
        assert backend.model_path == found and backend.info.context_size == 256
    finally:
        await backend.close()


async def test_open_backend_picks_the_backend_and_checks_knobs(
    tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = open_backend(str(tiny_gguf), n_ctx=512, cache_type_k="q8_0", n_threads=1)
    try:
        assert isinstance(backend, LlamaCppBackend) and backend.info.context_size == 512
    finally:
        await backend.close()
    with pytest.raises(BackendError, match=r"unknown option.*n_ctxx"):
        open_backend(str(tiny_gguf), n_ctxx=512)
    server = open_backend("tiny", base_url="http://127.0.0.1:9/v1")
    assert isinstance(server, OpenAIBackend)
    await server.close()
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(BackendError, match="no model given"):
        open_backend()


def test_an_unreachable_hub_falls_back_to_the_cache_at_once(
    tiny_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from support.fault_server import refused_url

    cache = tmp_path / "hub"
    _fake_hf_cache(cache, "acme/tiny-GGUF", {"tiny-Q8_0.gguf": tiny_gguf})
    dead = refused_url().removesuffix("/v1")
    found = resolve_model("acme/tiny-GGUF:Q8_0", cache_dir=cache, offline=False, endpoint=dead)
    assert found.name == "tiny-Q8_0.gguf"
    with pytest.raises(BackendError, match=r"unreachable.*not in the Hugging Face cache"):
        resolve_model("acme/other-GGUF", cache_dir=cache, offline=False, endpoint=dead)


class FakeHub(ThreadingHTTPServer):
    """The two Hub routes a download uses: the repo's file tree, and resolve (HEAD then GET)."""

    def __init__(self, repo: str, files: dict[str, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _HubHandler)
        self.repo, self.files = repo, files
        self.downloads: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _HubHandler(BaseHTTPRequestHandler):
    server: FakeHub
    COMMIT = "a" * 40

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _file(self) -> tuple[str, bytes] | None:
        prefix = f"/{self.server.repo}/resolve/main/"
        name = self.path.split("?")[0].removeprefix(prefix)
        if self.path.startswith(prefix) and name in self.server.files:
            return name, self.server.files[name]
        return None

    def _head(self, status: int, length: int, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in {"Content-Length": str(length), **(extra or {})}.items():
            self.send_header(key, value)
        self.end_headers()

    def do_HEAD(self) -> None:
        found = self._file()
        if found is None:
            self._head(200 if self.path == "/" else 404, 0)
            return
        _, data = found
        self._head(200, len(data), {"X-Repo-Commit": self.COMMIT,
                                    "ETag": f'"{hashlib.sha256(data).hexdigest()}"'})

    def do_GET(self) -> None:
        if self.path.startswith(f"/api/models/{self.server.repo}/tree/main"):
            tree = [{"type": "file", "path": name, "size": len(data),
                     "oid": hashlib.sha1(data).hexdigest()}
                    for name, data in self.server.files.items()]
            body = json.dumps(tree).encode()
            self._head(200, len(body), {"Content-Type": "application/json"})
            self.wfile.write(body)
            return
        found = self._file()
        if found is None:
            self._head(404, 0)
            return
        name, data = found
        self.server.downloads.append(name)
        self._head(200, len(data), {"X-Repo-Commit": self.COMMIT,
                                    "ETag": f'"{hashlib.sha256(data).hexdigest()}"'})
        self.wfile.write(data)


def test_a_repo_id_is_downloaded_once_into_the_cache(tiny_gguf: Path, tmp_path: Path) -> None:
    files = {"README.md": b"# tiny", "tiny-Q8_0.gguf": tiny_gguf.read_bytes(),
             "tiny-Q4_K_M.gguf": b"GGUF other quant"}
    hub = FakeHub("acme/tiny-GGUF", files)
    threading.Thread(target=hub.serve_forever, daemon=True).start()
    try:
        cache = tmp_path / "hub"
        first = resolve_model("acme/tiny-GGUF:Q8_0", cache_dir=cache, endpoint=hub.url)
        again = resolve_model("acme/tiny-GGUF:Q8_0", cache_dir=cache, endpoint=hub.url)
        assert first == again and first.read_bytes() == files["tiny-Q8_0.gguf"]
        assert cache in first.parents
        assert hub.downloads == ["tiny-Q8_0.gguf"]  # once, and only the chosen quant
        offline = resolve_model("acme/tiny-GGUF:Q8_0", cache_dir=cache, offline=True)
        assert offline.read_bytes() == files["tiny-Q8_0.gguf"]
    finally:
        hub.shutdown()
        hub.server_close()
