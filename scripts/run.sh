#!/usr/bin/env bash
# Set up (if needed) and run atlas-tui; with no arguments it works on examples/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/setup.sh"
cd "$root"
if [ "$#" -eq 0 ]; then
  exec .venv/bin/atlas-tui examples/
fi
exec .venv/bin/atlas-tui "$@"
