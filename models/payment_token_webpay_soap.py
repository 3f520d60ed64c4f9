"""What a saved Webpay card keeps of the API it was inscribed with."""

from odoo import fields, models


class PaymentTokenWebpaySoap(models.Model):
    _inherit = "payment.token"

    # A card inscribed over one API exists only there: it is charged and deleted with
    # that API, whatever the provider uses for new operations.
    webpay_api = fields.Selection(
        [("rest", "REST"), ("soap", "SOAP (legacy)")],
        string="Webpay API",
        default="rest",
        readonly=True,
        help="The Webpay API the card was saved with; it is charged with the same one.",
    )
