# Sourced by the real-model benchmark scripts: the repository root as the working folder, the
# model, the pipeline's own defaults whatever a settings file on this machine says, and the
# fixed subsets committed in bench/ablation/ (80 HumanEval, 80 sanitized MBPP ids, drawn once
# with seed 20261129) with the dataset file each is drawn from.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
model="${MODEL:-qwen2.5-coder-0.5b}"
export ATLAS_CONFIG="${ATLAS_CONFIG:-/nonexistent/atlas-tui-ablation.toml}"
data="${ATLAS_DATA:-$root/../shared/data}"
subsets=(humaneval80 mbpp_sanitized80)

dataset_of() {  # the dataset file a subset's ids come from
  case "$1" in
    humaneval80) echo "$data/humaneval/HumanEval.jsonl.gz" ;;
    mbpp_sanitized80) echo "$data/mbpp/sanitized-mbpp.json.gz" ;;
    *) echo "unknown subset $1; known: ${subsets[*]}" >&2; return 2 ;;
  esac
}
