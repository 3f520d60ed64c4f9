#!/usr/bin/env bash
# `make bench`: every benchmarks/bench_*.py, each printing its own ratio
# against a baseline it measures in the same run, on a throwaway database.
set -euo pipefail
. "$(dirname "$0")/common.sh"
prepare_odoo
shopt -s nullglob
benches=("$REPO_DIR"/benchmarks/bench_*.py)
[ ${#benches[@]} -gt 0 ] || { echo "no benchmarks yet"; exit 0; }
for bench in "${benches[@]}"; do
    say "benchmark $(basename "$bench")"
    ODOO_SRC="$ODOO_SRC" ADDONS_PATH="$(odoo_addons_path)" \
        "$VENV_DIR/bin/python" "$bench"
done
