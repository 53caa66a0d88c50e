"""Run llama-cpp-python's bundled OpenAI-compatible server on a GGUF, on a free loopback port.

`with llama_server(path) as url:` starts `python -m llama_cpp.server`, waits until GET /v1/models
answers (or the process dies, or `ready_timeout_s` passes: then its log is in the error), yields
the base URL (".../v1"), and stops the process at the end (terminate, then kill).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def llama_server(
    model: Path,
    *,
    embedding: bool = True,
    n_ctx: int = 2048,
    api_key: str | None = None,
    extra_args: tuple[str, ...] = (),
    ready_timeout_s: float = 120.0,
) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--embedding", "true" if embedding else "false",
        "--n_threads", "1",
        "--verbose", "false",
        *extra_args,
    ]
    if api_key:
        command += ["--api_key", api_key]
    base_url = f"http://127.0.0.1:{port}/v1"
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(process, base_url, api_key, log, ready_timeout_s)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_ready(
    process: subprocess.Popen[bytes],
    base_url: str,
    api_key: str | None,
    log: IO[str],
    timeout_s: float,
) -> None:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited ({process.returncode}):\n{_tail(log)}")
        try:
            if httpx.get(f"{base_url}/models", headers=headers, timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"llama_cpp.server not ready after {timeout_s:g}s:\n{_tail(log)}")


def _tail(log: IO[str]) -> str:
    log.seek(0)
    return log.read()[-3000:]
