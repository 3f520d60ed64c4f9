#!/usr/bin/env bash
# `make test`: install the addon in a fresh throwaway database and run its
# suite with Odoo's own runner. TEST_TAGS is passed to --test-tags.
set -euo pipefail
. "$(dirname "$0")/common.sh"

prepare_odoo

db="payment_latam_test_$(date +%Y%m%d%H%M%S)_$$"
log=$(mktemp -t payment_latam_test.XXXXXX.log)
drop_db() {
    dropdb --if-exists "$db" >/dev/null 2>&1 || true
    rm -rf "$log" "$STATE_DIR/filestore-test/filestore/$db"
}
trap drop_db EXIT

# website_sale is not a dependency, but the addon must work with the shop, and
# its tests drive the checkout.
set +e
"$VENV_DIR/bin/python" "$ODOO_SRC/odoo-bin" \
    --addons-path="$(odoo_addons_path)" \
    --db_host="$PGHOST" --db_port="$PGPORT" --db_user="$PGUSER" \
    --database="$db" --db-filter="^${db}\$" \
    --init=payment_latam,website_sale --without-demo=all \
    --test-enable --test-tags="${TEST_TAGS:-/payment_latam}" \
    --log-level=test --stop-after-init \
    --http-interface=127.0.0.1 --http-port="$(free_port)" --gevent-port="$(free_port)" \
    --data-dir="$STATE_DIR/filestore-test" --workers=0 --max-cron-threads=0 \
    2>&1 | tee "$log"
odoo_status=${PIPESTATUS[0]}
set -e

# The trap drops the database afterwards, so no exec here.
"$VENV_DIR/bin/python" "$REPO_DIR/tools/odoo_test_summary.py" "$log" "$odoo_status"
