import base64
import re
from datetime import datetime, timedelta
from html import unescape
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.payment_latam.gateways import webpay_soap_const as soap_const
from odoo.addons.payment_latam.models import webpay_soap_flow
from odoo.addons.payment_latam.simulators.test_pki import make_key_and_certificate
from odoo.addons.payment_latam.simulators.webpay_soap import TEST_CARD_LAST4
from odoo.addons.payment_latam.tests.webpay_soap_common import WebpaySoapCommon, b64

FLOW_LOGGER = "odoo.addons.payment_latam.models.webpay_soap_flow"
CONTROLLER_LOGGER = "odoo.addons.payment_latam.controllers.webpay_soap"


def auto_form(page):
    """(action, fields) of the auto-submitted form of a page."""
    action = unescape(re.search(r'<form[^>]* action="([^"]*)"', page).group(1))
    return action, dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))


@tagged("post_install", "-at_install", "payment_latam", "webpay")
class TestWebpaySoapFlow(WebpaySoapCommon):
    def _open(self, **values):
        tx, form = self._open_webpay_transaction(**values)
        self.assertEqual(tx.webpay_api, "soap")
        return tx, form

    def _sale(self, tx):
        return self.soap_transbank.transaction(tx.provider_reference)

    # === Opening === #

    def test_opening_signs_an_init_transaction_and_posts_the_token_to_transbank(self):
        tx, form = self._open()
        self.assertEqual(form["method"], "post")
        self.assertTrue(form["action"].startswith(self.soap_transbank.url))
        self.assertEqual(form["inputs"], {"token_ws": tx.provider_reference})
        (init,) = self._soap_calls("initTransaction")
        self.assertIn(b"wsse:Security", init.body)
        sale = self._sale(tx)
        self.assertEqual(sale["buy_order"], tx.reference)
        self.assertEqual(sale["owner"], soap_const.INTEGRATION_NORMAL_COMMERCE_CODE)
        self.assertTrue(sale["return_url"].endswith(webpay_soap_flow.RETURN_ROUTE))
        self.assertTrue(sale["final_url"].endswith(webpay_soap_flow.FINAL_ROUTE))
        self.assertEqual(sale["details"][0]["amount"], 15990)
        self.assertFalse(self.transbank.requests, "nothing went to the REST API")

    @mute_logger("odoo.addons.payment_latam.models.webpay_flow")
    def test_a_certificate_transbank_does_not_know_is_refused_and_nothing_opens(self):
        key, certificate = make_key_and_certificate("Unknown merchant")
        self.provider.write(
            {
                "webpay_test_soap_private_key": b64(key),
                "webpay_test_soap_certificate": b64(certificate),
            }
        )
        self.addCleanup(
            self.provider.write,
            {
                "webpay_test_soap_private_key": b64(self.soap_transbank.integration_key_pem),
                "webpay_test_soap_certificate": b64(
                    self.soap_transbank.integration_certificate_pem
                ),
            },
        )
        tx = self._create_transaction("redirect", reference="WP-SOAP-BADCERT")
        with self.assertRaisesRegex(Exception, "Webpay refused to open the payment"):
            tx._get_processing_values()
        self.assertFalse(tx.provider_reference)
        self.assertEqual(tx.state, "draft")
        self.assertFalse(self.soap_transbank.transactions)

    def test_without_its_key_and_certificates_soap_says_what_is_missing(self):
        self.provider.webpay_test_soap_certificate = False
        self.addCleanup(
            setattr,
            self.provider,
            "webpay_test_soap_certificate",
            b64(self.soap_transbank.integration_certificate_pem),
        )
        tx = self._create_transaction("redirect", reference="WP-SOAP-NOKEY")
        with self.assertRaisesRegex(Exception, "private key, its certificate"):
            tx._get_processing_values()
        self.assertFalse(self._soap_calls("initTransaction"))

    # === Returns === #

    def test_approved_payment_is_read_acknowledged_done_and_sent_to_the_voucher(self):
        tx, _form = self._open()
        self._shopper_decides(tx, "approve")
        response = self._return(token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.webpay_status, "AUTHORIZED")
        self.assertTrue(tx.webpay_authorization_code)
        self.assertEqual(tx.webpay_card_last4, TEST_CARD_LAST4)
        self.assertEqual(tx.webpay_payment_type, "VN")
        # Transbank's MMDDHHmm in Chile's time, read back as this very moment in UTC.
        self.assertAlmostEqual(
            tx.webpay_transaction_date, fields.Datetime.now(), delta=timedelta(minutes=2)
        )
        self.assertEqual(len(self._soap_calls("getTransactionResult")), 1)
        self.assertEqual(len(self._soap_calls("acknowledgeTransaction")), 1)
        self.assertTrue(self._sale(tx)["acknowledged"])
        # Transbank's flow: the browser is sent to its voucher, which goes on to finalURL.
        action, inputs = auto_form(response.text)
        self.assertEqual(action, tx.webpay_soap_voucher_url)
        self.assertTrue(action.startswith(self.soap_transbank.url))
        self.assertEqual(inputs, {"token_ws": tx.provider_reference})

        final = self._final(token_ws=tx.provider_reference)
        self.assertEqual(final.status_code, 200)  # followed to /payment/status
        self.assertEqual(tx.state, "done")
        self.assertEqual(len(self._soap_calls("getTransactionResult")), 1, "read once only")

    def test_a_repeated_return_reads_nothing_twice(self):
        tx, _form = self._open()
        self._shopper_decides(tx, "approve")
        self._return(token_ws=tx.provider_reference)
        self._return(token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "done")
        self.assertEqual(len(self._soap_calls("getTransactionResult")), 1)
        self.assertEqual(len(self._soap_calls("acknowledgeTransaction")), 1)

    def test_rejected_card_is_an_error_acknowledged_and_no_voucher(self):
        tx, _form = self._open()
        self._shopper_decides(tx, "reject")
        response = self._return(token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "error")
        self.assertIn("declined", tx.state_message)
        self.assertEqual(len(self._soap_calls("acknowledgeTransaction")), 1)
        self.assertNotIn(self.soap_transbank.url, response.text, "no voucher for a refusal")

    @mute_logger(FLOW_LOGGER)
    def test_abort_asks_transbank_which_answers_272_and_the_payment_is_cancelled(self):
        tx, _form = self._open()
        self._shopper_decides(tx, "abort")
        self._final(
            TBK_TOKEN=tx.provider_reference,
            TBK_ORDEN_COMPRA=tx.reference,
            TBK_ID_SESION=tx.webpay_session_id,
        )
        self.assertEqual(tx.state, "cancel")
        self.assertIn("You cancelled", tx.state_message)
        self.assertEqual(len(self._soap_calls("getTransactionResult")), 1)
        self.assertFalse(self._soap_calls("acknowledgeTransaction"))

    @mute_logger(FLOW_LOGGER)
    def test_timeout_and_form_error_cancel_the_payment(self):
        expired, _form = self._open(reference="WP-SOAP-TIMEOUT")
        self._shopper_decides(expired, "timeout")
        self._final(TBK_ORDEN_COMPRA=expired.reference, TBK_ID_SESION=expired.webpay_session_id)
        self.assertEqual(expired.state, "cancel")
        self.assertIn("ran out", expired.state_message)

        broken, _form = self._open(reference="WP-SOAP-FORMERR")
        self._shopper_decides(broken, "form_error")
        self._final(TBK_TOKEN=broken.provider_reference, token_ws=broken.provider_reference)
        self.assertEqual(broken.state, "cancel")
        self.assertIn("reported an error", broken.state_message)

    @mute_logger(CONTROLLER_LOGGER)
    def test_an_unknown_token_changes_nothing(self):
        tx, _form = self._open()
        response = self._return(token_ws="f" * 64)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(tx.state, "draft")
        self.assertFalse(self._soap_calls("getTransactionResult"))

    # === What we did not see === #

    @mute_logger(FLOW_LOGGER)
    def test_a_lost_result_is_never_acknowledged_so_transbank_reverses_it(self):
        tx, _form = self._open()
        self._shopper_decides(tx, "approve")
        self.soap_transbank.inject_fault("drop", path="WSWebpayService", after_handling=True)
        self._return(token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "cancel")
        self.assertIn("Transbank reverses it", tx.state_message)
        self.assertFalse(self._soap_calls("acknowledgeTransaction"))
        self.soap_transbank.clock.advance(31)
        self.assertEqual(self._sale(tx)["details"][0]["status"], "REVERSED")

    @mute_logger(FLOW_LOGGER)
    def test_a_tampered_or_unsigned_result_is_refused_and_never_acknowledged(self):
        for switch, reference in (
            ("tamper_responses", "WP-SOAP-TAMP"),
            ("sign_responses", "WP-SOAP-UNS"),
        ):
            tx, _form = self._open(reference=reference)
            self._shopper_decides(tx, "approve")
            setattr(self.soap_transbank, switch, switch == "tamper_responses")
            self._return(token_ws=tx.provider_reference)
            self.soap_transbank.reset_log()
            setattr(self.soap_transbank, switch, switch != "tamper_responses")
            self.assertEqual(tx.state, "cancel", switch)
            self.assertFalse(tx.webpay_authorization_code, "nothing of a forged answer is kept")
            self.assertFalse(self._sale(tx)["acknowledged"], switch)

    @mute_logger(FLOW_LOGGER)
    def test_a_lost_acknowledgement_is_sent_again_within_the_window(self):
        tx, _form = self._open()
        self._shopper_decides(tx, "approve")
        self._lose_the_next_answer_after_the_result()
        self._return(token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "done")
        self.assertEqual(len(self._soap_calls("acknowledgeTransaction")), 2)
        self.assertTrue(self._sale(tx)["acknowledged"])

    @mute_logger(FLOW_LOGGER)
    def test_an_acknowledgement_never_confirmed_leaves_the_payment_for_a_person(self):
        tx, _form = self._open()
        self._shopper_decides(tx, "approve")
        self._lose_the_next_answer_after_the_result(times=0)  # every answer lost
        # A shorter window than Transbank's 30 s: the client keeps trying until it closes.
        with patch.object(soap_const, "ACKNOWLEDGE_WINDOW_SECONDS", 6):
            self._return(token_ws=tx.provider_reference)
        self.soap_transbank.clear_faults()
        self.assertEqual(tx.state, "pending")
        self.assertEqual(tx.webpay_pending_operation, "acknowledge")
        self.assertIn("Our staff will check it", tx.state_message)
        self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(tx.state, "pending", "nothing on the wire can settle it")
        self.assertEqual(len(self._soap_calls("getTransactionResult")), 1)
        self.assertTrue(tx.webpay_authorization_code, "what Transbank said is kept for the check")

        # An accounting manager compares with Transbank's portal and decides.
        billing = new_test_user(
            self.env, login="soap_billing", groups="base.group_user,account.group_account_invoice"
        )
        manager = new_test_user(
            self.env, login="soap_manager", groups="base.group_user,account.group_account_manager"
        )
        with self.assertRaises(AccessError):
            tx.with_user(billing).action_webpay_soap_confirm_paid()
        tx.with_user(manager).action_webpay_soap_confirm_paid()
        self.assertEqual(tx.state, "done")
        self.assertFalse(tx.webpay_pending_operation)
        with self.assertRaisesRegex(UserError, "not waiting for a decision"):
            tx.with_user(manager).action_webpay_soap_confirm_not_paid()

    def _lose_the_next_answer_after_the_result(self, times=1):
        """Once Transbank has answered the result, lose the answers that follow
        (the acknowledgements land, their answers do not come back)."""
        simulator = self.soap_transbank
        original = simulator._get_transaction_result

        def result_then_lose(call):
            answer = original(call)
            simulator.inject_fault("drop", path="WSWebpayService", after_handling=True, times=times)
            return answer

        simulator._get_transaction_result = result_then_lose
        self.addCleanup(vars(simulator).pop, "_get_transaction_result", None)

    @mute_logger(FLOW_LOGGER)
    def test_a_refused_acknowledgement_is_an_error_transbank_reverses(self):
        tx, _form = self._open()
        self._shopper_decides(tx, "approve")
        self.soap_transbank.forced_faults = {"acknowledgeTransaction": 310}
        self._return(token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "error")
        self.assertIn("reverses it", tx.state_message)

    @mute_logger(FLOW_LOGGER)
    def test_the_cron_reads_the_result_of_a_shopper_who_never_came_back(self):
        paid, _form = self._open(reference="WP-SOAP-GONE")
        self._shopper_decides(paid, "approve")
        left, _form = self._open(reference="WP-SOAP-LEFT")
        fresh, _form = self._open(reference="WP-SOAP-FRESH")
        for tx in (paid, left):
            self._age(tx, 20)
            self.soap_transbank.age(tx.provider_reference, 20 * 60)
        self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(paid.state, "done")
        self.assertTrue(self._sale(paid)["acknowledged"])
        self.assertEqual(left.state, "cancel", "never paid: Transbank has no result for it")
        self.assertEqual(fresh.state, "draft", "still within the form's 10 minutes")
        self.assertFalse(self.transbank.requests, "no REST status call for SOAP payments")

    @mute_logger(FLOW_LOGGER)
    def test_a_result_about_another_amount_is_never_acknowledged(self):
        tx, _form = self._open(reference="WP-SOAP-OTHER")
        self._shopper_decides(tx, "approve")
        tx.amount = 1000  # Transbank authorized 15 990 pesos
        self._return(token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "error")
        self.assertIn("did not match this payment", tx.state_message)
        self.assertFalse(self._soap_calls("acknowledgeTransaction"))
        self.soap_transbank.clock.advance(31)
        self.assertEqual(self._sale(tx)["details"][0]["status"], "REVERSED")

    @mute_logger(FLOW_LOGGER)
    def test_when_transbank_cannot_be_reached_the_payment_waits_to_be_read(self):
        tx, _form = self._open(reference="WP-SOAP-NOCONN")
        self._shopper_decides(tx, "approve")
        self.provider.webpay_test_api_url = "http://127.0.0.1:9"  # nothing listens there
        self.addCleanup(setattr, self.provider, "webpay_test_api_url", self.soap_transbank.url)
        self._return(token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "draft", "not read: nothing is known, nothing changes")
        self.provider.webpay_test_api_url = self.soap_transbank.url
        self._return(token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "done")

    @mute_logger(FLOW_LOGGER)
    def test_a_result_read_before_is_never_taken_for_an_unpaid_payment(self):
        tx, _form = self._open(reference="WP-SOAP-READ")
        self._shopper_decides(tx, "approve")
        # An earlier read whose handling was rolled back: Transbank will not answer again.
        webpay_soap_flow.client_for(self.provider).get_transaction_result(tx.provider_reference)
        self._return(token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "pending")
        self.assertEqual(tx.webpay_pending_operation, "result")
        self.assertIn("Our staff will check it", tx.state_message)

    def test_keys_and_certificates_that_cannot_work_are_refused_on_upload(self):
        key, _certificate = make_key_and_certificate("Another merchant")
        with self.assertRaisesRegex(ValidationError, "does not belong"), self.env.cr.savepoint():
            self.provider.webpay_test_soap_private_key = b64(key)
        with self.assertRaisesRegex(ValidationError, "not a PEM X.509"), self.env.cr.savepoint():
            self.provider.webpay_test_soap_transbank_certificate = b64(b"not a certificate")
        self.assertEqual(
            base64.b64decode(self.provider.webpay_test_soap_private_key),
            self.soap_transbank.integration_key_pem,
            "nothing was stored",
        )

    # === Mall, and the API a payment was opened with === #

    def test_mall_payment_reads_its_store_part(self):
        self.provider.webpay_mall = True
        self.addCleanup(setattr, self.provider, "webpay_mall", False)
        tx, _form = self._open(reference="WP-SOAP-MALL")
        self.assertEqual(tx.webpay_product, "mall")
        self.assertEqual(tx.webpay_store_code, soap_const.INTEGRATION_MALL_STORE_CODES[0])
        self.assertEqual(self._sale(tx)["owner"], soap_const.INTEGRATION_MALL_COMMERCE_CODE)
        self._shopper_decides(tx, "approve")
        self._return(token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.webpay_status, "AUTHORIZED")

    def test_a_payment_opened_over_rest_is_finished_over_rest_after_the_switch(self):
        self.provider.write({"webpay_api": "rest", "webpay_test_api_url": self.transbank.url})
        tx, _form = self._open_webpay_transaction(reference="WP-SOAP-SWITCH")
        self.assertEqual(tx.webpay_api, "rest")
        self.provider.webpay_api = "soap"
        self.addCleanup(
            self.provider.write,
            {"webpay_api": "soap", "webpay_test_api_url": self.soap_transbank.url},
        )
        self.transbank._decide(tx.provider_reference, "approve")
        self._make_http_post_request(
            self._build_url("/payment/webpay/return"), {"token_ws": tx.provider_reference}
        )
        self.assertEqual(tx.state, "done")
        self.assertEqual(self._commit_calls(), 1)
        self.assertFalse(self._soap_calls("getTransactionResult"))

    # === Settings === #

    def test_soap_credentials_are_for_system_administrators_only(self):
        names = [
            f"webpay_{env}_soap_{name}"
            for env in ("test", "prod")
            for name in ("private_key", "certificate", "transbank_certificate")
        ]
        for name in names:
            self.assertEqual(self.provider._fields[name].groups, "base.group_system", name)
        self.assertTrue(base64.b64decode(self.provider.webpay_test_soap_private_key))

    def test_soap_transaction_dates_have_no_year(self):
        now = datetime(2027, 1, 1, 3, 0)  # 00:00 in Santiago (UTC-3 in summer)
        self.assertEqual(
            webpay_soap_flow.soap_datetime("12312350", now), datetime(2027, 1, 1, 2, 50)
        )
        self.assertEqual(
            webpay_soap_flow.soap_datetime("01010001", now), datetime(2027, 1, 1, 3, 1)
        )  # a minute ahead: clocks differ
        self.assertEqual(
            webpay_soap_flow.soap_datetime("01010030", now), datetime(2026, 1, 1, 3, 30)
        )
        self.assertFalse(webpay_soap_flow.soap_datetime("2026-01-01", now))
