from datetime import timedelta

from odoo import api, fields, models


class UnicomerExchange(models.Model):
    """Every call Odoo made to Unicomer's API and what came back, secrets masked:
    what an accountant shows Unicomer when a collection is disputed."""

    _name = "payment.unicomer.exchange"
    _description = "Unicomer API Exchange"
    _order = "id desc"
    _rec_name = "operation"

    provider_id = fields.Many2one("payment.provider", string="Provider", index=True, readonly=True)
    transaction_id = fields.Many2one(
        "payment.transaction", string="Collection", readonly=True, index="btree_not_null"
    )
    operation = fields.Char(readonly=True, index=True)
    url = fields.Char(string="URL", readonly=True)
    user_id = fields.Many2one("res.users", string="Cashier", readonly=True)
    http_status = fields.Integer(string="HTTP Status", readonly=True)
    error = fields.Char(string="Network Error", readonly=True)
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    request_body = fields.Text(readonly=True)
    response_body = fields.Text(readonly=True)

    @api.autovacuum
    def _gc_old_exchanges(self):
        """Keep each provider's exchanges for its retention period only."""
        for provider in self.env["payment.provider"].search([("code", "=", "unicomer")]):
            limit = fields.Datetime.now() - timedelta(days=provider.unicomer_log_retention_days)
            self.search([("provider_id", "=", provider.id), ("create_date", "<", limit)]).unlink()
