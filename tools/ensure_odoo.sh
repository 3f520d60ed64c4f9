#!/usr/bin/env bash
# Finds the Odoo 18.0 source tree (ODOO_SRC, else the per-user default) and,
# when it is absent and the network allows, clones Odoo's official 18.0 branch.
set -euo pipefail
. "$(dirname "$0")/common.sh"

is_odoo18() { [ -f "$1/odoo-bin" ] && grep -q "version_info = (18, 0," "$1/odoo/release.py" 2>/dev/null; }

if is_odoo18 "$ODOO_SRC"; then exit 0; fi
if [ -e "$ODOO_SRC/odoo-bin" ]; then
    die "$ODOO_SRC holds an Odoo that is not 18.0; point ODOO_SRC at an Odoo 18.0 source tree."
fi
say "Odoo 18.0 not found in $ODOO_SRC; trying to clone branch $ODOO_BRANCH"
if timeout 20 git ls-remote --exit-code --heads "$ODOO_GIT_URL" "$ODOO_BRANCH" >/dev/null 2>&1; then
    mkdir -p "$(dirname "$ODOO_SRC")"
    git clone --depth 1 --branch "$ODOO_BRANCH" "$ODOO_GIT_URL" "$ODOO_SRC" \
        || die "cloning Odoo failed; remove $ODOO_SRC and retry, or set ODOO_SRC"
    is_odoo18 "$ODOO_SRC" && exit 0
fi
die "Odoo 18.0 source not found. Put an Odoo 18.0 source tree (the folder holding odoo-bin) at
    $ODOO_SRC
or set ODOO_SRC=/path/to/odoo-18.0. This machine cannot reach $ODOO_GIT_URL to clone it."
