from urllib.parse import parse_qs, urlsplit

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.payment_latam.tests.etpay_common import EtpayCommon


@tagged("post_install", "-at_install", "payment_latam", "etpay")
class TestEtpayCheckout(EtpayCommon):
    """Opening the session and sending the payer to ETpay's page."""

    def test_rendering_opens_a_session_and_sends_the_browser_to_its_page(self):
        tx, form = self._open_etpay_transaction()
        self.assertEqual(form["action"], f"{self.simulator.url}/session/{tx.provider_reference}")
        self.assertEqual(form["method"], "get")
        self.assertEqual(form["inputs"], {}, "the token travels in the path, nothing else")
        (initialize,) = self.simulator.requests_to(r"/session/initialize$", method="POST")
        payload = initialize.json()
        self.assertEqual(payload["merchant_order_id"], tx.reference)
        self.assertEqual(payload["order_amount"], 15990)
        self.assertIsInstance(payload["order_amount"], int)
        self.assertEqual(payload["customer_email"], self.partner.email)
        self.assertEqual(payload["merchant_code"], "cl_sandbox_tienda_demo")
        shown = {entry["name"]: entry["value"] for entry in payload["metadata"] if entry["show"]}
        self.assertEqual(shown["Order"], tx.reference)
        base = self.provider.get_base_url().rstrip("/")
        self.assertEqual(payload["payment_completed_url"], f"{base}/payment/etpay/return")
        self.assertEqual(payload["payment_cancellation_url"], f"{base}/payment/etpay/cancel")
        self.assertEqual(payload["payment_webhook_url"], f"{base}/payment/etpay/webhook")
        session = self.simulator.session(tx.provider_reference)
        self.assertEqual(self._signature_token(tx), session["signature_token"])

    def test_the_signature_token_never_reaches_the_browser_nor_non_admins(self):
        tx = self._create_transaction("redirect")
        html = tx._get_processing_values()["redirect_form_html"]
        secret = self._signature_token(tx)
        self.assertTrue(secret)
        self.assertNotIn(secret, html)
        with self.assertRaises(AccessError):
            tx.with_user(self.internal_user).read(["etpay_signature_token"])

    def test_the_customer_rut_is_prefilled_and_locked_when_configured(self):
        self.provider.write({"etpay_lock_rut": True, "etpay_bank_code": "cl_estado"})
        self._open_etpay_transaction()
        payload = self.simulator.requests_to(r"/session/initialize$")[-1].json()
        self.assertEqual(payload["user_rut"], "760864285")  # 76.086.428-5 without format
        self.assertIs(payload["is_rut_block"], True)
        self.assertEqual(payload["user_bank_code"], "cl_estado")

    def test_no_rut_is_sent_when_it_is_invalid_or_prefill_is_off(self):
        self.partner.vat = "76086428-4"  # wrong check digit
        self._open_etpay_transaction(reference="ET-RUT-1")
        self.assertNotIn("user_rut", self.simulator.requests_to(r"initialize$")[-1].json())
        self.partner.vat = "76086428-5"
        self.provider.etpay_prefill_rut = False
        self._open_etpay_transaction(reference="ET-RUT-2")
        self.assertNotIn("user_rut", self.simulator.requests_to(r"initialize$")[-1].json())

    def test_invoice_references_become_order_ids_etpay_accepts(self):
        reference = self.env["payment.transaction"]._compute_reference(
            "etpay", prefix="INV/2026/00042"
        )
        self.assertRegex(reference, r"^[A-Za-z0-9-]{1,64}$")
        self.assertIn("INV-2026-00042", reference)

    def test_a_path_in_the_api_url_is_kept(self):
        self.provider.etpay_test_api_url = f"{self.simulator.url}/sandbox/"
        with (
            mute_logger("odoo.addons.payment_latam.models.etpay_flow"),
            self.assertRaises(ValidationError),  # the simulator serves no /sandbox
        ):
            self._open_etpay_transaction()
        (call,) = self.simulator.requests
        self.assertEqual(call.path, "/sandbox/session/initialize")

    def test_refused_credentials_open_nothing_and_etpays_text_stays_in_the_log(self):
        self.provider.etpay_test_api_token = "not-the-token"
        tx = self._create_transaction("redirect")
        with (
            self.assertLogs("odoo.addons.payment_latam.models.etpay_flow", "WARNING") as logs,
            self.assertRaisesRegex(ValidationError, "ETpay refused to open the payment") as raised,
        ):
            tx._get_processing_values()
        self.assertNotIn("Invalid merchant credentials", str(raised.exception))
        self.assertIn("Invalid merchant credentials", "".join(logs.output))
        self.assertFalse(tx.provider_reference)

    @mute_logger("odoo.addons.payment_latam.models.etpay_flow")
    def test_unreachable_etpay_asks_to_try_again(self):
        self.simulator.inject_fault("drop", path="initialize")
        tx = self._create_transaction("redirect")
        with self.assertRaisesRegex(ValidationError, "could not be reached"):
            tx._get_processing_values()
        self.assertFalse(tx.provider_reference)

    def test_only_pesos(self):
        tx = self._create_transaction("redirect", currency_id=self.currency_usd.id)
        with self.assertRaisesRegex(ValidationError, "Chilean pesos"):
            tx._get_processing_values()
        self.assertFalse(self.simulator.requests)

    def test_etpay_declares_no_refunds_tokens_or_capture(self):
        self.assertEqual(self.provider.support_refund, "none")
        self.assertFalse(self.provider.support_tokenization)
        self.assertFalse(self.provider.support_manual_capture)
        self.assertEqual(self.provider._get_supported_currencies().mapped("name"), ["CLP"])


