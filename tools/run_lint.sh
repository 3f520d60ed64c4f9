#!/usr/bin/env bash
# `make lint`: ruff (style, imports, common bugs) and pylint-odoo (Odoo rules).
set -euo pipefail
. "$(dirname "$0")/common.sh"
"$REPO_DIR/tools/ensure_venv.sh"
cd "$REPO_DIR"
"$VENV_DIR/bin/ruff" check .
"$VENV_DIR/bin/ruff" format --check --diff .
# pylint-odoo judges the addon's code; tools/ and benchmarks/ are plain scripts.
mapfile -t python_files < <(git ls-files -co --exclude-standard '*.py' ':!tools/' ':!benchmarks/')
"$VENV_DIR/bin/pylint" --rcfile=.pylintrc "${python_files[@]}" __manifest__.py
echo "lint: clean"
