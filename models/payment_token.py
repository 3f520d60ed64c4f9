from odoo import fields, models

from ..gateways.codes import WEBPAY
from . import webpay_oneclick


class PaymentToken(models.Model):
    _inherit = "payment.token"

    # With `provider_ref` (Transbank's tbk_user), what Oneclick needs to charge the card.
    webpay_oneclick_username = fields.Char(string="Oneclick Username", readonly=True)

    def _handle_archiving(self):
        """Override of `payment`: a deleted saved card is deleted at Transbank too."""
        res = super()._handle_archiving()
        for token in self.filtered(lambda token: token.provider_code == WEBPAY):
            webpay_oneclick.delete_inscription(token)
        return res