@tagged("post_install", "-at_install", "payment_latam", "etpay")
class TestEtpayOutcomes(EtpayCommon):
    """The signed outcome, by webhook and redirect, in every order; and the status."""

    def test_success_webhook_before_the_return_makes_the_payment_done(self):
        tx, _form = self._open_etpay_transaction()
        location = self._payer_decides(tx, "success")
        (delivery,) = self.simulator.webhook_deliveries
        self.assertEqual(delivery["status"], 200)
        self.assertEqual(tx.state, "done")
        session = self.simulator.session(tx.provider_reference)
        self.assertEqual(tx.etpay_payment_token, session["payment_token"])
        self.assertEqual(tx.etpay_payment_status, "success")
        changed_at = tx.last_state_change

        response = self._browser_returns(location)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith("/payment/status"))
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.last_state_change, changed_at, "the return changed nothing")
        self.assertEqual(self._status_calls(), 0)

    def test_webhook_after_the_return_is_idempotent(self):
        self.simulator.webhook_mode = "after_redirect"
        tx, _form = self._open_etpay_transaction()
        location = self._payer_decides(tx, "success")
        self.assertFalse(self.simulator.webhook_deliveries)
        self._browser_returns(location)
        self.assertEqual(tx.state, "done")
        changed_at = tx.last_state_change

        (delivery,) = self._deliver_webhooks()
        self.assertEqual(delivery["status"], 200)
        self.assertEqual(tx.last_state_change, changed_at)

    def test_duplicate_webhooks_are_answered_and_change_nothing(self):
        tx, _form = self._open_etpay_transaction()
        self._payer_decides(tx, "success")
        changed_at = tx.last_state_change
        for _attempt in range(3):
            self.assertEqual(self._resend_webhook(tx)["status"], 200)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.last_state_change, changed_at)
        self.assertEqual(tx.etpay_payment_status, "success")

    def test_cancelled_on_etpay_is_cancelled(self):
        self.simulator.webhook_mode = "never"
        tx, _form = self._open_etpay_transaction()
        location = self._payer_decides(tx, "cancelled")
        self.assertTrue(urlsplit(location).path.endswith("/payment/etpay/cancel"))
        self._browser_returns(location)
        self.assertEqual(tx.state, "cancel")
        self.assertIn("cancelled on ETpay", tx.state_message)

    def test_a_bank_error_is_an_error_with_the_reason(self):
        tx, _form = self._open_etpay_transaction()
        self._payer_decides(tx, "error")
        self.assertEqual(tx.state, "error")
        self.assertIn("ETpay status: error", tx.state_message)
        self.assertIn("No payment was made", tx.state_message)

    def test_a_return_without_jwt_is_resolved_by_status(self):
        self.simulator.webhook_mode = "never"
        self.simulator.cancel_redirect_carries_jwt = False
        tx, _form = self._open_etpay_transaction()
        self._monitor(tx)
        location = self._payer_decides(tx, "cancelled")
        self.assertNotIn("jwt", parse_qs(urlsplit(location).query))
        self._browser_returns(location)
        self.assertEqual(self._status_calls(), 1)
        self.assertEqual(tx.state, "cancel")

    def test_a_return_without_jwt_before_etpay_knows_leaves_it_pending(self):
        tx, _form = self._open_etpay_transaction()
        self._monitor(tx)
        self._browser_returns(f"{self.simulator.url}/payment/etpay/return")
        self.assertEqual(self._status_calls(), 1)
        self.assertEqual(tx.state, "pending")
        self.assertIn(
            "not charged twice", tx.state_message.replace("not be charged", "not charged")
        )

        # ETpay's webhook comes later: the payment becomes done.
        self._payer_decides(tx, "success")
        self.assertEqual(tx.state, "done")

    def test_a_signed_status_we_do_not_know_is_settled_by_asking_etpay(self):
        self.simulator.webhook_mode = "never"
        tx, _form = self._open_etpay_transaction()
        self._payer_decides(tx, "success")
        claims = {
            "session_token": tx.provider_reference,
            "merchant_order_id": tx.reference,
            "payment_status": "processing",
            "payment_token": "p-1",
        }
        jwt = self._sign(claims, self._signature_token(tx))
        self.assertEqual(self._post_webhook({"payment": jwt}).status_code, 200)
        self.assertEqual(self._status_calls(), 1)
        self.assertEqual(tx.state, "done", "ETpay's status says success")

    def test_a_signed_success_after_a_cancellation_is_recorded_not_ignored(self):
        self.simulator.webhook_mode = "never"
        tx, _form = self._open_etpay_transaction()
        self._payer_decides(tx, "cancelled")
        self.assertEqual(self._resend_webhook(tx)["status"], 200)
        self.assertEqual(tx.state, "cancel")
        success = self._success_claims(tx, payment_token="p-late")
        with mute_logger("odoo.addons.payment_latam.models.etpay_flow"):
            response = self._post_webhook(
                {"payment": self._sign(success, self._signature_token(tx))}
            )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.etpay_payment_token, "p-late")
        self.assertIn("after it had been closed", tx.state_message)

    def test_a_payment_refused_for_its_amount_stays_an_error(self):
        self.simulator.webhook_mode = "never"
        tx, _form = self._open_etpay_transaction()
        self._monitor(tx)
        self._payer_decides(tx, "success")
        self.simulator.status_overrides[tx.provider_reference] = {"order_amount": 1599}
        with mute_logger("odoo.addons.payment_latam.models.etpay_flow"):
            self._browser_returns(f"{self.simulator.url}/payment/etpay/return")
        self.assertEqual(tx.state, "error")
        jwt = self._sign(self._success_claims(tx), self._signature_token(tx))
        self.assertEqual(self._post_webhook({"payment": jwt}).status_code, 200)
        self.assertEqual(tx.state, "error", "a person must look at a mismatched amount")

    def test_an_unreadable_amount_in_a_signed_jwt_asks_etpay(self):
        self.simulator.webhook_mode = "never"
        tx, _form = self._open_etpay_transaction()
        self._payer_decides(tx, "success")
        claims = self._success_claims(tx, order_amount="quince mil")
        with mute_logger("odoo.addons.payment_latam.models.etpay_flow"):
            response = self._post_webhook(
                {"payment": self._sign(claims, self._signature_token(tx))}
            )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self._status_calls(), 1)
        self.assertEqual(tx.state, "done")

    def test_reloading_the_return_does_not_flood_etpay(self):
        tx, _form = self._open_etpay_transaction()
        self._monitor(tx)
        for _reload in range(3):
            self._browser_returns(f"{self.simulator.url}/payment/etpay/return")
        self.assertEqual(self._status_calls(), 1)
        self.assertEqual(tx.state, "pending")

    def test_an_oversized_webhook_is_refused_unread(self):
        tx, _form = self._open_etpay_transaction()
        with mute_logger("odoo.addons.payment_latam.controllers.etpay"):
            response = self._post_webhook({"payment": "x" * 20000})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(tx.state, "draft")

    def _success_claims(self, tx, **overrides):
        return {
            "session_token": tx.provider_reference,
            "merchant_order_id": tx.reference,
            "payment_status": "success",
            "payment_token": "p-1",
            **overrides,
        }

    def _sign(self, claims, key, header=None):
        from odoo.addons.payment_latam.simulators.etpay import sign_jwt

        return sign_jwt(claims, key, header)


