import threading

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.payment_latam.models import unicomer_collection
from odoo.addons.payment_latam.simulators.unicomer import (
    SANDBOX_IDCOMMERCE,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
    UnicomerSimulator,
)
from odoo.addons.payment_latam.tests.concurrent_common import ConcurrentCase

CUSTOMER = "0101690808"
CASHIERS = 4


@tagged("post_install", "-at_install", "payment_latam", "unicomer")
class TestUnicomerCashiersAtOnce(ConcurrentCase):
    """Several cashiers (several workers) collect and reverse at the same moment."""

    def setUp(self):
        super().setUp()
        self.simulator = UnicomerSimulator().start()
        self.addCleanup(self.simulator.stop)
        with self.registry.cursor() as cr:
            env = self._env(cr)
            self.provider_id = env.ref("payment_latam.payment_provider_unicomer").id
            self._configure_committed(
                env["payment.provider"].browse(self.provider_id),
                {
                    "state": "test",
                    "unicomer_test_api_url": self.simulator.url,
                    "unicomer_test_username": SANDBOX_USERNAME,
                    "unicomer_test_password": SANDBOX_PASSWORD,
                    "unicomer_test_idcommerce": SANDBOX_IDCOMMERCE,
                    "unicomer_default_locality": "MATRIZ",
                },
            )
            self._configure_committed(env.ref("base.USD"), {"active": True})
            cr.execute("DELETE FROM payment_unicomer_token")
            self.users = [env.ref("base.user_admin").id, SUPERUSER_ID]
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            txs = env["payment.transaction"].search([("provider_id", "=", self.provider_id)])
            env["payment.unicomer.exchange"].search(
                [("provider_id", "=", self.provider_id)]
            ).unlink()
            txs.unlink()
            cr.execute("DELETE FROM payment_unicomer_token")

    def _cashier_env(self, env, index):
        return api.Environment(env.cr, self.users[index % len(self.users)], {})

    def _collect(self, env, index):
        env = self._cashier_env(env, index)
        provider = env["payment.provider"].browse(self.provider_id)
        credit = unicomer_collection.client_for(provider).account_statement(CUSTOMER).credits[0]
        unicomer_collection.collect(
            provider,
            customer_vat=CUSTOMER,
            customer_name="LUIS ALBERTO DELEG",
            credit=credit,
            amount="10.00",
            locality=f"CAJA {index}",
            user=env.user,
        )

    def test_cashiers_collect_at_once_with_one_login(self):
        handlers = [lambda env, i=i: self._collect(env, i) for i in range(CASHIERS)]
        self._in_parallel(handlers)

        self.assertEqual(
            self.simulator.logins, 1, "one worker logs in, the others wait for its token"
        )
        payments = self.simulator.payments
        self.assertEqual(len(payments), CASHIERS)
        with self.registry.cursor() as cr:
            txs = self._env(cr)["payment.transaction"].search(
                [("provider_id", "=", self.provider_id)]
            )
            self.assertEqual(len(txs), CASHIERS)
            self.assertEqual(set(txs.mapped("state")), {"authorized"})
            self.assertEqual(len(set(txs.mapped("reference"))), CASHIERS)
            self.assertEqual(
                sorted(txs.mapped("provider_reference")), sorted(str(p["idtrx"]) for p in payments)
            )

    def test_two_cashiers_reverse_the_same_collection_once(self):
        self._in_parallel([lambda env: self._collect(env, 0)])
        with self.registry.cursor() as cr:
            tx_id = (
                self._env(cr)["payment.transaction"]
                .search([("provider_id", "=", self.provider_id)])
                .id
            )
        refused = []
        lock = threading.Lock()

        def reverse(env):
            tx = env["payment.transaction"].browse(tx_id)
            try:
                unicomer_collection.reverse(tx)
            except UserError:
                with lock:
                    refused.append(True)

        self.simulator.reset_log()
        self._in_parallel([reverse, reverse])

        self.assertEqual(len(self.simulator.requests_to("reversapago")), 1)
        self.assertEqual(len(refused), 1, "the second cashier finds it reversed already")
        self.assertEqual(self.simulator.payments[0]["state"], 4)
        with self.registry.cursor() as cr:
            tx = self._env(cr)["payment.transaction"].browse(tx_id)
            self.assertEqual(tx.state, "cancel")
