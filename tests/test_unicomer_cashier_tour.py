from odoo.tests import new_test_user, tagged

from odoo.addons.payment_latam.tests.unicomer_common import CREDIT, CUSTOMER, UnicomerCommon

COUNTER = "/odoo/action-payment_latam.action_unicomer_cashier"


@tagged("post_install", "-at_install", "payment_latam", "tour")
class TestUnicomerCashierTour(UnicomerCommon):
    """The collection counter in a real headless Chromium, as a cashier works it,
    Unicomer played by its loopback simulator (Odoo's request handler calls it)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cashier = new_test_user(
            cls.env,
            login="unicomer_tour_cashier",
            password="unicomer_tour_cashier",
            name="Carla Cajera",
            groups="base.group_user,payment_latam.group_unicomer_cashier",
            unicomer_locality="AGENCIA CENTRO",
        )

    def _unicomer_transactions(self):
        return self.env["payment.transaction"].search([("provider_code", "=", "unicomer")])

    def test_collect_then_reverse_at_the_counter(self):
        before = self._unicomer_transactions()
        self.start_tour(COUNTER, "payment_latam_unicomer_cashier", login=self.cashier.login)
        self.env.invalidate_all()

        tx = self._unicomer_transactions() - before
        self.assertEqual(len(tx), 1, "the counter registered one collection")
        self.assertEqual(tx.state, "cancel")
        self.assertEqual(tx.unicomer_status, "reversed")
        self.assertEqual(tx.amount, 25.5)
        self.assertEqual(tx.unicomer_credit_id, str(CREDIT))
        self.assertEqual(tx.unicomer_customer_vat, CUSTOMER)
        self.assertEqual(tx.unicomer_customer_name, "LUIS ALBERTO DELEG")
        self.assertEqual(tx.unicomer_locality, "AGENCIA CENTRO")
        self.assertEqual(tx.unicomer_cashier_id, self.cashier)
        self.assertEqual(tx.unicomer_reversed_by, self.cashier)

        (payment,) = self._sim_payments()
        self.assertEqual(payment["state"], 4, "Unicomer holds the payment as reversed")
        self.assertEqual(payment["num_recibo"], tx.reference)
        self.assertEqual(str(payment["idtrx"]), tx.provider_reference)
        self.assertEqual(payment["secuencial"], CREDIT)
        self.assertEqual(payment["val_pagado"], self._money("25.50"))
        self.assertEqual(payment["localidad_recauda"], "AGENCIA CENTRO")
        self.assertEqual(payment["nombre_cajero"], self.cashier.name)
        self.assertEqual(len(self._register_requests()), 1, "registrarpago was called once")
        self.assertEqual(len(self.simulator.requests_to(r"reversapago")), 1)

    def test_invalid_cedula_never_reaches_unicomer(self):
        before = self._unicomer_transactions()
        self.start_tour(
            COUNTER, "payment_latam_unicomer_cashier_bad_cedula", login=self.cashier.login
        )
        self.env.invalidate_all()
        self.assertFalse(self.simulator.requests, "nothing was asked of Unicomer")
        self.assertFalse(self._unicomer_transactions() - before)
