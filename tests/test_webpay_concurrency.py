import threading
import uuid

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import DummyRLock, Registry
from odoo.service.model import retrying
from odoo.tests import BaseCase, common, tagged

from odoo.addons.payment_latam.simulators.webpay import WebpaySimulator

PARALLEL_RETURNS = 20


@tagged("post_install", "-at_install", "payment_latam", "webpay")
class TestWebpayConcurrentReturns(BaseCase):
    """Simultaneous returns of one token, each in its own database transaction.

    Test cursors would serialize the requests; these are real concurrent
    transactions on committed data, retried by Odoo's own `retrying` as the
    HTTP layer does, so only the row lock stands between them and a double commit.
    """

    def setUp(self):
        super().setUp()
        # The test runner holds the registry lock for the whole run; threads
        # opening environments would wait for it forever. Odoo's own test mode
        # swaps in a dummy lock the same way, for the duration of a test.
        if Registry._saved_lock is None:
            saved_lock, Registry._lock = Registry._lock, DummyRLock()
            self.addCleanup(setattr, Registry, "_lock", saved_lock)
        self.registry = Registry(common.get_db_name())
        self.transbank = WebpaySimulator().start()
        self.addCleanup(self.transbank.stop)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            provider = env.ref("payment_latam.payment_provider_webpay")
            saved = provider.read(
                ["state", "is_published", "webpay_test_api_url", "allow_tokenization"]
            )[0]
            saved.pop("id")
            self.addCleanup(self._cleanup, provider.id, saved)
            provider.write(
                {
                    "state": "test",
                    "webpay_test_api_url": self.transbank.url,
                    "allow_tokenization": True,
                }
            )
            clp = env.ref("base.CLP")
            clp.active = True
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

    def _cleanup(self, provider_id, saved):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["payment.transaction"].browse(self.tx_id).unlink()
            env["res.partner"].browse(self.partner_id).unlink()
            env["payment.provider"].browse(provider_id).write(saved)

    def _in_parallel(self, notification_data):
        """Hand the same notification to Odoo from PARALLEL_RETURNS transactions at once."""
        barrier = threading.Barrier(PARALLEL_RETURNS)
        errors = []

        def shopper_returns():
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    barrier.wait(timeout=30)
                    retrying(
                        lambda: env["payment.transaction"]._handle_notification_data(
                            "webpay", notification_data
                        ),
                        env,
                    )
            except Exception as error:  # reported by the assertion below
                errors.append(error)

        threads = [threading.Thread(target=shopper_returns) for _ in range(PARALLEL_RETURNS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        self.assertFalse([thread for thread in threads if thread.is_alive()], "stuck returns")
        self.assertEqual(errors, [])

    def test_simultaneous_returns_commit_once(self):
        self.transbank._decide(self.token, "approve")
        self._in_parallel({"kind": "commit", "token": self.token})
        self.assertEqual(self.transbank.commits_of(self.token), 1)
        with self.registry.cursor() as cr:
            tx = api.Environment(cr, SUPERUSER_ID, {})["payment.transaction"].browse(self.tx_id)
            self.assertEqual(tx.state, "done")
            self.assertTrue(tx.webpay_authorization_code)

    def test_simultaneous_inscription_returns_save_and_charge_once(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            tx = env["payment.transaction"].create(
                dict(self.tx_values, reference=f"{self.tx_values['reference']}-S", tokenize=True)
            )
            tx._get_processing_values()  # starts the inscription at the simulator
            tx_id, inscription = tx.id, tx.webpay_inscription_token
        self.addCleanup(self._cleanup_saved_card, tx_id)
        self.transbank._decide_inscription(inscription, "accept")

        self._in_parallel({"kind": "inscription", "token": inscription})

        finishes = self.transbank.requests_to(r"/inscriptions/[^/]+$", method="PUT")
        self.assertEqual(len(finishes), 1)
        charges = self.transbank.requests_to(r"/oneclick/v1\.2/transactions$", method="POST")
        self.assertEqual(len(charges), 1)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertEqual(env["payment.transaction"].browse(tx_id).state, "done")
            tokens = env["payment.token"].search([("partner_id", "=", self.partner_id)])
            self.assertEqual(len(tokens), 1)

    def _cleanup_saved_card(self, tx_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            tx = env["payment.transaction"].browse(tx_id)
            token = tx.token_id
            tx.unlink()
            token.unlink()
