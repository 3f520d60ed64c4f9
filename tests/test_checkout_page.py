from odoo.tests import tagged

from odoo.addons.payment.tests.http_common import PaymentHttpCommon
from odoo.addons.payment_latam.tests.common import PaymentLatamCommon

SECRETS = {
    "webpay_test_api_key": "WEBPAY-SECRET-KEY-0001",
    "webpay_test_commerce_code": "597099990001",
    "etpay_test_api_token": "ETPAY-SECRET-TOKEN-0002",
    "etpay_test_merchant_code": "cl_sandbox_secretshop",
    "cajavecina_basic_auth_password": "CV-SECRET-PASSWORD-0003",
    "cajavecina_path_secret": "CV-SECRET-PATH-0004",
    "unicomer_test_password": "UNI-SECRET-PASSWORD-0005",
}


@tagged("post_install", "-at_install", "payment_latam")
class TestCheckoutPage(PaymentHttpCommon, PaymentLatamCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for provider in cls.latam_providers.values():
            provider.write({"state": "test", "is_published": True})
        for field_name, secret in SECRETS.items():
            cls.latam_providers[field_name.split("_")[0]][field_name] = secret

    def _pay_page(self, currency, amount):
        values = self._prepare_pay_values(amount=amount, currency=currency)
        response = self._portal_pay(**values)
        self.assertEqual(response.status_code, 200)
        return response.text

    def test_clp_payment_offers_the_chilean_channels_without_leaking_credentials(self):
        html = self._pay_page(self.currency_clp, self.amount)
        for code in ("webpay", "etpay", "cajavecina"):
            self.assertIn(f'data-provider-code="{code}"', html)
        self.assertNotIn('data-provider-code="unicomer"', html)
        for secret in SECRETS.values():
            self.assertNotIn(secret, html)

    def test_usd_payment_hides_the_chilean_channels(self):
        html = self._pay_page(self.currency_usd, 100.0)
        for code in ("webpay", "etpay", "cajavecina"):
            self.assertNotIn(f'data-provider-code="{code}"', html)
