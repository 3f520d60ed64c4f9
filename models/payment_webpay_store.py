from odoo import fields, models


class PaymentWebpayStore(models.Model):
    """A store of a Webpay Plus Mall: the commerce code Transbank pays for one company."""

    _name = "payment.webpay.store"
    _description = "Webpay Mall Store"
    _order = "provider_id, sequence, id"

    provider_id = fields.Many2one(
        string="Provider", comodel_name="payment.provider", required=True, ondelete="cascade"
    )
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        string="Company",
        comodel_name="res.company",
        required=True,
        default=lambda self: self.env.company,
    )
    store_code = fields.Char(string="Store Commerce Code", required=True)

    _sql_constraints = [
        (
            "store_code_per_provider",
            "UNIQUE(provider_id, store_code)",
            "A store commerce code appears once per provider.",
        ),
    ]
