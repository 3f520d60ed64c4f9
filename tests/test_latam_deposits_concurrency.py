from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.payment_latam.tests.concurrent_common import ConcurrentCase

ACCOUNTANTS = 3


@tagged("post_install", "-at_install", "payment_latam")
class TestLatamDepositsAtOnce(ConcurrentCase):
    """Several accountants (several workers) reconcile the same day's deposit at once."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = self._env(cr)
            webpay = env.ref("payment_latam.payment_provider_webpay")
            # Odoo (de)activates payment methods along with a provider's state.
            methods = env["payment.method"].with_context(active_test=False).search([])
            self.methods_active = {method.id: method.active for method in methods}
            # A provider of its own: committed payments must not show up in other tests.
            provider = webpay.copy(
                {
                    "name": "Webpay (deposits at once)",
                    "state": "test",
                    "latam_deposit_label": "DEPOSITS AT ONCE",
                }
            )
            self.provider_id = provider.id
            self.addCleanup(self._cleanup)
            currency = env.company.currency_id
            txs = env["payment.transaction"]
            for index, amount in enumerate((3000, 4500)):
                tx = env["payment.transaction"].create(
                    {
                        "provider_id": provider.id,
                        "payment_method_id": provider.payment_method_ids[:1].id,
                        "partner_id": env.ref("base.partner_admin").id,
                        "currency_id": currency.id,
                        "amount": amount,
                        "reference": f"DEP-AT-ONCE-{index}",
                        "operation": "online_redirect",
                    }
                )
                tx._set_done()
                tx._post_process()
                txs |= tx
            self.payment_ids = txs.payment_id.ids
            bank = env["account.journal"].search(
                [("type", "=", "bank"), ("company_id", "=", env.company.id)], limit=1
            )
            line = env["account.bank.statement.line"].create(
                {
                    "journal_id": bank.id,
                    "date": fields.Date.today(),
                    "payment_ref": "DEPOSITS AT ONCE 0001",
                    "amount": 7500,
                }
            )
            self.line_id = line.id
            deposit = env["payment.latam.deposit"]._latam_gather(provider, fields.Date.today())
            deposit.action_match()
            self.assertEqual(deposit.state, "matched")
            self.deposit_id = deposit.id

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            line = env["account.bank.statement.line"].browse(self.line_id).exists()
            env["payment.latam.deposit"].search([("provider_id", "=", self.provider_id)]).unlink()
            if line:
                line.move_id.button_draft()
                line.unlink()
            payments = env["account.payment"].browse(self.payment_ids).exists()
            payments.action_draft()
            payments.unlink()
            env["payment.transaction"].search([("provider_id", "=", self.provider_id)]).unlink()
            provider = env["payment.provider"].browse(self.provider_id)
            provider.state = "disabled"
            provider.unlink()
            env.flush_all()
            for method_id, was_active in self.methods_active.items():
                cr.execute(
                    "UPDATE payment_method SET active = %s WHERE id = %s", [was_active, method_id]
                )
            env.invalidate_all()

    def test_the_deposit_is_booked_once(self):
        outcomes = []

        def reconcile(env):
            try:
                env["payment.latam.deposit"].browse(self.deposit_id).action_reconcile()
                outcomes.append("booked")
            except UserError:
                outcomes.append("refused")

        self._in_parallel([reconcile] * ACCOUNTANTS)
        self.assertEqual(sorted(outcomes), ["booked"] + ["refused"] * (ACCOUNTANTS - 1))
        with self.registry.cursor() as cr:
            env = self._env(cr)
            deposit = env["payment.latam.deposit"].browse(self.deposit_id)
            self.assertEqual(deposit.state, "closed")
            move = deposit.statement_line_id.move_id
            self.assertEqual(len(move.line_ids), 2, "bank line and one counterpart, not two")
            for payment in env["account.payment"].browse(self.payment_ids):
                liquidity, _counterpart, _writeoff = payment._seek_for_lines()
                self.assertTrue(liquidity.reconciled, payment.name)
