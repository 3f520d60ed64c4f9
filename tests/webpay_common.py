from odoo.addons.payment.tests.http_common import PaymentHttpCommon
from odoo.addons.payment_latam.simulators.webpay import WebpaySimulator
from odoo.addons.payment_latam.tests.common import PaymentLatamCommon


class WebpayCommon(PaymentHttpCommon, PaymentLatamCommon):
    """Webpay in test mode against a real Transbank simulator on loopback."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.transbank = WebpaySimulator().start()
        cls.addClassCleanup(cls.transbank.stop)
        cls.provider = cls.webpay
        cls.provider.write(
            {"state": "test", "is_published": True, "webpay_test_api_url": cls.transbank.url}
        )
        cls.payment_method = cls.env.ref("payment_latam.payment_method_webpay")
        cls.payment_method_id = cls.payment_method.id
        cls.payment_method_code = cls.payment_method.code
        cls.reference = "WP-TEST-1"  # a buy order Transbank accepts (no spaces)

    def setUp(self):
        super().setUp()
        self.transbank.autopilot = None
        self.transbank.clear_faults()
        self.transbank.reset_log()

    def _open_webpay_transaction(self, **values):
        """Create a transaction and go through rendering, as the checkout does."""
        tx = self._create_transaction("redirect", **values)
        processing_values = tx._get_processing_values()
        form = self._extract_values_from_html_form(processing_values["redirect_form_html"])
        return tx, form

    def _shopper_decides(self, tx, outcome):
        """What the shopper does on Transbank's form, without a browser."""
        return self.transbank._decide(tx.provider_reference, outcome)

    def _return(self, method="GET", **params):
        url = self._build_url("/payment/webpay/return")
        if method == "GET":
            return self._make_http_get_request(url, params)
        return self._make_http_post_request(url, params)

    def _commit_calls(self):
        return len(self.transbank.requests_to(r"/transactions/[^/]+$", method="PUT"))

    def _paid_transaction(self, reference="WP-PAID-1", outcome="approve"):
        """A Webpay payment the shopper approved and Odoo committed."""
        tx, _form = self._open_webpay_transaction(reference=reference)
        self._shopper_decides(tx, outcome)
        self._return(token_ws=tx.provider_reference)
        return tx
