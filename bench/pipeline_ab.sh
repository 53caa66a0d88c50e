#!/usr/bin/env bash
# The full condition under two settings side by side, with the real default model, on the first
# N ids of the ablation's fixed subsets. The two run in turns, CHUNK problems each, so both see
# the same machine (it is shared and noisy); every store resumes after a kill.
#
#   bash bench/pipeline_ab.sh                   batch_draws=1 against batch_draws=3 (issue 10)
#   SETS="llm.n_threads=1 llm.n_threads=2" N=12 CHUNK=4 bash bench/pipeline_ab.sh
#   SUBSETS=humaneval80 N=40 bash bench/pipeline_ab.sh
#
# One store per subset and setting: bench/results/pipeline_ab/NAME-firstN-SETTING.sqlite; then
# atlas-tui bench compare STORE_OF_ONE STORE_OF_THE_OTHER
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
model="${MODEL:-qwen2.5-coder-0.5b}"
export ATLAS_CONFIG="${ATLAS_CONFIG:-/nonexistent/atlas-tui-ablation.toml}"
data="${ATLAS_DATA:-$root/../shared/data}"
n="${N:-20}"
chunk="${CHUNK:-5}"
read -r -a sets <<< "${SETS:-batch_draws=1 batch_draws=3}"
[ ${#sets[@]} -eq 2 ] || { echo "SETS holds two settings, not: ${SETS:-}" >&2; exit 2; }
out=bench/results/pipeline_ab
mkdir -p "$out"
declare -A files=([humaneval80]=humaneval/HumanEval.jsonl.gz
                  [mbpp_sanitized80]=mbpp/sanitized-mbpp.json.gz)

for name in ${SUBSETS:-humaneval80 mbpp_sanitized80}; do
  for ((start = 1; start <= n; start += chunk)); do
    last=$((start + chunk - 1 < n ? start + chunk - 1 : n))
    ids="$(sed -n "${start},${last}p" "bench/ablation/$name.txt" | paste -sd, -)"
    for setting in "${sets[@]}"; do
      store="$out/$name-first$n-${setting//[^A-Za-z0-9_=.-]/_}.sqlite"
      resume=()
      [ -f "$store" ] && resume=(--resume)
      echo "== $name $start-$last, $setting -> $store"
      .venv/bin/atlas-tui bench "$data/${files[$name]}" --ids "$ids" --condition full \
        --set "$setting" --model "$model" --out "$store" "${resume[@]}"
    done
  done
done
