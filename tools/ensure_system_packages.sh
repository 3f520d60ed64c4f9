#!/usr/bin/env bash
# Debian/Ubuntu packages the project needs: PostgreSQL, headers to build
# psycopg2 and python-ldap, wkhtmltopdf (order PDFs), Chromium (browser tours).
set -euo pipefail
. "$(dirname "$0")/common.sh"

missing=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in postgresql libpq-dev libldap2-dev libsasl2-dev libxml2-dev libxslt1-dev \
           libjpeg-dev zlib1g-dev wkhtmltopdf chromium fonts-dejavu-core git gcc \
           python3-dev python3-venv; do
    have_pkg "$pkg" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

command -v apt-get >/dev/null 2>&1 || die "missing system packages: ${missing[*]} (this setup knows Debian/Ubuntu's apt-get only)"
say "installing system packages: ${missing[*]}"
if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; then
    as_root apt-get update -q >/dev/null 2>&1 || die "run as root: apt-get update && apt-get install -y ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null \
        || die "could not install: ${missing[*]} — run as root: apt-get install -y ${missing[*]}"
fi
