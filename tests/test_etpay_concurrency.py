import uuid

from odoo.tests import tagged

from odoo.addons.payment_latam.simulators.etpay import (
    SANDBOX_API_TOKEN,
    SANDBOX_MERCHANT_CODE,
    EtpaySimulator,
)
from odoo.addons.payment_latam.tests.concurrent_common import ConcurrentCase

PARALLEL_WEBHOOKS = 10
PARALLEL_RETURNS = 10


@tagged("post_install", "-at_install", "payment_latam", "etpay")
class TestEtpayConcurrentNotifications(ConcurrentCase):
    """ETpay's webhook repeated and the payer's returns, all at the same moment."""

    def setUp(self):
        super().setUp()
        self.simulator = EtpaySimulator().start()
        self.addCleanup(self.simulator.stop)
        self.simulator.webhook_mode = "never"  # this test delivers it, many times at once
        with self.registry.cursor() as cr:
            env = self._env(cr)
            provider = env.ref("payment_latam.payment_provider_etpay")
            self._configure_committed(
                provider,
                {
                    "state": "test",
                    "etpay_test_api_url": self.simulator.url,
                    "etpay_test_payment_page_url": self.simulator.url,
                    "etpay_test_merchant_code": SANDBOX_MERCHANT_CODE,
                    "etpay_test_api_token": SANDBOX_API_TOKEN,
                },
            )
            self._configure_committed(env.ref("base.CLP"), {"active": True})
            partner = env["res.partner"].create(
                {"name": "Pagadora Concurrente", "email": "concurrente@example.cl"}
            )
            tx = env["payment.transaction"].create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": env.ref("payment_latam.payment_method_etpay").id,
                    "amount": 34990,
                    "currency_id": env.ref("base.CLP").id,
                    "partner_id": partner.id,
                    "reference": f"ET-CONC-{uuid.uuid4().hex[:8]}",
                    "operation": "online_redirect",
                }
            )
            tx._get_processing_values()  # opens the session at the simulator
            self.tx_id, self.partner_id, self.session = tx.id, partner.id, tx.provider_reference
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            env["payment.transaction"].browse(self.tx_id).unlink()
            env["res.partner"].browse(self.partner_id).unlink()

    def test_simultaneous_webhooks_and_returns_settle_once(self):
        self.simulator.decide(self.session, "success")
        jwt = self.simulator.jwt_for(self.session)

        def webhook(env):
            env["payment.transaction"]._handle_notification_data(
                "etpay", {"source": "webhook", "jwt": jwt}
            )

        def return_without_jwt(env):
            env["payment.transaction"]._handle_notification_data(
                "etpay", {"source": "return", "jwt": None, "tx_id": self.tx_id}
            )

        self._in_parallel([webhook] * PARALLEL_WEBHOOKS + [return_without_jwt] * PARALLEL_RETURNS)

        with self.registry.cursor() as cr:
            tx = self._env(cr)["payment.transaction"].browse(self.tx_id)
            self.assertEqual(tx.state, "done")
            self.assertEqual(
                tx.etpay_payment_token, self.simulator.session(self.session)["payment_token"]
            )
        # Whoever held the row first settled it; everyone after saw it done under the
        # lock. Without the lock each return would ask ETpay on its own.
        self.assertLessEqual(self.simulator.status_calls(), 1)
