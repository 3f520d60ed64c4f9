#!/usr/bin/env bash
# Creates the virtualenv and installs requirements against constraints.txt;
# does nothing when the requirement files have not changed since last time.
set -euo pipefail
. "$(dirname "$0")/common.sh"

stamp_of() { cat "$REPO_DIR"/requirements.txt "$REPO_DIR"/requirements-dev.txt "$REPO_DIR"/constraints.txt | sha1sum | cut -c1-40; }
want=$(stamp_of)
if [ -x "$VENV_DIR/bin/python" ] && [ "$(cat "$VENV_DIR/.payment_latam_stamp" 2>/dev/null)" = "$want" ]; then
    exit 0
fi

python=${PYTHON_BIN:-}
if [ -z "$python" ]; then
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
           && [ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" = "3.11" ]; then
            python=$candidate; break
        fi
    done
fi
[ -n "$python" ] || die "Python 3.11 is needed (constraints.txt pins Odoo 18's stack for it); set PYTHON_BIN."

say "building the virtualenv in $VENV_DIR (a few minutes the first time)"
mkdir -p "$STATE_DIR"
[ -x "$VENV_DIR/bin/python" ] || "$python" -m venv "$VENV_DIR"
export PIP_CONSTRAINT="$REPO_DIR/constraints.txt"  # also reaches build environments (cbor2 needs setuptools<81)
export PIP_DISABLE_PIP_VERSION_CHECK=1
pip_log="$STATE_DIR/pip-install.log"
{
    "$VENV_DIR/bin/pip" install -c "$REPO_DIR/constraints.txt" setuptools wheel \
    && "$VENV_DIR/bin/pip" install -r "$REPO_DIR/requirements.txt" -r "$REPO_DIR/requirements-dev.txt" \
        -c "$REPO_DIR/constraints.txt"
} > "$pip_log" 2>&1 || { tail -n 30 "$pip_log" >&2; die "pip install failed; full log: $pip_log"; }
"$VENV_DIR/bin/pip" check
printf '%s' "$want" > "$VENV_DIR/.payment_latam_stamp"
