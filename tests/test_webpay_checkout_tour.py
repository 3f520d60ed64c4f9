from lxml import html

from odoo.tests import tagged

from odoo.addons.payment_latam.simulators.webpay import FORM_PATH, TEST_CARD_LAST4, WebpaySimulator
from odoo.addons.payment_latam.tests.shop_common import ChileanShopCase

VOUCHER = "//*[contains(concat(' ', @class, ' '), ' o_payment_latam_webpay_voucher ')]"
TX_STATUS = "//*[contains(concat(' ', @class, ' '), ' oe_website_sale_tx_status ')]"


@tagged("post_install", "-at_install", "payment_latam", "tour")
class TestWebpayCheckoutTour(ChileanShopCase):
    """The Webpay checkout in a real headless Chromium, Transbank played by its simulator.

    The browser really goes to the simulator's payment form and really comes back
    to /payment/webpay/return; the shopper's decision there is the simulator's
    autopilot (a tour cannot act on a page that is not Odoo's).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.transbank = WebpaySimulator().start()
        cls.addClassCleanup(cls.transbank.stop)
        cls.latam_providers["webpay"].webpay_test_api_url = cls.transbank.url

    def _checkout_with_webpay(self, outcome):
        """Run the tour whose shopper decides `outcome` on Transbank's form."""
        self.transbank.autopilot = outcome
        self.addCleanup(setattr, self.transbank, "autopilot", None)
        self.transbank.reset_log()
        self.start_tour("/shop", f"payment_latam_webpay_checkout_{outcome}", timeout=120)
        self.env.invalidate_all()
        tx = self.env["payment.transaction"].search([("provider_code", "=", "webpay")])
        self.assertEqual(len(tx), 1, "the checkout opened one Webpay payment")
        (form_visit,) = self.transbank.requests_to(f"{FORM_PATH}$", method="POST")
        self.assertEqual(
            form_visit.form(), {"token_ws": tx.provider_reference}, "sent to Transbank's form"
        )
        self.assertEqual(len(tx.sale_order_ids), 1)
        return tx, tx.sale_order_ids

    def _commits(self, token=r"[^/]+"):
        return self.transbank.requests_to(rf"/transactions/{token}$", method="PUT")

    def _shopper_page(self, path):
        """A page as the shopper's browser session sees it after the tour."""
        response = self.url_open(path)
        self.assertEqual(response.status_code, 200)
        return html.fromstring(response.content)

    def test_approved_payment_confirms_the_order_and_shows_the_voucher(self):
        tx, order = self._checkout_with_webpay("approve")
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.webpay_authorization_code)
        self.assertEqual(tx.webpay_card_last4, TEST_CARD_LAST4)
        self.assertEqual(order.state, "sale")
        self.assertEqual(len(self._commits(tx.provider_reference)), 1, "committed exactly once")

        page = self._shopper_page("/shop/confirmation")
        (voucher,) = page.xpath(TX_STATUS + VOUCHER)
        text = voucher.text_content()
        for shown in (tx.reference, tx.webpay_authorization_code, f"**** {TEST_CARD_LAST4}"):
            self.assertIn(shown, text)

    def test_aborted_payment_is_cancelled_without_commit(self):
        tx, order = self._checkout_with_webpay("abort")
        self.assertEqual(tx.state, "cancel")
        self.assertIn(order.state, ("draft", "sent"), "the order is not confirmed")
        self.assertEqual(self._commits(), [], "an aborted payment is never committed")

        # /payment/status, where the return first took the shopper, tells why.
        status = self._shopper_page("/payment/status").text_content()
        self.assertIn("You cancelled the payment on Webpay. No payment was made.", status)
        self.assertFalse(self._shopper_page("/shop/confirmation").xpath(VOUCHER))
