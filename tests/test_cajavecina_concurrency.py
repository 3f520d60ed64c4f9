import uuid
from datetime import date

from odoo import Command
from odoo.tests import tagged

from odoo.addons.payment_latam.gateways.cajavecina_soap import SoapRequest
from odoo.addons.payment_latam.models.cajavecina_service import (
    CajaVecinaRefusal,
    document_number,
)
from odoo.addons.payment_latam.tests.concurrent_common import ConcurrentCase

PARALLEL_CALLS = 20
PAYER_RUT = "12531909-2"


@tagged("post_install", "-at_install", "payment_latam", "cajavecina")
class TestCajaVecinaConcurrentPayments(ConcurrentCase):
    """BancoEstado sending the same registrarPago 20 times at once."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = self._env(cr)
            provider = env.ref("payment_latam.payment_provider_cajavecina")
            self._configure_committed(provider, {"state": "test"})
            clp = env.ref("base.CLP")
            self._configure_committed(clp, {"active": True})
            partner = env["res.partner"].create(
                {
                    "name": "Pagador Concurrente",
                    "vat": PAYER_RUT,
                    "country_id": env.ref("base.cl").id,
                }
            )
            invoice = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "currency_id": clp.id,
                    "invoice_date": date(2026, 11, 1),
                    "invoice_line_ids": [
                        Command.create({"name": "Plan", "price_unit": 21990, "tax_ids": []})
                    ],
                }
            )
            invoice.action_post()
            self.provider_id, self.partner_id, self.invoice_id = provider.id, partner.id, invoice.id
            self.factura = document_number(invoice)
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            invoice = env["account.move"].browse(self.invoice_id)
            txs = env["payment.transaction"].search([("invoice_ids", "in", invoice.ids)])
            payments = txs.payment_id
            payments.action_draft()
            payments.unlink()
            txs.unlink()
            invoice.button_draft()
            invoice.with_context(force_delete=True).unlink()
            env["res.partner"].browse(self.partner_id).unlink()

    def _register(self, transaccion_of):
        """Send 20 registrarPago at once; `transaccion_of(i)` numbers the i-th call."""
        outcomes = []

        def bank_call(number):
            call = SoapRequest(
                "registrarPago",
                {
                    "rutCliente": PAYER_RUT.replace("-", ""),
                    "factura": self.factura,
                    "monto": "21990",
                    "descripcion": "caja 123",
                    "pasarela": "oficina",
                    "transaccion": transaccion_of(number),
                },
                "1.1",
            )

            def handler(env):
                provider = env["payment.provider"].browse(self.provider_id)
                try:
                    with env.cr.savepoint():
                        answer, _info = provider._cajavecina_handle(call)
                except CajaVecinaRefusal as refusal:
                    outcomes.append(("refused", refusal.code))
                else:
                    outcomes.append(("answer", {child.tag: child.text for child in answer}))

            return handler

        self._in_parallel([bank_call(number) for number in range(PARALLEL_CALLS)])
        return outcomes

    def _settled(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            invoice = env["account.move"].browse(self.invoice_id)
            txs = env["payment.transaction"].search([("invoice_ids", "in", invoice.ids)])
            return invoice.amount_residual, len(txs), len(txs.payment_id)

    def test_twenty_identical_payments_book_one(self):
        number = str(uuid.uuid4().int)[:12]
        outcomes = self._register(lambda _i: number)
        answers = [value for kind, value in outcomes if kind == "answer"]
        self.assertEqual(len(answers), PARALLEL_CALLS)
        self.assertEqual({answer["ESTADO"] for answer in answers}, {"aceptado"})
        self.assertEqual(len({answer["FECHA_ENVIO"] for answer in answers}), 1, "one original")
        self.assertEqual(self._settled(), (0, 1, 1))

    def test_twenty_identical_payments_without_transaction_number_book_one(self):
        outcomes = self._register(lambda _i: None)
        self.assertEqual({value["ESTADO"] for _kind, value in outcomes}, {"aceptado"})
        self.assertEqual(self._settled(), (0, 1, 1))

    def test_twenty_payments_with_different_numbers_pay_the_invoice_once(self):
        """No shared key here: only the document's row lock stands between them."""
        base = uuid.uuid4().int % 10**12
        outcomes = self._register(lambda i: str(base + i))
        accepted = [value for kind, value in outcomes if kind == "answer"]
        refused = [value for kind, value in outcomes if kind == "refused"]
        self.assertEqual(len(accepted), 1)
        self.assertEqual(refused, [2] * (PARALLEL_CALLS - 1), "the others: nothing to pay")
        self.assertEqual(self._settled(), (0, 1, 1))
