from odoo import models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _webpay_store_code(self):
        """Override of `payment_latam`: a shop order pays the store of its website."""
        self.ensure_one()
        website = self.sale_order_ids[:1].website_id
        if website:
            stores = self.provider_id.sudo().webpay_store_ids
            store = stores.filtered(lambda line: line.website_id == website)[:1]
            if store:
                return store.store_code
        return super()._webpay_store_code()
