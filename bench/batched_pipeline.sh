#!/usr/bin/env bash
# Issue 10: the full condition drawing its answers one at a time (`batch_draws=1`, the default)
# against drawing BATCH at a time in one batched decode, with the real default model, on the
# first N ids of the ablation's fixed subsets. The two run in turns, CHUNK problems each, so
# both see the same machine (it is shared and noisy); every store resumes after a kill.
#
#   bash bench/batched_pipeline.sh                    N=20 CHUNK=5 BATCH=3, HumanEval and MBPP
#   N=40 BATCH=6 SUBSETS=humaneval80 bash bench/batched_pipeline.sh
#
# Then: atlas-tui bench compare bench/results/batched/humaneval80-first20-draws1.sqlite \
#           bench/results/batched/humaneval80-first20-draws3.sqlite
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
model="${MODEL:-qwen2.5-coder-0.5b}"
export ATLAS_CONFIG="${ATLAS_CONFIG:-/nonexistent/atlas-tui-ablation.toml}"
data="${ATLAS_DATA:-$root/../shared/data}"
n="${N:-20}"
chunk="${CHUNK:-5}"
batch="${BATCH:-3}"
out=bench/results/batched
mkdir -p "$out"
declare -A files=([humaneval80]=humaneval/HumanEval.jsonl.gz
                  [mbpp_sanitized80]=mbpp/sanitized-mbpp.json.gz)

for name in ${SUBSETS:-humaneval80 mbpp_sanitized80}; do
  for ((start = 1; start <= n; start += chunk)); do
    last=$((start + chunk - 1 < n ? start + chunk - 1 : n))
    ids="$(sed -n "${start},${last}p" "bench/ablation/$name.txt" | paste -sd, -)"
    for draws in 1 "$batch"; do
      store="$out/$name-first$n-draws$draws.sqlite"
      resume=()
      [ -f "$store" ] && resume=(--resume)
      echo "== $name $start-$last, batch_draws=$draws -> $store"
      .venv/bin/atlas-tui bench "$data/${files[$name]}" --ids "$ids" --condition full \
        --set "batch_draws=$draws" --model "$model" --out "$store" "${resume[@]}"
    done
  done
done
