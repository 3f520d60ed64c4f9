import json
from urllib.parse import urlsplit

import odoo.http

from odoo.addons.payment.controllers.post_processing import PaymentPostProcessing
from odoo.addons.payment.tests.http_common import PaymentHttpCommon
from odoo.addons.payment_latam.simulators.etpay import (
    SANDBOX_API_TOKEN,
    SANDBOX_MERCHANT_CODE,
    EtpaySimulator,
)
from odoo.addons.payment_latam.tests.common import PaymentLatamCommon, through_test_server


class EtpayCommon(PaymentHttpCommon, PaymentLatamCommon):
    """ETpay in test mode against a real ETpay simulator on loopback.

    The simulator's webhook really reaches Odoo's test server over HTTP, and the
    payer's browser return is a real request to /payment/etpay/return.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = EtpaySimulator().start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.provider = cls.etpay
        cls.provider.write(
            {
                "state": "test",
                "is_published": True,
                "etpay_test_api_url": cls.simulator.url,
                "etpay_test_payment_page_url": cls.simulator.url,
                "etpay_test_merchant_code": SANDBOX_MERCHANT_CODE,
                "etpay_test_api_token": SANDBOX_API_TOKEN,
            }
        )
        cls.payment_method = cls.env.ref("payment_latam.payment_method_etpay")
        cls.payment_method_id = cls.payment_method.id
        cls.payment_method_code = cls.payment_method.code
        cls.reference = "ET-TEST-1"

    def setUp(self):
        super().setUp()
        self.simulator.reset()
        self.simulator.clear_faults()
        self.simulator.reset_log()

    def _open_etpay_transaction(self, **values):
        """Create a transaction and go through rendering, as the checkout does."""
        tx = self._create_transaction("redirect", **values)
        processing_values = tx._get_processing_values()
        form = self._extract_values_from_html_form(processing_values["redirect_form_html"])
        return tx, form

    def _payer_decides(self, tx, outcome):
        """What the payer does on ETpay's page; returns where ETpay sends the browser."""
        response = self._through_odoo(self.simulator.decide, tx.provider_reference, outcome)
        self.assertEqual(response.status, 302, response.body)
        return response.headers["Location"]

    def _through_odoo(self, call, *args):
        """A simulator `call` that may send ETpay's webhook to Odoo's test server."""
        return through_test_server(self.env, call, *args)

    def _resend_webhook(self, tx):
        return self._through_odoo(self.simulator.resend_webhook, tx.provider_reference)

    def _deliver_webhooks(self):
        return self._through_odoo(self.simulator.deliver_webhooks)

    def _browser_returns(self, location):
        """The payer's browser follows ETpay's redirect back to the shop."""
        parts = urlsplit(location)
        url = self._build_url(parts.path) + (f"?{parts.query}" if parts.query else "")
        return self.url_open(url, allow_redirects=False)

    def _monitor(self, tx):
        """The shopper's session watches `tx`, as after the checkout's Pay button."""
        session = self.authenticate(None, None)
        session[PaymentPostProcessing.MONITORED_TX_ID_KEY] = tx.id
        odoo.http.root.session_store.save(session)

    def _post_webhook(self, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.url_open(
            self._build_url("/payment/etpay/webhook"),
            data=data,
            headers={"Content-Type": "application/json"},
        )

    def _signature_token(self, tx):
        return tx.sudo().etpay_signature_token

    def _status_calls(self):
        return len(self.simulator.requests_to(r"/merchant/check_payment_status$"))
