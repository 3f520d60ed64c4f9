import base64
import uuid

from odoo.tests import tagged

from odoo.addons.payment_latam.simulators.webpay_soap import WebpaySoapSimulator
from odoo.addons.payment_latam.tests.concurrent_common import ConcurrentCase

PARALLEL_RETURNS = 12


def b64(pem):
    return base64.b64encode(pem).decode()


@tagged("post_install", "-at_install", "payment_latam", "webpay")
class TestWebpaySoapConcurrentReturns(ConcurrentCase):
    """Simultaneous returns of one SOAP token (the return and final URLs hand the same data):
    Transbank's result can be read only once, and only the row lock sees to it."""

    def setUp(self):
        super().setUp()
        self.transbank = WebpaySoapSimulator().start()
        self.addCleanup(self.transbank.stop)
        with self.registry.cursor() as cr:
            env = self._env(cr)
            provider = env.ref("payment_latam.payment_provider_webpay")
            self._configure_committed(
                provider,
                {
                    "state": "test",
                    "webpay_api": "soap",
                    "webpay_test_api_url": self.transbank.url,
                    "webpay_test_soap_private_key": b64(self.transbank.integration_key_pem),
                    "webpay_test_soap_certificate": b64(self.transbank.integration_certificate_pem),
                    "webpay_test_soap_transbank_certificate": b64(
                        self.transbank.transbank_certificate_pem
                    ),
                },
            )
            clp = env.ref("base.CLP")
            self._configure_committed(clp, {"active": True})
            partner = env["res.partner"].create(
                {"name": "Compradora SOAP", "country_id": env.ref("base.cl").id}
            )
            tx = env["payment.transaction"].create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": env.ref("payment_latam.payment_method_webpay").id,
                    "amount": 25990,
                    "currency_id": clp.id,
                    "partner_id": partner.id,
                    "reference": f"WP-SOAP-CONC-{uuid.uuid4().hex[:8]}",
                    "operation": "online_redirect",
                }
            )
            tx._get_processing_values()  # initTransaction at the simulator
            self.tx_id, self.partner_id, self.token = tx.id, partner.id, tx.provider_reference
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            env["payment.transaction"].browse(self.tx_id).unlink()
            env["res.partner"].browse(self.partner_id).unlink()

    def _calls(self, operation):
        return [r for r in self.transbank.requests if operation.encode() in r.body]

    def test_simultaneous_returns_read_and_acknowledge_once(self):
        self.transbank._decide(self.token, "approve")
        notification = {"kind": "commit", "token": self.token}
        self._in_parallel(
            [
                lambda env: env["payment.transaction"]._handle_notification_data(
                    "webpay", notification
                )
            ]
            * PARALLEL_RETURNS
        )
        self.assertEqual(len(self._calls("getTransactionResult")), 1)
        self.assertEqual(len(self._calls("acknowledgeTransaction")), 1)
        self.assertTrue(self.transbank.transaction(self.token)["acknowledged"])
        with self.registry.cursor() as cr:
            tx = self._env(cr)["payment.transaction"].browse(self.tx_id)
            self.assertEqual(tx.state, "done")
            self.assertTrue(tx.webpay_authorization_code)
