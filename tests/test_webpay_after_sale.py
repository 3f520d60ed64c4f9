from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.payment_latam.tests.webpay_common import WebpayCommon

AFTER_SALE_LOGGER = "odoo.addons.payment_latam.models.webpay_after_sale"
HOURS = 3600


@tagged("post_install", "-at_install", "payment_latam", "webpay")
class TestWebpayRefunds(WebpayCommon):
    def setUp(self):
        # Let account_payment post-process for real: refunds become account.payments.
        self.enable_post_process_patcher = False
        super().setUp()

    def _refund_calls(self):
        return self.transbank.requests_to(r"/transactions/[^/]+/refunds", method="POST")

    def _refunds_of(self, tx):
        return tx.child_transaction_ids.filtered(lambda child: child.operation == "refund")

    def test_full_refund_from_the_payment_is_a_reversal_within_three_hours(self):
        tx = self._paid_transaction()
        self.assertTrue(self.provider.journal_id, "the provider posts to a bank journal")
        tx._post_process()
        payment = tx.payment_id
        self.assertTrue(payment, "a done Webpay transaction becomes an account.payment")
        wizard = (
            self.env["payment.refund.wizard"]
            .with_context(active_model="account.payment", active_id=payment.id)
            .create({})
        )
        self.assertEqual(wizard.support_refund, "partial")
        self.assertEqual(wizard.amount_to_refund, 15990)
        wizard.action_refund()

        refund = self._refunds_of(tx)
        self.assertEqual(refund.state, "done")
        self.assertEqual(refund.amount, -15990)
        self.assertEqual(refund.webpay_refund_type, "REVERSED")
        self.assertEqual(refund.webpay_balance, 0)
        self.assertEqual(tx.webpay_status, "REVERSED")
        (call,) = self._refund_calls()
        self.assertEqual(call.json(), {"amount": 15990})
        refund._post_process()
        self.assertEqual(refund.payment_id.payment_type, "outbound")
        self.assertEqual(refund.payment_id.amount, 15990)
        payment.invalidate_recordset()
        self.assertEqual(payment.amount_available_for_refund, 0)

    def test_partial_refunds_later_are_nullifications_down_to_zero(self):
        tx = self._paid_transaction()
        self.transbank.clock.advance(4 * HOURS)
        tx.action_refund(amount_to_refund=5000)
        first = self._refunds_of(tx)
        self.assertEqual(first.state, "done")
        self.assertEqual(first.webpay_refund_type, "NULLIFIED")
        self.assertEqual(first.webpay_balance, 10990)
        self.assertTrue(first.webpay_authorization_code)
        self.assertTrue(first.webpay_transaction_date)
        self.assertEqual(tx.webpay_status, "PARTIALLY_NULLIFIED")

        tx.action_refund(amount_to_refund=10990)
        second = self._refunds_of(tx) - first
        self.assertEqual(second.webpay_refund_type, "NULLIFIED")
        self.assertEqual(second.webpay_balance, 0)
        self.assertEqual(tx.webpay_status, "NULLIFIED")
        self.assertEqual(sum(self._refunds_of(tx).mapped("amount")), -15990)

    def test_refund_transbank_refuses_changes_nothing(self):
        tx = self._paid_transaction()
        self.transbank.clock.advance(4 * HOURS)
        tx.action_refund(amount_to_refund=15000)
        with (
            mute_logger(AFTER_SALE_LOGGER),
            self.assertRaisesRegex(UserError, "balance"),
            self.env.cr.savepoint(),  # what a request's rollback does
        ):
            tx.action_refund(amount_to_refund=5000)  # only 990 left at Transbank
        self.assertEqual(len(self._refunds_of(tx)), 1)

    def test_debit_sales_are_refunded_in_full_only(self):
        self.transbank.payment_type_code = "VD"
        self.addCleanup(setattr, self.transbank, "payment_type_code", "VN")
        tx = self._paid_transaction()
        self.transbank.clock.advance(4 * HOURS)
        with (
            mute_logger(AFTER_SALE_LOGGER),
            self.assertRaisesRegex(UserError, "in full"),
            self.env.cr.savepoint(),
        ):
            tx.action_refund(amount_to_refund=5000)
        self.assertFalse(self._refunds_of(tx))
        tx.action_refund()
        self.assertEqual(self._refunds_of(tx).state, "done")
        self.assertEqual(self._refunds_of(tx).webpay_refund_type, "NULLIFIED")

    def test_lost_refund_answer_is_pending_then_settled_by_status(self):
        tx = self._paid_transaction()
        self.transbank.clock.advance(4 * HOURS)
        self.transbank.inject_fault(
            "drop", path=r"/transactions/[^/]+/refunds", after_handling=True
        )
        with mute_logger(AFTER_SALE_LOGGER):
            tx.action_refund(amount_to_refund=6000)
        refund = self._refunds_of(tx)
        self.assertEqual(refund.state, "pending")
        self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(refund.state, "done")
        self.assertEqual(refund.webpay_refund_type, "NULLIFIED")
        self.assertEqual(refund.webpay_balance, 9990)
        self.assertEqual(len(self._refund_calls()), 1, "never refunded twice")

    def test_no_new_refund_while_an_earlier_one_is_unconfirmed(self):
        tx = self._paid_transaction()
        self.transbank.clock.advance(4 * HOURS)
        self.transbank.inject_fault("drop", path=r"/transactions/[^/]+/refunds")
        with mute_logger(AFTER_SALE_LOGGER):
            tx.action_refund(amount_to_refund=3000)
        with (
            mute_logger(AFTER_SALE_LOGGER),
            self.assertRaisesRegex(UserError, "not confirmed"),
            self.env.cr.savepoint(),
        ):
            tx.action_refund(amount_to_refund=3000)
        self.assertEqual(len(self._refund_calls()), 1, "the second refund was never sent")

    def test_a_new_refund_first_settles_the_unconfirmed_one(self):
        tx = self._paid_transaction()
        self.transbank.clock.advance(4 * HOURS)
        self.transbank.inject_fault(
            "drop", path=r"/transactions/[^/]+/refunds", after_handling=True
        )
        with mute_logger(AFTER_SALE_LOGGER):
            tx.action_refund(amount_to_refund=3000)
        first = self._refunds_of(tx)
        tx.action_refund(amount_to_refund=2000)
        self.assertEqual(first.state, "done", "settled from Transbank's balance first")
        self.assertEqual(sorted(self._refunds_of(tx).mapped("state")), ["done", "done"])
        self.assertEqual(self._refunds_of(tx).sorted("id")[-1].webpay_balance, 10990)

    def test_refund_that_never_reached_transbank_is_cancelled_after_an_hour(self):
        tx = self._paid_transaction()
        self.transbank.inject_fault("drop", path=r"/transactions/[^/]+/refunds")
        with mute_logger(AFTER_SALE_LOGGER):
            tx.action_refund()
        refund = self._refunds_of(tx)
        self.assertEqual(refund.state, "pending")
        self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(refund.state, "pending", "too early to say it did not happen")
        self._age(refund, minutes=61)
        self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(refund.state, "cancel")
        self.assertEqual(tx.webpay_status, "AUTHORIZED")


