from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.payment_latam.gateways import webpay_soap_oneclick as soap_oneclick
from odoo.addons.payment_latam.models import webpay_soap_oneclick_flow
from odoo.addons.payment_latam.simulators.webpay_soap_oneclick import (
    MALL_FORM_PATH,
    MALL_PATH,
    TEST_CARD_LAST4,
)
from odoo.addons.payment_latam.tests.webpay_soap_common import WebpaySoapCommon

FLOW_LOGGER = "odoo.addons.payment_latam.models.webpay_soap_oneclick_flow"
REST_LOGGER = "odoo.addons.payment_latam.models.webpay_oneclick"
MALL = "597044444401"
STORE = "597044444402"
REST_AUTHORIZE = r"/oneclick/v1\.2/transactions$"


@tagged("post_install", "-at_install", "payment_latam", "webpay")
class TestWebpaySoapOneclickFlow(WebpaySoapCommon):
    """Saved cards over SOAP Oneclick Mall: Odoo behaves as with REST."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider.allow_tokenization = True
        cls.partner.email = "camila.rojas@example.cl"

    def setUp(self):
        super().setUp()
        with self.transbank.state_lock:
            self.transbank._oneclick_setup()  # the REST simulator too: the database rolled back

    # --- helpers ---

    def _start_saving_a_card(self, reference="WP-SOAP-SAVE-1", **values):
        tx = self._create_transaction("redirect", reference=reference, tokenize=True, **values)
        processing_values = tx._get_processing_values()
        form = self._extract_values_from_html_form(processing_values["redirect_form_html"])
        return tx, form

    def _inscription_return(self, token):
        url = self._build_url("/payment/webpay/oneclick/return")
        return self._make_http_post_request(url, {"TBK_TOKEN": token})

    def _save_card(self, reference="WP-SOAP-SAVE-1", **values):
        tx, form = self._start_saving_a_card(reference, **values)
        self.soap_transbank._oc_decide(form["inputs"]["TBK_TOKEN"], "accept")
        self._inscription_return(form["inputs"]["TBK_TOKEN"])
        return tx

    def _pay_with(self, token, reference):
        tx = self._create_transaction("token", reference=reference, token_id=token.id)
        tx._send_payment_request()
        return tx

    def _operation(self, tx):
        return self.soap_transbank.oneclick_mall_operation(tx.provider_reference, MALL)

    # === Inscription === #

    def test_save_my_card_inscribes_over_soap_then_pays_with_the_new_token(self):
        tx, form = self._start_saving_a_card()
        self.assertEqual(form["action"], f"{self.soap_transbank.url}{MALL_FORM_PATH}")
        self.assertEqual(list(form["inputs"]), ["TBK_TOKEN"])
        self.assertEqual(tx.webpay_api, "soap")
        self.assertEqual(len(self._soap_calls("initInscription")), 1)
        self.assertFalse(self.transbank.requests, "nothing went to the REST API")

        self.soap_transbank._oc_decide(form["inputs"]["TBK_TOKEN"], "accept")
        response = self._inscription_return(form["inputs"]["TBK_TOKEN"])
        self.assertEqual(response.status_code, 200)

        token = tx.token_id
        (inscription,) = self.soap_transbank.oneclick_users("mall")
        self.assertEqual(inscription["owner"], MALL)
        self.assertEqual(token.provider_ref, inscription["tbk_user"])
        self.assertEqual(token.webpay_oneclick_username, inscription["username"])
        self.assertEqual(token.payment_details, TEST_CARD_LAST4)
        self.assertEqual(token.webpay_api, "soap")
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.webpay_product, "oneclick")
        self.assertTrue(tx.webpay_authorization_code)
        self.assertEqual(tx.webpay_store_code, STORE)
        operation = self._operation(tx)
        self.assertTrue(tx.provider_reference.isdigit())
        (part,) = operation["parts"]
        self.assertEqual(part["commerce_code"], STORE)
        self.assertEqual(part["buy_order"], tx.webpay_store_buy_order)
        self.assertEqual(part["amount"], 15990)
        self.assertEqual(part["authorization_code"], tx.webpay_authorization_code)
        self.assertFalse(self.transbank.requests, "nothing went to the REST API")

    def test_refreshed_return_finishes_and_charges_once(self):
        tx = self._save_card()
        self._inscription_return(tx.webpay_inscription_token)
        self.assertEqual(tx.state, "done")
        self.assertEqual(len(self._soap_calls("finishInscription")), 1)
        self.assertEqual(len(self._soap_calls("authorize")), 1)

    def test_aborted_inscription_saves_nothing_and_charges_nothing(self):
        tx, form = self._start_saving_a_card()
        self.soap_transbank._oc_decide(form["inputs"]["TBK_TOKEN"], "abort")
        self._inscription_return(form["inputs"]["TBK_TOKEN"])
        self.assertEqual(tx.state, "cancel")
        self.assertFalse(tx.token_id)
        self.assertFalse(self._soap_calls("authorize"))

    def test_adding_a_card_without_paying_only_saves_it(self):
        tx = self._save_card(reference="WP-SOAP-VALIDATE-1", operation="validation", amount=0)
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.token_id.active)
        self.assertEqual(tx.token_id.webpay_api, "soap")
        self.assertFalse(self._soap_calls("authorize"))

    # === Payments with the saved card === #

    def test_paying_with_a_saved_card_is_authorized_server_side_once(self):
        token = self._save_card().token_id
        tx = self._pay_with(token, "WP-SOAP-TOKEN-2")
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.webpay_api, "soap")
        self.assertTrue(tx.webpay_authorization_code)
        self.assertEqual(tx.webpay_card_last4, TEST_CARD_LAST4)
        self.assertEqual(self._operation(tx)["parts"][0]["status"], "AUTHORIZED")
        self.assertEqual(len(self._soap_calls("authorize")), 2)
        tx._send_payment_request()  # a repeated call must not charge again
        self.assertEqual(len(self._soap_calls("authorize")), 2)

    def test_declined_saved_card_is_an_error_with_a_reason(self):
        token = self._save_card().token_id
        self.soap_transbank.rejected_stores.add(STORE)
        tx = self._pay_with(token, "WP-SOAP-TOKEN-3")
        self.assertEqual(tx.state, "error")
        self.assertIn("declined", tx.state_message)
        self.assertEqual(tx.webpay_response_code, -1)

    def test_payment_over_the_saved_card_limit_says_so(self):
        token = self._save_card().token_id
        self.soap_transbank.oneclick_amount_limit = 1000
        tx = self._pay_with(token, "WP-SOAP-TOKEN-LIMIT")
        self.assertEqual(tx.state, "error")
        self.assertIn("limits", tx.state_message)

    def test_authorization_refused_by_transbank_is_an_error(self):
        token = self._save_card().token_id
        token.provider_ref = "unknown-tbk-user"  # Transbank has no such inscription
        with mute_logger(FLOW_LOGGER):
            tx = self._pay_with(token, "WP-SOAP-TOKEN-REFUSED")
        self.assertEqual(tx.state, "error")
        self.assertIn("No payment was made", tx.state_message)

    def test_lost_authorization_answer_is_reversed_at_once_and_cancelled(self):
        token = self._save_card().token_id
        self.soap_transbank.inject_fault("drop", path=MALL_PATH, after_handling=True)
        with mute_logger(FLOW_LOGGER):
            tx = self._pay_with(token, "WP-SOAP-TOKEN-4")
        self.assertEqual(tx.state, "cancel")
        self.assertIn("reversed", tx.state_message)
        operation = self._operation(tx)
        self.assertTrue(operation["reversed"], "Transbank undid the charge")
        self.assertEqual(operation["parts"][0]["balance"], 0)
        self.assertEqual(len(self._soap_calls("authorize")), 2, "never authorized again")
        self.assertEqual(len(self._soap_calls("reverse")), 1)

    def test_authorization_that_never_arrived_is_cancelled(self):
        token = self._save_card().token_id
        self.soap_transbank.inject_fault("drop", path=MALL_PATH)  # before Transbank saw it
        with mute_logger(FLOW_LOGGER):
            tx = self._pay_with(token, "WP-SOAP-TOKEN-5")
        self.assertEqual(tx.state, "cancel")
        self.assertIn("did not reach Transbank", tx.state_message)
        self.assertIsNone(self._operation(tx))
        self.assertEqual(len(self._soap_calls("authorize")), 2)

    def test_lost_reversal_answer_stays_pending_then_the_cron_settles_it(self):
        token = self._save_card().token_id
        # Authorize and its reversal both happen at Transbank; both answers are lost.
        self.soap_transbank.inject_fault("drop", path=MALL_PATH, times=2, after_handling=True)
        with mute_logger(FLOW_LOGGER):
            tx = self._pay_with(token, "WP-SOAP-TOKEN-6")
        self.assertEqual(tx.state, "pending")
        self.assertTrue(self._operation(tx)["reversed"])
        self._age(tx, minutes=3)
        with mute_logger(FLOW_LOGGER, REST_LOGGER):
            self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(tx.state, "cancel")
        self.assertEqual(len(self._soap_calls("authorize")), 2, "never authorized again")
        self.assertFalse(self.transbank.requests, "the REST cron left the SOAP payment alone")

    def test_too_late_to_reverse_stays_pending_for_a_person(self):
        token = self._save_card().token_id
        self.soap_transbank.inject_fault("drop", path=MALL_PATH, after_handling=True)
        with (
            patch.object(soap_oneclick.AuthorizeUnknown, "reverse_seconds_left", lambda _e: 0.0),
            mute_logger(FLOW_LOGGER),
        ):
            tx = self._pay_with(token, "WP-SOAP-TOKEN-7")
        self.assertEqual(tx.state, "pending")
        self.assertFalse(self._soap_calls("reverse"), "no reversal outside its window")
        self.soap_transbank.oneclick_age(tx.provider_reference, 120)
        self._age(tx, minutes=3)
        with mute_logger(FLOW_LOGGER, REST_LOGGER):
            self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(tx.state, "pending", "Transbank kept it: a person must look")
        self.assertIn("Our staff will check it", tx.state_message)
        self.assertFalse(self._operation(tx)["reversed"])
        self.assertEqual(len(self._soap_calls("authorize")), 2, "never authorized again")

    # === Refunds === #

    def test_nullify_is_sent_for_the_store_part_of_the_sale(self):
        # The Refund button goes through webpay_soap_after_sale (not this flow's), which
        # must hand Oneclick sales to `webpay_soap_oneclick_flow.refund`: the wire is this.
        tx = self._save_card()
        result = webpay_soap_oneclick_flow.refund(tx, 5990)
        self.assertTrue(result.accepted)
        self.assertEqual(result.type, "NULLIFIED")
        self.assertEqual(result.nullified_amount, 5990)
        self.assertEqual(result.balance, 10000)
        part = self._operation(tx)["parts"][0]
        self.assertEqual(part["status"], "PARTIALLY_NULLIFIED")
        self.assertEqual(part["balance"], 10000)
        (call,) = self._soap_calls("nullify")
        self.assertIn(tx.webpay_store_buy_order.encode(), call.body)
        self.assertIn(STORE.encode(), call.body)
        self.assertFalse(self.transbank.requests, "nothing went to the REST API")

    def _refund(self, tx, amount):
        tx.action_refund(amount_to_refund=amount)
        return tx.child_transaction_ids

    def test_saved_card_payment_is_refunded_by_nullifying_its_store_part(self):
        tx = self._save_card()
        refund = self._refund(tx, 15990)
        self.assertEqual(refund.state, "done")
        self.assertEqual(refund.webpay_refund_type, "NULLIFIED")
        self.assertEqual(refund.webpay_balance, 0)
        self.assertTrue(refund.webpay_authorization_code)
        self.assertEqual(tx.webpay_status, "NULLIFIED")
        part = self._operation(tx)["parts"][0]
        self.assertEqual(part["status"], "NULLIFIED")
        self.assertEqual(part["balance"], 0)
        self.assertEqual(len(self._soap_calls("nullify")), 1)

    def test_partial_refund_leaves_the_balance(self):
        tx = self._save_card()
        refund = self._refund(tx, 5990)
        self.assertEqual(refund.state, "done")
        self.assertEqual(refund.webpay_balance, 10000)
        self.assertEqual(tx.webpay_status, "PARTIALLY_NULLIFIED")
        self.assertEqual(self._operation(tx)["parts"][0]["balance"], 10000)

    def test_lost_refund_answer_stays_pending(self):
        tx = self._save_card()
        self.soap_transbank.inject_fault("drop", path=MALL_PATH, after_handling=True)
        with mute_logger(
            "odoo.addons.payment_latam.models.webpay_after_sale",
            "odoo.addons.payment_latam.models.webpay_soap_after_sale",
        ):
            refund = self._refund(tx, 15990)
        self.assertEqual(refund.state, "pending")
        self.assertEqual(len(self._soap_calls("nullify")), 1, "never nullified again")

    # === Deleting the saved card === #

    def test_archiving_the_token_removes_the_inscription(self):
        token = self._save_card().token_id
        token.action_archive()
        self.assertFalse(token.active)
        self.assertEqual(self.soap_transbank.oneclick_users("mall"), [])
        self.assertEqual(len(self._soap_calls("removeInscription")), 1)

    def test_token_stays_when_transbank_cannot_be_reached_to_remove_it(self):
        token = self._save_card().token_id
        self.soap_transbank.inject_fault("drop", path=MALL_PATH)
        with (
            mute_logger(FLOW_LOGGER),
            self.assertRaisesRegex(UserError, "still saved"),
            self.env.cr.savepoint(),
        ):
            token.action_archive()
        token.invalidate_recordset()
        self.assertTrue(token.active)
        self.assertEqual(len(self.soap_transbank.oneclick_users("mall")), 1)

    # === Each card stays on the API it was saved with === #

    def test_a_rest_token_stays_rest_after_the_switch_to_soap(self):
        # Save a card over REST (Transbank serves both APIs on one host: here, two).
        self.provider.write({"webpay_api": "rest", "webpay_test_api_url": self.transbank.url})
        tx, form = self._start_saving_a_card(reference="WP-REST-SAVE-1")
        self.transbank._decide_inscription(form["inputs"]["TBK_TOKEN"], "accept")
        self._inscription_return(form["inputs"]["TBK_TOKEN"])
        token = tx.token_id
        self.assertEqual(token.webpay_api, "rest")
        self.provider.webpay_api = "soap"

        paid = self._pay_with(token, "WP-REST-TOKEN-2")
        self.assertEqual(paid.state, "done")
        self.assertEqual(paid.webpay_api, "rest")
        self.assertEqual(len(self.transbank.requests_to(REST_AUTHORIZE, method="POST")), 2)
        self.assertFalse(self.soap_transbank.requests, "nothing went to the SOAP API")
        token.action_archive()
        self.assertEqual(self.transbank.active_inscriptions(), [])
        self.assertFalse(self.soap_transbank.requests, "nothing went to the SOAP API")

    def test_a_soap_token_stays_soap_after_the_switch_back_to_rest(self):
        token = self._save_card().token_id
        self.provider.webpay_api = "rest"
        tx = self._pay_with(token, "WP-SOAP-TOKEN-8")
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.webpay_api, "soap")
        self.assertEqual(len(self._soap_calls("authorize")), 2)
        self.assertFalse(self.transbank.requests, "nothing went to the REST API")
