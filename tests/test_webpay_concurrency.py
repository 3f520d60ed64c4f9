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
            saved = provider.read(["state", "is_published", "webpay_test_api_url"])[0]
            saved.pop("id")
            self.addCleanup(self._cleanup, provider.id, saved)
            provider.write({"state": "test", "webpay_test_api_url": self.transbank.url})
            clp = env.ref("base.CLP")
            clp.active = True
            partner = env["res.partner"].create(
                {"name": "Compradora Concurrente", "country_id": env.ref("base.cl").id}
            )
            tx = env["payment.transaction"].create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": env.ref("payment_latam.payment_method_webpay").id,
                    "amount": 25990,
                    "currency_id": clp.id,
                    "partner_id": partner.id,
                    "reference": f"WP-CONC-{uuid.uuid4().hex[:8]}",
                    "operation": "online_redirect",
                }
            )
            tx._get_processing_values()  # opens the payment at the simulator
            self.tx_id, self.partner_id, self.token = tx.id, partner.id, tx.provider_reference

    def _cleanup(self, provider_id, saved):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["payment.transaction"].browse(self.tx_id).unlink()
            env["res.partner"].browse(self.partner_id).unlink()
            env["payment.provider"].browse(provider_id).write(saved)

    def test_simultaneous_returns_commit_once(self):
        self.transbank._decide(self.token, "approve")
        barrier = threading.Barrier(PARALLEL_RETURNS)
        errors = []

        def shopper_returns():
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    barrier.wait(timeout=30)
                    retrying(
                        lambda: env["payment.transaction"]._handle_notification_data(
                            "webpay", {"kind": "commit", "token": self.token}
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
        self.assertEqual(self.transbank.commits_of(self.token), 1)
        with self.registry.cursor() as cr:
            tx = api.Environment(cr, SUPERUSER_ID, {})["payment.transaction"].browse(self.tx_id)
            self.assertEqual(tx.state, "done")
            self.assertTrue(tx.webpay_authorization_code)
