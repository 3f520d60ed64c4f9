from odoo import models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _webpay_store_code(self):
        """Override of `payment_latam`: a shop order pays the store of its website."""
        self.ensure_one()
        stores = self.provider_id.sudo().webpay_store_ids.filtered(
            lambda line: line.company_id == self.company_id
        )
        website = self.sale_order_ids[:1].website_id
        store = stores.filtered(lambda line: website and line.website_id == website)[:1]
        # Other payments go to a store no website claims, before any other line.
        store = store or stores.filtered(lambda line: not line.website_id)[:1]
        return store.store_code if store else super()._webpay_store_code()
