from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.payment_latam import post_init_hook, uninstall_hook
from odoo.addons.payment_latam.tests.common import PaymentLatamCommon


@tagged("post_install", "-at_install", "payment_latam")
class TestProviderHooks(PaymentLatamCommon):
    def _account_methods(self):
        return self.env["account.payment.method"].search(
            [("code", "in", list(self.latam_providers))]
        )

    def test_uninstall_hook_resets_providers_and_their_accounting_methods(self):
        self.webpay.state = "test"
        uninstall_hook(self.env)
        for provider in self.latam_providers.values():
            self.assertEqual(provider.code, "none")
            self.assertEqual(provider.state, "disabled")
            self.assertFalse(provider.is_published)
        self.assertFalse(self._account_methods())

        post_init_hook(self.env)
        self.assertEqual(
            set(self._account_methods().mapped("code")), set(self.latam_providers), "recreated"
        )

    def test_uninstall_is_refused_while_payments_use_a_channel(self):
        journal = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", self.company.id)], limit=1
        )
        self.cajavecina.write({"state": "test", "journal_id": journal.id})
        method_line = journal.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == self.cajavecina
        )
        self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.partner.id,
                "amount": self.amount,
                "journal_id": journal.id,
                "payment_method_line_id": method_line.id,
            }
        )
        with self.assertRaises(UserError):
            uninstall_hook(self.env)
