import base64

from odoo.addons.payment_latam.simulators.webpay_soap import WebpaySoapSimulator
from odoo.addons.payment_latam.tests.webpay_common import WebpayCommon


def b64(pem):
    return base64.b64encode(pem).decode()


class WebpaySoapCommon(WebpayCommon):
    """Webpay in test mode over the legacy SOAP API, against a loopback Transbank that
    checks every request's signature and signs its answers.

    The REST simulator of `WebpayCommon` stays up (unused): a SOAP payment that
    reached it would be a bug the tests see as a missing SOAP call."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.soap_transbank = WebpaySoapSimulator().start()
        cls.addClassCleanup(cls.soap_transbank.stop)
        cls.provider.write(
            {
                "webpay_api": "soap",
                "webpay_test_api_url": cls.soap_transbank.url,
                # The simulator's integration merchant: its generated key, never a real one.
                "webpay_test_soap_private_key": b64(cls.soap_transbank.integration_key_pem),
                "webpay_test_soap_certificate": b64(cls.soap_transbank.integration_certificate_pem),
                "webpay_test_soap_transbank_certificate": b64(
                    cls.soap_transbank.transbank_certificate_pem
                ),
            }
        )

    def setUp(self):
        super().setUp()
        self.soap_transbank.reset()
        self.soap_transbank.clear_faults()
        self.soap_transbank.reset_log()

    def _shopper_decides(self, tx, outcome):
        return self.soap_transbank._decide(tx.provider_reference, outcome)

    def _soap_calls(self, operation):
        """The requests to Transbank's SOAP services that carried `operation`."""
        return [
            request
            for request in self.soap_transbank.requests
            if request.method == "POST"
            and f":{operation}>".encode() in request.body
            or request.method == "POST"
            and f"<{operation}>".encode() in request.body
        ]

    def _return(self, method="POST", route="/payment/webpay/soap/return", **params):
        url = self._build_url(route)
        if method == "GET":
            return self._make_http_get_request(url, params)
        return self._make_http_post_request(url, params)

    def _final(self, **params):
        return self._return(route="/payment/webpay/soap/final", **params)

    def _paid_transaction(self, reference="WP-SOAP-PAID-1", outcome="approve"):
        """A Webpay SOAP payment the shopper approved and Odoo read and acknowledged."""
        tx, _form = self._open_webpay_transaction(reference=reference)
        self._shopper_decides(tx, outcome)
        self._return(token_ws=tx.provider_reference)
        return tx
