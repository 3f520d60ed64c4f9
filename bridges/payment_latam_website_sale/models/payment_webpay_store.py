from odoo import fields, models


class PaymentWebpayStore(models.Model):
    _inherit = "payment.webpay.store"

    website_id = fields.Many2one(
        string="Website",
        comodel_name="website",
        help="The store selling the orders of this website; empty: the company's other orders.",
    )
