"""Unicomer's bearer token, shared by every worker through the database.

A token lives 14 days; each Odoo worker (and each machine) must use the same
one, and when it runs out exactly one of them logs in again. The renewal runs
in its own short database transaction holding the token's row lock during the
login call only: cashiers' own transactions never wait on it for longer.
"""

from datetime import datetime, timezone

import psycopg2

from odoo import fields, models

from ..gateways import unicomer_api as api

_ENSURE_ROW = """
    INSERT INTO payment_unicomer_token (provider_id, environment, create_date, write_date)
    VALUES (%s, %s, now() at time zone 'UTC', now() at time zone 'UTC')
    ON CONFLICT (provider_id, environment) DO NOTHING
"""
_READ = """
    SELECT access_token, expires_at FROM payment_unicomer_token
     WHERE provider_id = %s AND environment = %s
"""
_LOCK = _READ + " FOR UPDATE"
_STORE = """
    UPDATE payment_unicomer_token
       SET access_token = %s, expires_at = %s, write_date = now() at time zone 'UTC'
     WHERE provider_id = %s AND environment = %s
"""
_RENEWAL_ATTEMPTS = 3


class UnicomerToken(models.Model):
    _name = "payment.unicomer.token"
    _description = "Unicomer API Token"

    provider_id = fields.Many2one("payment.provider", required=True, ondelete="cascade")
    environment = fields.Selection([("test", "Test"), ("prod", "Production")], required=True)
    access_token = fields.Char(groups="base.group_system")
    expires_at = fields.Datetime()

    _sql_constraints = [
        (
            "one_per_environment",
            "UNIQUE(provider_id, environment)",
            "A provider keeps one Unicomer token per environment.",
        )
    ]


def _token(row):
    if not row or not row[0] or not row[1]:
        return None
    return api.Token(row[0], row[1].replace(tzinfo=timezone.utc))


class DatabaseTokenStore:
    """`gateways.unicomer_api`'s token store, kept in `payment_unicomer_token`."""

    def __init__(self, provider, environment):
        self.registry = provider.env.registry
        self.cr = provider.env.cr
        self.key = (provider.id, environment)

    def current(self):
        self.cr.execute(_READ, self.key)
        return _token(self.cr.fetchone())

    def renew(self, stale_token, login):
        """Log in unless another worker already replaced `stale_token`; return the token."""
        for _attempt in range(_RENEWAL_ATTEMPTS):
            try:
                with self.registry.cursor() as cr:
                    cr.execute(_ENSURE_ROW, self.key, log_exceptions=False)
                return self._renew_once(stale_token, login)
            except psycopg2.errors.SerializationFailure:
                # Another worker created or renewed the token since this snapshot:
                # a fresh transaction reads it.
                continue
        raise api.UnicomerNotSent("the Unicomer token is busy; nothing was sent")

    def _renew_once(self, stale_token, login):
        # Committed when the block ends: the lock is held during the login call only.
        with self.registry.cursor() as cr:
            # Whoever gets the row logs in; the others wait here, then read its token.
            cr.execute(_LOCK, self.key, log_exceptions=False)
            stored = _token(cr.fetchone())
            if (
                stored
                and stored.access_token != stale_token
                and stored.usable(datetime.now(timezone.utc))
            ):
                return stored
            fresh = login()
            expires_at = fresh.expires_at.astimezone(timezone.utc).replace(tzinfo=None)
            cr.execute(_STORE, (fresh.access_token, expires_at, *self.key))
            return fresh
