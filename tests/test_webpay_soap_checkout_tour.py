from odoo.tests import tagged

from odoo.addons.payment_latam.simulators.webpay_soap import WebpaySoapSimulator

# The module, not the class: a class imported here would run here a second time.
from odoo.addons.payment_latam.tests import test_webpay_checkout_tour as rest_tours
from odoo.addons.payment_latam.tests.webpay_soap_common import b64


@tagged("post_install", "-at_install", "payment_latam", "tour")
class TestWebpaySoapCheckoutTour(rest_tours.TestWebpayCheckoutTour):
    """The same checkout tours and assertions, with the provider on the SOAP API.

    The browser goes to the SOAP simulator's form, back to the SOAP return URL,
    through Transbank's voucher to the final URL, and ends on the same pages. What
    commits a SOAP payment is its acknowledgeTransaction."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rest_transbank = cls.transbank
        cls.transbank = WebpaySoapSimulator().start()
        cls.addClassCleanup(cls.transbank.stop)
        cls.latam_providers["webpay"].write(
            {
                "webpay_api": "soap",
                "webpay_test_api_url": cls.transbank.url,
                "webpay_test_soap_private_key": b64(cls.transbank.integration_key_pem),
                "webpay_test_soap_certificate": b64(cls.transbank.integration_certificate_pem),
                "webpay_test_soap_transbank_certificate": b64(
                    cls.transbank.transbank_certificate_pem
                ),
            }
        )

    def _commits(self, token=None):
        calls = [
            request
            for request in self.transbank.requests
            if request.method == "POST" and b"acknowledgeTransaction" in request.body
        ]
        return [request for request in calls if token is None or token.encode() in request.body]

    def test_approved_payment_confirms_the_order_and_shows_the_voucher(self):
        result = super().test_approved_payment_confirms_the_order_and_shows_the_voucher()
        tx = self.env["payment.transaction"].search([("provider_code", "=", "webpay")])
        self.assertEqual(tx.webpay_api, "soap")
        self.assertTrue(self.transbank.transaction(tx.provider_reference)["acknowledged"])
        self.assertTrue(
            self.transbank.transaction(tx.provider_reference)["voucher_shown"],
            "the shopper saw Transbank's voucher on the way back",
        )
        self.assertFalse(self.rest_transbank.requests, "nothing went to the REST API")
        return result

    def test_aborted_payment_is_cancelled_without_commit(self):
        result = super().test_aborted_payment_is_cancelled_without_commit()
        # SOAP asks Transbank about an aborted token, which answers 272.
        tx = self.env["payment.transaction"].search([("provider_code", "=", "webpay")])
        (result_call,) = [
            request
            for request in self.transbank.requests
            if request.method == "POST" and b"getTransactionResult" in request.body
        ]
        self.assertIn(tx.provider_reference.encode(), result_call.body)
        return result
