from odoo.tests import tagged

from odoo.addons.payment_latam.models.cajavecina_service import document_number
from odoo.addons.payment_latam.simulators.bancoestado_client import BancoEstadoClient
from odoo.addons.payment_latam.tests.common import through_test_server
from odoo.addons.payment_latam.tests.shop_common import ChileanShopCase

# The RUT the tour's shopper gives as tax ID (static/tests/tours/cajavecina_checkout.js).
SHOPPER_RUT = "76086428-5"


@tagged("post_install", "-at_install", "payment_latam", "tour")
class TestCajaVecinaCheckoutTour(ChileanShopCase):
    """The Caja Vecina checkout in a real headless Chromium, then BancoEstado.

    The shopper chooses to pay cash: the order waits, its payment pending. Days
    later the bank asks what the RUT owes and registers the cash payment over
    real HTTP (its client simulator against Odoo's test server): the payment is
    done and post-processed for real, which confirms the order.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The bank is played from loopback: the webservice answers listed callers only.
        cls.latam_providers["cajavecina"].cajavecina_allowed_ips = "127.0.0.1, ::1"

    def _cajavecina_transactions(self):
        self.env.invalidate_all()
        return self.env["payment.transaction"].search([("provider_code", "=", "cajavecina")])

    def _as_bank(self, call, *args, **kwargs):
        return through_test_server(self.env, call, *args, **kwargs)

    def test_cash_payment_registered_by_the_bank_confirms_the_order(self):
        self.start_tour("/shop", "payment_latam_cajavecina_checkout", timeout=120)

        tx = self._cajavecina_transactions()
        self.assertEqual(len(tx), 1, "the checkout opened one Caja Vecina payment")
        self.assertEqual(tx.state, "pending", "the payment waits for the bank")
        self.assertEqual(len(tx.sale_order_ids), 1)
        order = tx.sale_order_ids
        self.assertIn(order.state, ("draft", "sent"), "the order is not confirmed yet")
        self.assertEqual(order.partner_id.commercial_partner_id.latam_rut, "760864285")
        amount = int(order.amount_total)

        bank = BancoEstadoClient(self.base_url() + "/bancoestado/web/")
        consulted = self._as_bank(bank.consultar_cliente, SHOPPER_RUT)
        self.assertIsNone(consulted.fault)
        self.assertEqual(consulted.error_code, 0, consulted.respuesta)
        self.assertEqual(consulted.respuesta["TOTAL"], str(amount))

        paid = self._as_bank(
            bank.registrar_pago,
            SHOPPER_RUT,
            document_number(tx),
            amount,
            descripcion="1158627",
            pasarela="oficina",
            transaccion="594012",
        )
        self.assertIsNone(paid.fault)
        self.assertTrue(paid.accepted, paid.respuesta)

        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.cajavecina_rut, "760864285")
        self.assertEqual(tx.cajavecina_document, document_number(tx))
        self.assertTrue(tx.is_post_processed, "post-processed in the bank's request")
        self.assertEqual(order.state, "sale", "the cash payment confirmed the order")

    def test_shopper_without_a_rut_cannot_choose_caja_vecina(self):
        self.start_tour("/shop", "payment_latam_cajavecina_checkout_without_rut", timeout=120)

        txs = self._cajavecina_transactions()
        self.assertFalse(
            txs.filtered(lambda tx: tx.state == "pending"), "no payment waits for the bank"
        )
