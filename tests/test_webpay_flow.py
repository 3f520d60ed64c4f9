from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.payment_latam.simulators.webpay import FORM_PATH, TEST_CARD_LAST4
from odoo.addons.payment_latam.tests.webpay_common import WebpayCommon


@tagged("post_install", "-at_install", "payment_latam", "webpay")
class TestWebpayFlow(WebpayCommon):
    def test_rendering_opens_the_transaction_and_posts_the_token_to_transbank(self):
        tx, form = self._open_webpay_transaction()
        self.assertEqual(form["action"], f"{self.transbank.url}{FORM_PATH}")
        self.assertEqual(form["method"], "post")
        self.assertEqual(form["inputs"], {"token_ws": tx.provider_reference})
        (create,) = self.transbank.requests_to(r"/transactions$", method="POST")
        payload = create.json()
        self.assertEqual(payload["buy_order"], tx.reference)
        self.assertEqual(payload["amount"], 15990)
        self.assertIsInstance(payload["amount"], int)
        self.assertEqual(payload["session_id"], tx.webpay_session_id)
        self.assertTrue(payload["return_url"].endswith("/payment/webpay/return"))
        self.assertEqual(create.header("Tbk-Api-Key-Id"), "597055555532")

    def test_a_provider_that_lost_its_redirect_form_still_redirects(self):
        # Provider data is noupdate: a record whose form was cleared is never rewritten.
        self.provider.redirect_form_view_id = False
        tx, form = self._open_webpay_transaction(reference="WP-NOFORM-1")
        self.assertEqual(form["inputs"], {"token_ws": tx.provider_reference})

    def test_long_references_become_valid_buy_orders(self):
        reference = self.env["payment.transaction"]._compute_reference(
            "webpay", prefix="INV/2026/000123-SO-with-a-long-name"
        )
        self.assertLessEqual(len(reference), 26)
        self.assertEqual(
            self.env["payment.transaction"]._compute_reference("webpay", prefix="S00042"),
            "S00042",
        )

    def test_approved_payment_is_done_with_its_voucher(self):
        tx, _form = self._open_webpay_transaction()
        self._shopper_decides(tx, "approve")
        response = self._return(token_ws=tx.provider_reference)
        self.assertEqual(response.status_code, 200)  # followed to /payment/status
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.webpay_authorization_code)
        self.assertEqual(tx.webpay_card_last4, TEST_CARD_LAST4)
        self.assertEqual(tx.webpay_payment_type, "VN")
        self.assertEqual(tx.webpay_status, "AUTHORIZED")
        self.assertTrue(tx.webpay_transaction_date)
        self.assertEqual(self._commit_calls(), 1)

    def test_debit_payment_is_recorded_as_redcompra(self):
        self.transbank.payment_type_code = "VD"
        self.addCleanup(setattr, self.transbank, "payment_type_code", "VN")
        tx, _form = self._open_webpay_transaction()
        self._shopper_decides(tx, "approve")
        self._return(token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.payment_method_id.code, "webpay_redcompra")

    def test_rejected_card_is_an_error_with_a_reason(self):
        tx, _form = self._open_webpay_transaction()
        self._shopper_decides(tx, "reject")
        self._return(token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "error")
        self.assertIn("No payment was made", tx.state_message)
        self.assertEqual(self._commit_calls(), 1)

    def test_abort_cancels_without_commit(self):
        tx, _form = self._open_webpay_transaction()
        self._shopper_decides(tx, "abort")
        self._return(
            "POST",
            TBK_TOKEN=tx.provider_reference,
            TBK_ORDEN_COMPRA=tx.reference,
            TBK_ID_SESION=tx.webpay_session_id,
        )
        self.assertEqual(tx.state, "cancel")
        self.assertIn("cancelled", tx.state_message)
        self.assertEqual(self._commit_calls(), 0)

    def test_form_timeout_cancels_without_commit(self):
        tx, _form = self._open_webpay_transaction()
        self._shopper_decides(tx, "timeout")
        self._return("POST", TBK_ORDEN_COMPRA=tx.reference, TBK_ID_SESION=tx.webpay_session_id)
        self.assertEqual(tx.state, "cancel")
        self.assertEqual(self._commit_calls(), 0)

    def test_timeout_needs_our_session_id(self):
        tx, _form = self._open_webpay_transaction()
        with mute_logger("odoo.addons.payment_latam.controllers.webpay"):
            self._return("POST", TBK_ORDEN_COMPRA=tx.reference, TBK_ID_SESION="someone-else")
        self.assertEqual(tx.state, "draft")

    def test_form_error_cancels_without_commit(self):
        tx, _form = self._open_webpay_transaction()
        self._shopper_decides(tx, "form_error")
        self._return(
            "POST",
            token_ws=tx.provider_reference,
            TBK_TOKEN=tx.provider_reference,
            TBK_ORDEN_COMPRA=tx.reference,
            TBK_ID_SESION=tx.webpay_session_id,
        )
        self.assertEqual(tx.state, "cancel")
        self.assertEqual(self._commit_calls(), 0)

    def test_refresh_and_double_submit_commit_once(self):
        tx, _form = self._open_webpay_transaction()
        self._shopper_decides(tx, "approve")
        for method in ("GET", "GET", "POST"):
            self._return(method, token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "done")
        self.assertEqual(self._commit_calls(), 1)

    def test_foreign_or_forged_tokens_change_nothing(self):
        tx, _form = self._open_webpay_transaction()
        self._shopper_decides(tx, "approve")
        with mute_logger("odoo.addons.payment_latam.controllers.webpay"):
            for params in (
                {"token_ws": "f" * 64},
                {"token_ws": tx.provider_reference + "x"},
                {"TBK_TOKEN": "0" * 64, "TBK_ORDEN_COMPRA": tx.reference, "TBK_ID_SESION": "x"},
                {},
            ):
                response = self._return(**params)
                self.assertEqual(response.status_code, 200)
        self.assertEqual(tx.state, "draft")
        self.assertEqual(self._commit_calls(), 0)

    def test_amount_mismatch_is_never_done(self):
        tx, _form = self._open_webpay_transaction()
        self._shopper_decides(tx, "approve")
        with self.transbank.state_lock:
            self.transbank.transactions[tx.provider_reference]["amount"] = 1599
        with mute_logger("odoo.addons.payment_latam.models.webpay_flow"):
            self._return(token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "error")
        self.assertIn("does not match", tx.state_message)

    def test_wrong_credentials_refuse_to_open(self):
        self.provider.webpay_test_api_key = "not-the-key"
        with (
            mute_logger("odoo.addons.payment_latam.models.webpay_flow"),
            self.assertRaisesRegex(Exception, "refused"),
        ):
            self._open_webpay_transaction()

    def test_lost_commit_answer_is_pending_then_settled_by_status(self):
        """The commit reaches Transbank but its answer is lost: pending, never failed."""
        for fault in ("drop", "status", "malformed"):
            with self.subTest(fault=fault):
                tx, _form = self._open_webpay_transaction(reference=f"LOST-{fault}")
                self._shopper_decides(tx, "approve")
                self.transbank.inject_fault(
                    fault, path=r"/transactions/[^/]+$", after_handling=True, status=503
                )
                with mute_logger("odoo.addons.payment_latam.models.webpay_flow"):
                    self._return(token_ws=tx.provider_reference)
                self.assertEqual(tx.state, "pending")
                self.assertEqual(self.transbank.commits_of(tx.provider_reference), 1)

                self._age(tx, minutes=20)
                self.env["payment.transaction"]._cron_webpay_check_pending()
                self.assertEqual(tx.state, "done")
                self.assertTrue(tx.webpay_authorization_code)
                self.assertEqual(self.transbank.commits_of(tx.provider_reference), 1)

    def test_return_after_a_lost_answer_asks_status_instead_of_failing(self):
        tx, _form = self._open_webpay_transaction()
        self._shopper_decides(tx, "approve")
        self.transbank.inject_fault("drop", path=r"/transactions/[^/]+$", after_handling=True)
        with mute_logger("odoo.addons.payment_latam.models.webpay_flow"):
            self._return(token_ws=tx.provider_reference)
            self.assertEqual(tx.state, "pending")
            self._return(token_ws=tx.provider_reference)  # the shopper refreshes
        self.assertEqual(tx.state, "done")  # settled by status
        # Never a blind retry: the refresh asked status, it did not commit again.
        self.assertEqual(self.transbank.commits_of(tx.provider_reference), 1)

    def test_cron_cancels_abandoned_payments_and_leaves_fresh_ones(self):
        abandoned, _form = self._open_webpay_transaction(reference="ABANDONED")
        fresh, _form = self._open_webpay_transaction(reference="FRESH")
        self._age(abandoned, minutes=30)
        settled = self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(settled, abandoned)
        self.assertEqual(abandoned.state, "cancel")
        self.assertEqual(fresh.state, "draft")

    def test_cron_keeps_pending_while_transbank_is_unreachable(self):
        tx, _form = self._open_webpay_transaction()
        self._shopper_decides(tx, "approve")
        self._age(tx, minutes=30)
        self.transbank.inject_fault("status", times=0, status=500)
        with mute_logger("odoo.addons.payment_latam.models.webpay_flow"):
            self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(tx.state, "pending")

    def test_abort_after_an_unknown_commit_does_not_cancel_a_taken_payment(self):
        tx, _form = self._open_webpay_transaction()
        self._shopper_decides(tx, "approve")
        self.transbank.inject_fault("drop", path=r"/transactions/[^/]+$", after_handling=True)
        with mute_logger("odoo.addons.payment_latam.models.webpay_flow"):
            self._return(token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "pending")
        self._return(
            "POST",
            TBK_TOKEN=tx.provider_reference,
            TBK_ORDEN_COMPRA=tx.reference,
            TBK_ID_SESION=tx.webpay_session_id,
        )
        self.assertEqual(tx.state, "done")

    def test_refused_credentials_never_cancel_an_unknown_payment(self):
        tx, _form = self._open_webpay_transaction()
        self._shopper_decides(tx, "approve")
        self.transbank.inject_fault("drop", path=r"/transactions/[^/]+$", after_handling=True)
        with mute_logger("odoo.addons.payment_latam.models.webpay_flow"):
            self._return(token_ws=tx.provider_reference)
            self._age(tx, minutes=30)
            self.provider.webpay_test_api_key = "rotated-by-mistake"  # Transbank answers 401
            self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(tx.state, "pending")
