#!/usr/bin/env bash
# Idempotent set-up on a fresh machine: system packages, a virtual environment, the project.
# Sourced by scripts/run.sh and scripts/test.sh; safe to run again (pip keeps built wheels cached).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# System packages: bubblewrap isolates untrusted code; tmux drives the real-terminal UI test.
need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if command -v apt-get >/dev/null 2>&1; then
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  elif command -v dnf >/dev/null 2>&1; then
    $sudo dnf install -y -q "${need[@]}"
  elif command -v brew >/dev/null 2>&1; then
    brew install tmux  # macOS has no bubblewrap; the sandbox says which tier it uses
  else
    echo "setup: please install ${need[*]} with your package manager" >&2
  fi
fi

python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip >/dev/null
  # The CPU wheel of torch where no GPU is present: a bare requirement pulls GBs of CUDA packages.
  if ! command -v nvidia-smi >/dev/null 2>&1; then
    .venv/bin/pip install -q "torch==2.13.0" 2>/dev/null \
      || .venv/bin/pip install -q torch --index-url https://download.pytorch.org/whl/cpu
  fi
  # llama-cpp-python builds from source (about 10 minutes on 2 cores, then cached by pip).
  CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}" \
    .venv/bin/pip install -q -e ".[test]"
  touch "$stamp"
fi

# The default model (Qwen2.5-Coder-0.5B-Instruct Q4_K_M, 491 MB, every part checked against its
# pinned sha256), so the workbench solves at once and the real-model tests run. Once: later runs
# trust the stamp of the first full check. Skipped with ATLAS_SKIP_MODEL=1 or when a model or a
# server is configured. A failure is only a warning: everything but solving works without it.
.venv/bin/atlas-tui models setup \
  || echo "setup: no default model yet; 'atlas-tui models pull' fetches it later" >&2
