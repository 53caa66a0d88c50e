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
source "$(dirname "${BASH_SOURCE[0]}")/subsets.sh"
n="${N:-20}"
chunk="${CHUNK:-5}"
read -r -a sets <<< "${SETS:-batch_draws=1 batch_draws=3}"
[ ${#sets[@]} -eq 2 ] || { echo "SETS holds two settings, not: ${SETS:-}" >&2; exit 2; }
out=bench/results/pipeline_ab
mkdir -p "$out"

for name in ${SUBSETS:-${subsets[*]}}; do
  file="$(dataset_of "$name")"
  for ((start = 1; start <= n; start += chunk)); do
    last=$((start + chunk - 1 < n ? start + chunk - 1 : n))
    ids="$(sed -n "${start},${last}p" "bench/ablation/$name.txt" | paste -sd, -)"
    for setting in "${sets[@]}"; do
      store="$out/$name-first$n-${setting//[^A-Za-z0-9_=.-]/_}.sqlite"
      resume=()
      [ -f "$store" ] && resume=(--resume)
      echo "== $name $start-$last, $setting -> $store"
      .venv/bin/atlas-tui bench "$file" --ids "$ids" --condition full \
        --set "$setting" --model "$model" --out "$store" "${resume[@]}"
    done
  done
done
