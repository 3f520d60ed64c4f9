# Shared locations and helpers for the setup scripts; sourced, never run.
# Everything the project installs lives outside the repository, per user, so
# a fresh clone (CI) reuses what an earlier run on the same machine built.

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA_HOME=${XDG_DATA_HOME:-$HOME/.local/share}
STATE_DIR=${PAYMENT_LATAM_HOME:-$DATA_HOME/payment_latam}
ODOO_SRC=${ODOO_SRC:-$DATA_HOME/odoo-src/18.0}
ODOO_BRANCH=18.0
ODOO_GIT_URL=${ODOO_GIT_URL:-https://github.com/odoo/odoo.git}
VENV_DIR=${PAYMENT_LATAM_VENV:-$STATE_DIR/venv}
PYTHON_BIN=${PYTHON_BIN:-}
# Odoo needs the addon in a folder named after its technical name: a per-clone
# folder holding one symbolic link to this repository.
ADDONS_DIR="$STATE_DIR/addons/$(printf '%s' "$REPO_DIR" | sha1sum | cut -c1-12)"
PG_ENV_FILE="$STATE_DIR/postgres.env"

say() { printf '[payment_latam] %s\n' "$*" >&2; }
die() { printf '[payment_latam] ERROR: %s\n' "$*" >&2; exit 1; }

# bridges/ holds the auto-install modules that join payment_latam to optional
# Odoo apps (e.g. website_sale); Odoo installs each with its last dependency.
odoo_addons_path() {
    printf '%s' "$ODOO_SRC/odoo/addons,$ODOO_SRC/addons,$ADDONS_DIR,$REPO_DIR/bridges"
}

link_addon() {
    mkdir -p "$ADDONS_DIR"
    ln -sfn "$REPO_DIR" "$ADDONS_DIR/payment_latam"
}

free_port() {
    "$VENV_DIR/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Run a command as root when we are not root and sudo works without a prompt.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
    else return 1
    fi
}

# Everything a command needs before it runs Odoo: system packages, the Odoo
# source, the virtualenv, PostgreSQL (its PG* settings exported) and the link
# that puts the addon on Odoo's addons path.
prepare_odoo() {
    "$REPO_DIR/tools/ensure_system_packages.sh"
    "$REPO_DIR/tools/ensure_odoo.sh"
    "$REPO_DIR/tools/ensure_venv.sh"
    "$REPO_DIR/tools/ensure_postgres.sh"
    . "$PG_ENV_FILE"
    link_addon
}