@tagged("post_install", "-at_install", "payment_latam", "etpay")
class TestEtpayPendingCron(EtpayCommon):
    def _run_cron(self):
        self.env["payment.transaction"]._cron_etpay_check_pending()

    def test_a_payment_pending_past_the_delay_is_settled_by_status(self):
        self.simulator.webhook_mode = "never"
        tx, _form = self._open_etpay_transaction()
        self._payer_decides(tx, "success")
        self._run_cron()
        self.assertEqual(self._status_calls(), 0, "too young to ask about")
        self._age(tx, minutes=11)
        self._run_cron()
        self.assertEqual(self._status_calls(), 1)
        self.assertEqual(tx.state, "done")

    def test_an_unpaid_session_is_cancelled_after_its_lifetime_only(self):
        tx, _form = self._open_etpay_transaction()
        self._age(tx, minutes=30)
        self._run_cron()
        self.assertEqual(tx.state, "pending", "ETpay knows no payment yet; the payer may still pay")
        self._age(tx, minutes=31)
        self._run_cron()
        self.assertEqual(tx.state, "cancel")
        self.assertIn("expired without a payment", tx.state_message)

    @mute_logger("odoo.addons.payment_latam.models.etpay_flow")
    def test_an_unreachable_etpay_never_cancels(self):
        tx, _form = self._open_etpay_transaction()
        self._age(tx, minutes=120)
        self.simulator.inject_fault("status", path="check_payment_status", status=503, times=0)
        self._run_cron()
        self.assertIn(tx.state, ("draft", "pending"))
        self.assertEqual(self._status_calls(), 1)

    def test_a_sandbox_session_is_followed_up_in_the_sandbox_after_going_live(self):
        self.simulator.webhook_mode = "never"
        tx, _form = self._open_etpay_transaction()
        self.assertEqual(tx.etpay_environment, "test")
        self._payer_decides(tx, "success")
        self.provider.write(
            {
                "etpay_prod_merchant_code": "cl_tienda",
                "etpay_prod_api_token": "production-token",
                "etpay_prod_api_url": "http://127.0.0.1:9",  # nothing listens there
                "etpay_prod_payment_page_url": "http://127.0.0.1:9",
                "state": "enabled",
            }
        )
        self._age(tx, minutes=120)
        self._run_cron()
        self.assertEqual(self._status_calls(), 1, "asked the sandbox, where the session lives")
        self.assertEqual(tx.state, "done")

    def test_delays_are_configurable_and_checked(self):
        self.provider.write({"etpay_status_check_delay": 2, "etpay_session_lifetime": 5})
        tx, _form = self._open_etpay_transaction()
        self._age(tx, minutes=3)
        self._run_cron()
        self.assertEqual(self._status_calls(), 1)
        with self.assertRaises(ValidationError):
            self.provider.etpay_session_lifetime = 1
