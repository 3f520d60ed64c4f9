from odoo.tests import tagged

from odoo.addons.payment.tests.common import PaymentCommon


@tagged("post_install", "-at_install", "payment_latam")
class TestProviderRecords(PaymentCommon):
    def test_four_providers_exist(self):
        codes = set(self.env["payment.provider"].search([]).mapped("code"))
        self.assertLessEqual({"webpay", "etpay", "cajavecina", "unicomer"}, codes)
