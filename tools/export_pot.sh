#!/usr/bin/env bash
# `make pot`: export i18n/payment_latam.pot from a throwaway database and merge
# it into i18n/es.po (new terms arrive untranslated; gone terms are dropped).
# With website_sale, as the tests run: modules it brings (rating) add fields to ours.
set -euo pipefail
. "$(dirname "$0")/common.sh"
prepare_odoo

db="payment_latam_pot_$$"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true' EXIT
common=(--addons-path="$(odoo_addons_path)" --db_host="$PGHOST" --db_port="$PGPORT"
        --db_user="$PGUSER" --database="$db" --without-demo=all --stop-after-init
        --http-port="$(free_port)" --data-dir="$STATE_DIR/filestore-test")
"$VENV_DIR/bin/python" "$ODOO_SRC/odoo-bin" "${common[@]}" --init=payment_latam,website_sale --log-level=warn
"$VENV_DIR/bin/python" "$ODOO_SRC/odoo-bin" "${common[@]}" --log-level=warn \
    --modules=payment_latam --i18n-export="$REPO_DIR/i18n/payment_latam.pot"
"$VENV_DIR/bin/python" "$REPO_DIR/tools/merge_po.py" \
    "$REPO_DIR/i18n/payment_latam.pot" "$REPO_DIR/i18n/es.po"
