#!/usr/bin/env bash
# `make bench`: every benchmarks/bench_*.py, each printing its own ratio
# against a baseline it measures in the same run, on a throwaway database
# with payment_latam and Odoo's payment_demo (the baseline) installed.
set -euo pipefail
. "$(dirname "$0")/common.sh"
prepare_odoo
shopt -s nullglob
benches=("$REPO_DIR"/benchmarks/${BENCH_ONLY:-bench_*}.py)  # BENCH_ONLY=bench_x: that one only
[ ${#benches[@]} -gt 0 ] || { echo "no benchmarks yet"; exit 0; }

db="payment_latam_bench_$(date +%Y%m%d%H%M%S)_$$"
data_dir="$STATE_DIR/filestore-bench"
log=$(mktemp -t payment_latam_bench.XXXXXX.log)
drop_db() {
    dropdb --if-exists "$db" >/dev/null 2>&1 || true
    rm -rf "$log" "$data_dir/filestore/$db"
}
trap drop_db EXIT

say "creating the benchmark database $db (payment_latam, payment_demo)"
"$VENV_DIR/bin/python" "$ODOO_SRC/odoo-bin" \
    --addons-path="$(odoo_addons_path)" \
    --db_host="$PGHOST" --db_port="$PGPORT" --db_user="$PGUSER" \
    --database="$db" --db-filter="^${db}\$" --data-dir="$data_dir" \
    --init=payment_latam,payment_demo --without-demo=all --stop-after-init \
    --http-port="$(free_port)" --workers=0 --max-cron-threads=0 --log-level=warn \
    > "$log" 2>&1 || { tail -n 30 "$log"; die "creating $db failed"; }

status=0
for bench in "${benches[@]}"; do
    say "benchmark $(basename "$bench")"
    # Run as modules from the repository root: benchmarks/ and simulators/ import as packages.
    (cd "$REPO_DIR" && ODOO_SRC="$ODOO_SRC" ADDONS_PATH="$(odoo_addons_path)" \
        BENCH_DB="$db" BENCH_DATA_DIR="$data_dir" \
        "$VENV_DIR/bin/python" -m "benchmarks.$(basename "$bench" .py)") || status=1
done
exit $status
