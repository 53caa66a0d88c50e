#!/usr/bin/env bash
# The ablation of issue 14: conditions against condition A with the real default model, on the
# fixed subsets committed beside this script (80 HumanEval, 80 sanitized MBPP, drawn once with
# seed 20261129). One store per dataset and condition under bench/results/ablation/; every run
# resumes where it stopped, so the script can be started again after a kill.
#
#   bash bench/ablation.sh [CONDITION ...]          default: A full D
#   ABLATION_LIMIT=40 bash bench/ablation.sh A full  only the first 40 ids of each subset
#   MODEL=/path/or/catalogue-name bash bench/ablation.sh
#
# Then compare: atlas-tui bench compare bench/results/ablation/humaneval80-A.sqlite ...
source "$(dirname "${BASH_SOURCE[0]}")/subsets.sh"
out=bench/results/ablation
mkdir -p "$out"
conditions=("$@")
[ ${#conditions[@]} -gt 0 ] || conditions=(A full D)

ids() {  # the committed ids, the first ABLATION_LIMIT of them when set, comma-separated
  head -n "${ABLATION_LIMIT:-100000}" "$1" | paste -sd, -
}

for condition in "${conditions[@]}"; do
  for name in "${subsets[@]}"; do
    file="$(dataset_of "$name")"
    store="$out/$name-$condition.sqlite"
    resume=()
    [ -f "$store" ] && resume=(--resume)
    echo "== $name, condition $condition -> $store"
    .venv/bin/atlas-tui bench "$file" --ids "$(ids "bench/ablation/$name.txt")" \
      --condition "$condition" --model "$model" --out "$store" "${resume[@]}" \
      --json "$out/$name-$condition.json"
  done
done
