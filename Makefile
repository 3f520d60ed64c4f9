# payment_latam — see README.md. Odoo 18.0 is found in ODOO_SRC (default
# ~/.local/share/odoo-src/18.0); everything installed lives outside the repo.
SHELL := /bin/bash
.DEFAULT_GOAL := help
TEST_TAGS ?= /payment_latam
export TEST_TAGS

.PHONY: help run test lint bench setup pot

help:
	@echo "make run     build everything, create the demo database, serve it on http://localhost:8069"
	@echo "make test    run the addon's tests on a throwaway database (TEST_TAGS=... for a subset)"
	@echo "make lint    ruff and pylint-odoo"
	@echo "make bench   benchmarks under benchmarks/, each against a baseline measured in the same run"
	@echo "make pot     export i18n/payment_latam.pot and merge it into i18n/es.po"

setup:
	@tools/ensure_system_packages.sh && tools/ensure_odoo.sh && tools/ensure_venv.sh && tools/ensure_postgres.sh

run:
	@tools/run_demo.sh

test:
	@tools/run_tests.sh

lint:
	@tools/run_lint.sh

bench:
	@tools/run_benchmarks.sh

pot:
	@tools/export_pot.sh
