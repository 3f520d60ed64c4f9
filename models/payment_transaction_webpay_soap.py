"""What a Webpay payment keeps of the API it was opened with."""

from odoo import fields, models


class PaymentTransactionWebpaySoap(models.Model):
    _inherit = "payment.transaction"

    webpay_api = fields.Selection(
        [("rest", "REST"), ("soap", "SOAP (legacy)")],
        string="Webpay API",
        default="rest",
        readonly=True,
        copy=False,
        help="The API the payment was opened with; it is followed up with the same one.",
    )
    # Transbank's voucher page for this token (SOAP): the shopper is sent there after
    # the return, as the SOAP flow requires. Not a secret.
    webpay_soap_voucher_url = fields.Char(readonly=True, copy=False)
    webpay_pending_operation = fields.Selection(
        selection_add=[("acknowledge", "Acknowledgement")],
        ondelete={"acknowledge": "set null"},
    )
