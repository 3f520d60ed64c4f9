import uuid

from odoo.tests import tagged

from odoo.addons.payment_latam.simulators.webpay import WebpaySimulator
from odoo.addons.payment_latam.tests.concurrent_common import ConcurrentCase

PARALLEL_RETURNS = 20


@tagged("post_install", "-at_install", "payment_latam", "webpay")
class TestWebpayConcurrentReturns(ConcurrentCase):
    """Simultaneous returns of one token: only the row lock prevents a double commit."""

    def setUp(self):
        super().setUp()
        self.transbank = WebpaySimulator().start()
        self.addCleanup(self.transbank.stop)
        with self.registry.cursor() as cr:
            env = self._env(cr)
            provider = env.ref("payment_latam.payment_provider_webpay")
            self._configure_committed(
                provider,
                {
                    "state": "test",
                    "webpay_test_api_url": self.transbank.url,
                    "allow_tokenization": True,
                },
            )
            clp = env.ref("base.CLP")
            self._configure_committed(clp, {"active": True})
            partner = env["res.partner"].create(
                {
                    "name": "Compradora Concurrente",
                    "email": "concurrente@example.cl",
                    "country_id": env.ref("base.cl").id,
                }
            )
            self.tx_values = {
                "provider_id": provider.id,
                "payment_method_id": env.ref("payment_latam.payment_method_webpay").id,
                "amount": 25990,
                "currency_id": clp.id,
                "partner_id": partner.id,
                "reference": f"WP-CONC-{uuid.uuid4().hex[:8]}",
                "operation": "online_redirect",
            }
            tx = env["payment.transaction"].create(self.tx_values)
            tx._get_processing_values()  # opens the payment at the simulator
            self.tx_id, self.partner_id, self.token = tx.id, partner.id, tx.provider_reference
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            env["payment.transaction"].browse(self.tx_id).unlink()
            env["res.partner"].browse(self.partner_id).unlink()

    def _returns_in_parallel(self, notification_data):
        """Hand the same notification to Odoo from PARALLEL_RETURNS transactions at once."""
        self._in_parallel(
            [
                lambda env: env["payment.transaction"]._handle_notification_data(
                    "webpay", notification_data
                )
            ]
            * PARALLEL_RETURNS
        )

    def test_simultaneous_returns_commit_once(self):
        self.transbank._decide(self.token, "approve")
        self._returns_in_parallel({"kind": "commit", "token": self.token})
        self.assertEqual(self.transbank.commits_of(self.token), 1)
        with self.registry.cursor() as cr:
            tx = self._env(cr)["payment.transaction"].browse(self.tx_id)
            self.assertEqual(tx.state, "done")
            self.assertTrue(tx.webpay_authorization_code)

    def test_simultaneous_inscription_returns_save_and_charge_once(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            tx = env["payment.transaction"].create(
                dict(self.tx_values, reference=f"{self.tx_values['reference']}-S", tokenize=True)
            )
            tx._get_processing_values()  # starts the inscription at the simulator
            tx_id, inscription = tx.id, tx.webpay_inscription_token
        self.addCleanup(self._cleanup_saved_card, tx_id)
        self.transbank._decide_inscription(inscription, "accept")

        self._returns_in_parallel({"kind": "inscription", "token": inscription})

        finishes = self.transbank.requests_to(r"/inscriptions/[^/]+$", method="PUT")
        self.assertEqual(len(finishes), 1)
        charges = self.transbank.requests_to(r"/oneclick/v1\.2/transactions$", method="POST")
        self.assertEqual(len(charges), 1)
        with self.registry.cursor() as cr:
            env = self._env(cr)
            self.assertEqual(env["payment.transaction"].browse(tx_id).state, "done")
            tokens = env["payment.token"].search([("partner_id", "=", self.partner_id)])
            self.assertEqual(len(tokens), 1)

    def _cleanup_saved_card(self, tx_id):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            tx = env["payment.transaction"].browse(tx_id)
            token = tx.token_id
            tx.unlink()
            token.unlink()
