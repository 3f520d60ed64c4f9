from datetime import timedelta

from odoo import api, fields, models


class CajaVecinaExchange(models.Model):
    """Every call BancoEstado made to the webservice, as received and as answered:
    what an accountant shows the bank when a payment is disputed."""

    _name = "payment.cajavecina.exchange"
    _description = "Caja Vecina Webservice Exchange"
    _order = "id desc"
    _rec_name = "operation"

    provider_id = fields.Many2one("payment.provider", string="Provider", index=True, readonly=True)
    operation = fields.Char(readonly=True, index=True)
    source_ip = fields.Char(string="Source Address", readonly=True)
    rut = fields.Char(string="RUT", readonly=True, index=True)
    document = fields.Char(string="Document (factura)", readonly=True, index=True)
    amount = fields.Float(digits=(18, 0), readonly=True)
    bank_transaction = fields.Char(string="Bank Transaction", readonly=True, index=True)
    result = fields.Selection(
        selection=[
            ("ok", "Answered"),
            ("refused", "Refused (code)"),
            ("fault", "SOAP Fault"),
            ("denied", "Access denied"),
        ],
        readonly=True,
        index=True,
    )
    result_code = fields.Char(string="CODIGO_ERROR", readonly=True)
    description = fields.Char(readonly=True)
    transaction_id = fields.Many2one(
        "payment.transaction", string="Payment Transaction", readonly=True, index="btree_not_null"
    )
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    request_body = fields.Text(readonly=True)
    response_body = fields.Text(readonly=True)

    @api.autovacuum
    def _gc_old_exchanges(self):
        """Keep each provider's exchanges for its retention period only."""
        for provider in self.env["payment.provider"].search([("code", "=", "cajavecina")]):
            limit = fields.Datetime.now() - timedelta(days=provider.cajavecina_log_retention_days)
            self.search([("provider_id", "=", provider.id), ("create_date", "<", limit)]).unlink()
