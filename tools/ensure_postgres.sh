#!/usr/bin/env bash
# Makes a PostgreSQL server available and writes its connection settings to
# $PG_ENV_FILE. Uses a reachable server when the current PG* settings can
# create databases with a role other than `postgres` (which Odoo refuses);
# otherwise starts a private cluster (socket only, no TCP port), as root or not.
set -euo pipefail
. "$(dirname "$0")/common.sh"
mkdir -p "$STATE_DIR"

can_create_db() {
    local role
    role=$(psql -X -d postgres -Atc "select rolname from pg_roles where rolname = current_user and (rolcreatedb or rolsuper)" 2>/dev/null) || return 1
    [ -n "$role" ] && [ "$role" != postgres ]
}

if [ -z "${PAYMENT_LATAM_PRIVATE_PG:-}" ] && command -v psql >/dev/null 2>&1 && can_create_db; then
    {
        echo "export PGHOST='${PGHOST:-}'"; echo "export PGPORT='${PGPORT:-5432}'"
        echo "export PGUSER='$(psql -X -d postgres -Atc 'select current_user')'"
    } > "$PG_ENV_FILE.$$"
    # Renamed into place: a test run started meanwhile never reads a half-written file.
    mv -f "$PG_ENV_FILE.$$" "$PG_ENV_FILE"
    exit 0
fi

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pg_bin" ] || { command -v initdb >/dev/null 2>&1 && pg_bin=$(dirname "$(command -v initdb)"); } \
    || die "no PostgreSQL server binaries found: install Debian's postgresql package"
version=$("$pg_bin/pg_ctl" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/')
port=${PAYMENT_LATAM_PG_PORT:-54329}

if [ "$(id -u)" -eq 0 ]; then
    # The server refuses to run as root: the cluster belongs to `postgres`,
    # in a folder that user can reach (root's home is closed to it).
    id postgres >/dev/null 2>&1 || die "user 'postgres' missing: install Debian's postgresql package"
    pgdata=/var/lib/postgresql/payment_latam/pg$version
    run() { runuser -u postgres -- "$@"; }
    mkdir -p "$pgdata"; chown -R postgres: /var/lib/postgresql/payment_latam
else
    pgdata=$STATE_DIR/pg$version
    run() { "$@"; }
    mkdir -p "$pgdata"
fi

if [ ! -f "$pgdata/PG_VERSION" ]; then
    say "creating a private PostgreSQL $version cluster in $pgdata"
    run "$pg_bin/initdb" -D "$pgdata" --username=odoo --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null \
        || run "$pg_bin/initdb" -D "$pgdata" --username=odoo --auth=trust --encoding=UTF8 --locale=C >/dev/null
fi
if ! run "$pg_bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    say "starting the private PostgreSQL cluster"
    run "$pg_bin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 60 \
        -o "-c listen_addresses='' -k $pgdata -p $port -c fsync=off -c max_connections=200" start >/dev/null \
        || die "PostgreSQL did not start; see $pgdata/server.log"
fi
{ echo "export PGHOST='$pgdata'"; echo "export PGPORT='$port'"; echo "export PGUSER='odoo'"; } \
    > "$PG_ENV_FILE.$$"
mv -f "$PG_ENV_FILE.$$" "$PG_ENV_FILE"