@tagged("post_install", "-at_install", "payment_latam", "webpay")
class TestWebpayDeferredCapture(WebpayCommon):
    def setUp(self):
        super().setUp()
        self.provider.capture_manually = True

    def _authorized_transaction(self):
        tx = self._paid_transaction(reference="WP-DEFERRED-1")
        self.assertEqual(tx.state, "authorized")
        return tx

    def _capture_calls(self):
        return self.transbank.requests_to(r"/transactions/[^/]+/capture", method="PUT")

    def test_provider_offers_full_capture_and_partial_refunds(self):
        self.assertEqual(self.provider.support_manual_capture, "full_only")
        self.assertEqual(self.provider.support_refund, "partial")

    def test_test_mode_uses_the_integration_deferred_commerce_code(self):
        tx = self._authorized_transaction()
        (create,) = self.transbank.requests_to(r"/transactions$", method="POST")
        self.assertEqual(create.header("Tbk-Api-Key-Id"), "597055555540")
        self.assertTrue(tx.webpay_capture_deferred)

    def test_capture_button_captures_the_whole_authorization(self):
        tx = self._authorized_transaction()
        tx.action_capture()
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.webpay_status, "CAPTURED")
        self.assertTrue(tx.webpay_capture_date)
        (call,) = self._capture_calls()
        self.assertEqual(
            call.json(),
            {
                "buy_order": tx.reference,
                "authorization_code": tx.webpay_authorization_code,
                "capture_amount": 15990,
            },
        )

    def test_void_button_releases_the_authorization(self):
        tx = self._authorized_transaction()
        tx.action_void()
        self.assertEqual(tx.state, "cancel")
        self.assertEqual(tx.webpay_status, "REVERSED")
        self.assertFalse(self._capture_calls())

    def test_lost_capture_answer_is_settled_by_status_not_by_capturing_again(self):
        tx = self._authorized_transaction()
        self.transbank.inject_fault(
            "drop", path=r"/transactions/[^/]+/capture", after_handling=True
        )
        with mute_logger(AFTER_SALE_LOGGER):
            tx.action_capture()
        self.assertEqual(tx.state, "authorized")
        self.assertEqual(tx.webpay_pending_operation, "capture")
        self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(tx.state, "done")
        self.assertFalse(tx.webpay_pending_operation)
        self.assertEqual(len(self._capture_calls()), 1)

    def test_capture_pressed_again_after_a_lost_answer_captures_once(self):
        tx = self._authorized_transaction()
        self.transbank.inject_fault(
            "drop", path=r"/transactions/[^/]+/capture", after_handling=True
        )
        with mute_logger(AFTER_SALE_LOGGER):
            tx.action_capture()
            tx.action_capture()  # Transbank refuses a second capture; its status says captured
        self.assertEqual(tx.state, "done")

    def test_capture_that_never_reached_transbank_can_be_tried_again(self):
        tx = self._authorized_transaction()
        self.transbank.inject_fault("drop", path=r"/transactions/[^/]+/capture")
        with mute_logger(AFTER_SALE_LOGGER):
            tx.action_capture()
        self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(tx.state, "authorized")
        self.assertFalse(tx.webpay_pending_operation)
        tx.action_capture()
        self.assertEqual(tx.state, "done")

    def test_void_after_a_lost_capture_answer_settles_instead_of_reversing(self):
        tx = self._authorized_transaction()
        self.transbank.inject_fault(
            "drop", path=r"/transactions/[^/]+/capture", after_handling=True
        )
        with mute_logger(AFTER_SALE_LOGGER):
            tx.action_capture()
        tx.action_void()  # the capture happened: the void must not reverse the sale
        self.assertEqual(tx.state, "done")
        self.assertFalse(self.transbank.requests_to(r"/transactions/[^/]+/refunds"))

    def test_capture_with_refused_credentials_changes_nothing(self):
        tx = self._authorized_transaction()
        self.provider.webpay_test_api_key = "wrong"
        with (
            mute_logger(AFTER_SALE_LOGGER),
            self.assertRaisesRegex(UserError, "refused"),
            self.env.cr.savepoint(),
        ):
            tx.action_capture()
        self.assertEqual(tx.state, "authorized")
