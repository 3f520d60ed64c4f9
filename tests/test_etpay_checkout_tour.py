import re

from lxml import html

from odoo.tests import tagged

from odoo.addons.payment_latam.simulators.etpay import (
    SANDBOX_API_TOKEN,
    SANDBOX_MERCHANT_CODE,
    SESSION_PATH,
    EtpaySimulator,
)
from odoo.addons.payment_latam.tests.shop_common import ChileanShopCase


@tagged("post_install", "-at_install", "payment_latam", "tour")
class TestEtpayCheckoutTour(ChileanShopCase):
    """The ETpay checkout in a real headless Chromium, ETpay played by its simulator.

    The browser really goes to the simulator's session page with a plain GET and
    really comes back to /payment/etpay/return (or /cancel); the payer's decision
    there is the simulator's autopilot (a tour cannot act on a page that is not
    Odoo's), and ETpay's webhook really reaches Odoo before the browser returns.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.etpay = EtpaySimulator().start()
        cls.addClassCleanup(cls.etpay.stop)
        cls.latam_providers["etpay"].write(
            {
                "etpay_test_api_url": cls.etpay.url,
                "etpay_test_payment_page_url": cls.etpay.url,
                "etpay_test_merchant_code": SANDBOX_MERCHANT_CODE,
                "etpay_test_api_token": SANDBOX_API_TOKEN,
            }
        )

    def _checkout_with_etpay(self, outcome):
        """Run the tour whose payer decides `outcome` on ETpay's page."""
        self.etpay.reset()
        self.etpay.autopilot = outcome
        self.addCleanup(setattr, self.etpay, "autopilot", None)
        self.start_tour("/shop", f"payment_latam_etpay_checkout_{outcome}", timeout=120)
        self.env.invalidate_all()
        tx = self.env["payment.transaction"].search([("provider_code", "=", "etpay")])
        self.assertEqual(len(tx), 1, "the checkout opened one ETpay payment")
        self.assertEqual(len(tx.sale_order_ids), 1)
        order = tx.sale_order_ids

        visits = self.etpay.requests_to(
            rf"{SESSION_PATH}/{re.escape(tx.provider_reference)}$", method="GET"
        )
        self.assertEqual(len(visits), 1, "the browser went to ETpay's page for the session")
        (initialize,) = self.etpay.requests_to(rf"{SESSION_PATH}/initialize$", method="POST")
        sent = initialize.json()
        self.assertEqual(sent["merchant_order_id"], tx.reference)
        self.assertEqual(sent["order_amount"], int(order.amount_total))
        return tx, order

    def _shopper_page(self, path):
        """A page as the shopper's browser session sees it after the tour."""
        response = self.url_open(path)
        self.assertEqual(response.status_code, 200)
        return html.fromstring(response.content)

    def test_successful_payment_confirms_the_order(self):
        tx, order = self._checkout_with_etpay("success")
        self.assertEqual(tx.state, "done")
        self.assertEqual(order.state, "sale")
        session = self.etpay.session(tx.provider_reference)
        self.assertTrue(session["payment_token"])
        self.assertEqual(tx.etpay_payment_token, session["payment_token"])
        self.assertEqual(
            [delivery["status"] for delivery in self.etpay.webhook_deliveries],
            [200],
            "ETpay's webhook was delivered once and accepted",
        )

    def test_cancelled_payment_cancels_the_transaction(self):
        tx, order = self._checkout_with_etpay("cancelled")
        self.assertEqual(tx.state, "cancel")
        self.assertIn(order.state, ("draft", "sent"), "the order is not confirmed")

        # /payment/status, where the return first took the shopper, tells why.
        status = self._shopper_page("/payment/status").text_content()
        self.assertIn("The payment was cancelled on ETpay. No payment was made.", status)
