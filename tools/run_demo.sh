#!/usr/bin/env bash
# `make run`: everything `make test` needs, then a demo database with a Chilean
# company selling in CLP and the four providers in test mode against the local
# simulators, served on http://localhost:$HTTP_PORT. Safe to run again: an
# existing demo database is kept and only reconfigured.
set -euo pipefail
. "$(dirname "$0")/common.sh"

prepare_odoo

DEMO_DB=${DEMO_DB:-payment_latam_demo}
HTTP_PORT=${HTTP_PORT:-8069}
odoo=("$VENV_DIR/bin/python" "$ODOO_SRC/odoo-bin")
common=(--addons-path="$(odoo_addons_path)" --db_host="$PGHOST" --db_port="$PGPORT"
        --db_user="$PGUSER" --database="$DEMO_DB" --db-filter="^${DEMO_DB}\$"
        --data-dir="$STATE_DIR/filestore-demo")
log="$STATE_DIR/demo-setup.log"

installed() {
    psql -X -d "$DEMO_DB" -Atc "select state from ir_module_module where name = '$1'" 2>/dev/null \
        | grep -qx installed
}

if ! installed payment_latam; then
    # A database left half-made by an interrupted run is ours to redo.
    dropdb --if-exists "$DEMO_DB" >/dev/null 2>&1 || true
    say "creating the demo database $DEMO_DB (a few minutes; log: $log)"
    "${odoo[@]}" "${common[@]}" --init=base --stop-after-init --http-port="$(free_port)" > "$log" 2>&1 \
        || { tail -n 30 "$log"; die "creating $DEMO_DB failed"; }
    # The company becomes Chilean before accounting exists: the currency of a
    # company with journal items cannot change, and Chile brings l10n_cl.
    "${odoo[@]}" shell "${common[@]}" --no-http < "$REPO_DIR/tools/demo/chilean_company.py" >> "$log" 2>&1 \
        || { tail -n 30 "$log"; die "configuring the demo company failed"; }
    "${odoo[@]}" "${common[@]}" --init=payment_latam,website_sale --stop-after-init \
        --http-port="$(free_port)" >> "$log" 2>&1 \
        || { tail -n 30 "$log"; die "installing payment_latam and website_sale failed"; }
else
    # The code may be newer than the database: upgrade the addon. A database
    # made before the bridge existed gets it too (Odoo auto-installs a bridge
    # only along with its last dependency).
    bridge=()
    installed payment_latam_website_sale || bridge=(--init=payment_latam_website_sale)
    say "upgrading payment_latam in $DEMO_DB (log: $log)"
    "${odoo[@]}" "${common[@]}" --update=payment_latam "${bridge[@]}" --stop-after-init \
        --http-port="$(free_port)" >> "$log" 2>&1 \
        || { tail -n 30 "$log"; die "upgrading payment_latam failed"; }
fi
# The SOAP Webpay's generated keys: Odoo signs with the merchant's, the simulator with Transbank's.
export PAYMENT_LATAM_DEMO_PKI="$STATE_DIR/demo-pki"
# Gateways send the browser (and ETpay its webhook) back to the URL the demo is served on.
DEMO_BASE_URL="http://localhost:$HTTP_PORT" \
    "${odoo[@]}" shell "${common[@]}" --no-http < "$REPO_DIR/tools/demo/configure_shop.py" >> "$log" 2>&1 \
    || { tail -n 30 "$log"; die "configuring the demo shop failed"; }

say "starting the gateway simulators"
(cd "$REPO_DIR" && exec "$VENV_DIR/bin/python" -m simulators) &
simulators_pid=$!
trap 'kill $simulators_pid 2>/dev/null || true' EXIT

cat <<EOT

  payment_latam demo: http://localhost:$HTTP_PORT   (shop: http://localhost:$HTTP_PORT/shop)
  back office login:  admin / admin
  database:           $DEMO_DB   (stop with Ctrl-C; run again to reuse it)

EOT
"${odoo[@]}" "${common[@]}" --http-port="$HTTP_PORT" --http-interface="${HTTP_INTERFACE:-127.0.0.1}"
